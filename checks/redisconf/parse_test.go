package redisconf

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSplitArgs(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		err  bool
	}{
		{`bind 127.0.0.1 -::1`, []string{"bind", "127.0.0.1", "-::1"}, false},
		{`  bind   "10.0.0.1"  '::1' `, []string{"bind", "10.0.0.1", "::1"}, false},
		{`bind ""`, []string{"bind", ""}, false},
		{`requirepass "a\x41\"b"`, []string{"requirepass", "aA\"b"}, false},
		{`x 'it\'s'`, []string{"x", "it's"}, false},
		{`bind "127.0.0.1`, nil, true},
		{`bind "a"b`, nil, true},
		{`bind 'a`, nil, true},
	}
	for _, c := range cases {
		got, err := SplitArgs(c.in)
		if c.err {
			if !errors.Is(err, ErrUnbalancedQuotes) {
				t.Errorf("SplitArgs(%q) err = %v, want unbalanced quotes", c.in, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestIncludesGlobsAndLastWins(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("conf.d/20-b.conf", "bind 0.0.0.0\n")
	write("conf.d/10-a.conf", "bind 10.0.0.1\ninclude "+filepath.Join(dir, "deep.conf")+"\n")
	write("deep.conf", "port 7000\n")
	main := write("redis.conf", "bind 127.0.0.1\ninclude "+filepath.Join(dir, "conf.d", "*.conf")+
		"\ninclude "+filepath.Join(dir, "none", "*.conf")+"\nport 6380\n")
	c, err := ParseFile(main)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := c.Last("BIND")
	if !reflect.DeepEqual(b.Args, []string{"0.0.0.0"}) || !strings.HasSuffix(b.File, "20-b.conf") || b.Line != 1 {
		t.Fatalf("effective bind = %+v, want 0.0.0.0 from 20-b.conf:1", b)
	}
	p, _ := c.Last("port")
	if p.Args[0] != "6380" {
		t.Fatalf("port = %v, want the main file's later line to win", p.Args)
	}
	if len(c.Files) != 4 {
		t.Fatalf("files = %v", c.Files)
	}
}

func TestErrorsCarryLineNumbers(t *testing.T) {
	_, err := Parse(strings.NewReader("# c\nport 1\nbind \"x\n"), "r.conf")
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 3 || se.File != "r.conf" {
		t.Fatalf("err = %v, want r.conf:3", err)
	}
	dir := t.TempDir()
	loop := filepath.Join(dir, "loop.conf")
	os.WriteFile(loop, []byte("include "+loop+"\n"), 0o644)
	if _, err := ParseFile(loop); !errors.Is(err, ErrTooManyIncludes) {
		t.Fatalf("self-include: err = %v", err)
	}
	missing := filepath.Join(dir, "m.conf")
	os.WriteFile(missing, []byte("\n\ninclude /nonexistent/x.conf\n"), 0o644)
	if _, err := ParseFile(missing); !errors.As(err, &se) || se.Line != 3 || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing include: err = %v", err)
	}
	_, err = Parse(strings.NewReader(strings.Repeat("# padding line\n", MaxFileSize/15+10)), "big.conf")
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized: err = %v", err)
	}
}

func TestFromArgs(t *testing.T) {
	file, ds, err := FromArgs([]string{"/etc/redis/redis.conf", "--port", "7000", "--bind", "10.0.0.1", "::1", "--protected-mode", "no"})
	if err != nil || file != "/etc/redis/redis.conf" || len(ds) != 3 {
		t.Fatalf("%q %+v %v", file, ds, err)
	}
	if !reflect.DeepEqual(ds[1].Args, []string{"10.0.0.1", "::1"}) || ds[1].Name != "bind" {
		t.Fatalf("bind = %+v", ds[1])
	}
	if _, _, err := FromArgs([]string{"a.conf", "stray"}); err == nil {
		t.Fatal("stray argument accepted")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"bind 127.0.0.1 -::1\nport 6379\n", "bind \"a b\" 'c'\n", "x \"\\x4", "include a\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(strings.NewReader(s), "f")
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		for _, d := range c.Directives {
			if d.Line < 1 || d.Name == "" {
				t.Fatalf("bad directive %+v", d)
			}
		}
	})
}
