package iptsave

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

func TestParseCapturedDumps(t *testing.T) {
	files, _ := filepath.Glob(testenv.Testdata(t, "firewall", "scenarios", "*", "*tables*.save"))
	if len(files) < 6 {
		t.Fatalf("found %d captured dumps", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Parse(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tb := range d.Tables {
			for _, r := range tb.Rules {
				for _, m := range r.Matches {
					for _, o := range m.Options {
						if o.Guessed {
							t.Errorf("%s line %d: option %s of -m %s guessed", f, r.Line, o.Name, m.Module)
						}
					}
				}
			}
		}
	}
}

func TestParseRule(t *testing.T) {
	in := `*filter
:INPUT DROP [12:345]
:REDIS - [0:0]
[3:180] -A INPUT ! -s 10.0.0.0/8 -p tcp -m tcp ! --dport 80 -m comment --comment -x -j LOG --log-prefix "a \"b\" \\c"
-A INPUT -p tcp --dport 6379 -g REDIS
-A REDIS -m set --match-set trusted src,dst -m foo --bar 1 2 --baz -j MARK --set-xmark 0x1/0xff
COMMIT
`
	d, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	tb := d.Table("filter")
	if tb == nil || len(tb.Rules) != 3 || tb.Chain("INPUT").Policy != "DROP" || tb.Chain("REDIS").Policy != "-" {
		t.Fatalf("structure: %+v", tb)
	}
	r := tb.Rules[0]
	want := []*Match{
		{Options: []Option{{Name: "-s", Neg: true, Values: []string{"10.0.0.0/8"}}, {Name: "-p", Values: []string{"tcp"}}}},
		{Module: "tcp", Options: []Option{{Name: "--dport", Neg: true, Values: []string{"80"}}}},
		{Module: "comment", Options: []Option{{Name: "--comment", Values: []string{"-x"}}}},
	}
	if !reflect.DeepEqual(r.Matches, want) {
		t.Errorf("matches = %+v", r.Matches)
	}
	if r.Target != "LOG" || r.TargetOptions[0].Values[0] != `a "b" \c` {
		t.Errorf("target = %q %+v", r.Target, r.TargetOptions)
	}
	r = tb.Rules[1]
	if !r.Goto || r.Target != "REDIS" || len(r.Matches) != 2 || !r.Matches[1].Implicit || r.Matches[1].Module != "tcp" {
		t.Errorf("implicit tcp / goto: %+v", r)
	}
	r = tb.Rules[2]
	if got := r.Matches[1].Options[0].Values; !reflect.DeepEqual(got, []string{"trusted", "src,dst"}) {
		t.Errorf("set values = %q", got)
	}
	foo := r.Matches[2]
	if foo.Module != "foo" || !foo.Options[0].Guessed || !reflect.DeepEqual(foo.Options[0].Values, []string{"1", "2"}) || !foo.Options[1].Guessed {
		t.Errorf("unknown module must be kept and flagged: %+v", foo)
	}
	if r.Target != "MARK" || r.TargetOptions[0].Values[0] != "0x1/0xff" {
		t.Errorf("MARK: %+v", r.TargetOptions)
	}
}

func TestSyntaxErrorsHaveLineNumbers(t *testing.T) {
	cases := map[string]int{
		"*filter\n:INPUT ACCEPT [0:0]\n-A OUTPUT -j ACCEPT\nCOMMIT\n":       3,
		"*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m\nCOMMIT\n":               3,
		"*filter\n:INPUT MAYBE [0:0]\nCOMMIT\n":                             2,
		"# c\n\n-A INPUT -j ACCEPT\n":                                       3,
		"*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s \"x\nCOMMIT\n":           3,
		"*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport\nCOMMIT\n":   3,
		"*filter\n:INPUT ACCEPT [0:0]\n":                                    1,
		"*filter\n:INPUT ACCEPT [0:0]\n-A INPUT ! ! -s 1.2.3.4\nCOMMIT\n":   3,
		"*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j A -j B\nCOMMIT\n":        3,
		"*filter\n:INPUT ACCEPT [0:0]\nbogus\nCOMMIT\n":                     3,
		"*filter\nCOMMIT\n*filter\nCOMMIT\n":                                3,
		"*filter\n:INPUT ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\nCOMMIT\n":       3,
		"*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 1.2.3.4 stray\nCOMMIT\n": 3,
	}
	for in, line := range cases {
		_, err := Parse(strings.NewReader(in))
		var se *SyntaxError
		if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: err = %v, want a SyntaxError", in, err)
			continue
		}
		if se.Line != line {
			t.Errorf("%q: line %d, want %d (%v)", in, se.Line, line, err)
		}
	}
}

func TestSizeLimit(t *testing.T) {
	big := strings.NewReader(strings.Repeat("#\n", MaxSize/2+1))
	if _, err := Parse(big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v", err)
	}
}

// FuzzParse checks that parsing never panics and that whatever parses
// survives a round trip through Format.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(testenv.Testdata(f, "firewall", "scenarios", "*", "*tables*.save"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment \"a\\\"b\" -m foo --x -y -j LOG --log-prefix -z\nCOMMIT\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := Format(&b, d); err != nil {
			t.Fatal(err)
		}
		d2, err := Parse(&b)
		if err != nil {
			t.Fatalf("formatted dump does not parse: %v\n%s", err, b.String())
		}
		clearLines(d)
		clearLines(d2)
		if !reflect.DeepEqual(d, d2) {
			t.Fatalf("round trip changed the dump:\n%s", b.String())
		}
	})
}

func clearLines(d *Dump) {
	for _, t := range d.Tables {
		t.Line = 0
		for _, c := range t.Chains {
			c.Line = 0
		}
		for _, r := range t.Rules {
			r.Line = 0
		}
	}
}
