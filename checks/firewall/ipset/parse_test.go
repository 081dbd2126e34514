package ipset

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

func TestParseCaptured(t *testing.T) {
	data, err := os.ReadFile(testenv.Testdata(t, "firewall", "scenarios", "ipt-nft-allowlist", "ipset.save"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	s := d.Set("trusted")
	if s == nil || s.Type != "hash:net" || s.Family != "inet" || len(s.Entries) != 2 {
		t.Fatalf("trusted = %+v", s)
	}
	// The kernel lists hash entries in its own order.
	for _, e := range s.Entries {
		if e.NoMatch != (e.Value == "198.51.100.128/25") {
			t.Errorf("entry %+v", e)
		}
	}
}

func TestParseOptions(t *testing.T) {
	in := `create t6 hash:net family inet6 hashsize 1024 maxelem 65536 timeout 300 comment bucketsize 12 initval 0x133db03c
add t6 2001:db8::/64 timeout 99 comment "x y"
create bm bitmap:ip range 192.0.2.0-192.0.2.255
add bm 192.0.2.7
create ls list:set size 8
add ls t6
`
	d, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	t6 := d.Set("t6")
	if t6.Family != "inet6" || len(t6.Entries) != 1 || t6.Entries[0].Options[1] != (Option{Name: "comment", Value: "x y", HasValue: true}) {
		t.Errorf("t6 = %+v", t6)
	}
	if bm := d.Set("bm"); bm.Family != "inet" {
		t.Errorf("bitmap family = %q", bm.Family)
	}
	if ls := d.Set("ls"); ls.Family != "" || ls.Entries[0].Value != "t6" {
		t.Errorf("list = %+v", ls)
	}
}

func TestErrorsHaveLineNumbers(t *testing.T) {
	cases := map[string]int{
		"create a hash:ip\nadd b 1.2.3.4\n":         2,
		"create a hash:ip\ncreate a hash:ip\n":      2,
		"\n\nflush a\n":                             3,
		"create a\n":                                1,
		"create a hash:ip timeout\n":                1,
		"create a hash:ip\nadd a 1.2.3.4 comment\n": 2,
		"create a hash:ip\nadd a \"1.2.3.4\n":       2,
	}
	for in, line := range cases {
		_, err := Parse(strings.NewReader(in))
		var se *SyntaxError
		if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) || se.Line != line {
			t.Errorf("%q: err = %v, want line %d", in, err, line)
		}
	}
}

func TestSizeLimit(t *testing.T) {
	if _, err := Parse(strings.NewReader(strings.Repeat("\n", MaxSize+1))); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile(testenv.Testdata(f, "firewall", "scenarios", "ipt-nft-allowlist", "ipset.save")); err == nil {
		f.Add(data)
	}
	f.Add([]byte("create a hash:net family inet6 comment\nadd a 2001:db8::/64 nomatch comment \"q\\\"\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, s := range d.Sets {
			if d.Set(s.Name) != s {
				t.Fatalf("set %q is not unique", s.Name)
			}
		}
	})
}
