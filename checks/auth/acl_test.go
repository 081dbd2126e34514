package auth

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseUser(t *testing.T) {
	for _, tc := range []struct {
		line string
		want User
	}{
		{"user default on nopass sanitize-payload ~* &* +@all", User{
			Name: "default", Enabled: true, NoPass: true,
			Root: Selector{Rules: []Rule{{Allow: true, Kind: AllCommands}}},
		}},
		{"user alice on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 resetchannels +@all -config (~foo resetchannels -@all +get)", User{
			Name: "alice", Enabled: true, Passwords: 1,
			Root:      Selector{Rules: []Rule{{Allow: true, Kind: AllCommands}, {Kind: Command, Name: "config"}}},
			Selectors: []Selector{{Rules: []Rule{{Kind: AllCommands}, {Allow: true, Kind: Command, Name: "get"}}}},
		}},
		{"user bob off nopass -@all +CONFIG|GET +select|0 -@Dangerous", User{
			Name: "bob", NoPass: true,
			Root: Selector{Rules: []Rule{{Kind: AllCommands}, {Allow: true, Kind: Subcommand, Name: "config", Sub: "get"},
				{Allow: true, Kind: Subcommand, Name: "select", Sub: "0"}, {Kind: Category, Name: "dangerous"}}},
		}},
		// Hand-written aclfile style: applied in order like ACL SETUSER.
		{"user carol nopass >secret on allcommands nocommands +@admin", User{
			Name: "carol", Enabled: true, Passwords: 1,
			Root: Selector{Rules: []Rule{{Allow: true, Kind: AllCommands}, {Kind: AllCommands}, {Allow: true, Kind: Category, Name: "admin"}}},
		}},
		{"user dave on >a >b <a", User{Name: "dave", Enabled: true, Passwords: 2}},
		{"user erin on >x resetpass", User{Name: "erin", Enabled: true}},
		{"user frank on >x +@all reset", User{Name: "frank",
			Root: Selector{Rules: []Rule{{Allow: true, Kind: AllCommands}, {Kind: AllCommands}}}}},
		{"user gil on #h (+config) (+debug) clearselectors", User{Name: "gil", Enabled: true, Passwords: 1}},
		{"user hal on #h %R~cache:* allkeys resetkeys allchannels frobnicate +", User{Name: "hal", Enabled: true, Passwords: 1,
			Unknown: []string{"frobnicate", "+"}}},
		{"user ivy on #h ()", User{Name: "ivy", Enabled: true, Passwords: 1, Selectors: []Selector{{}}}},
	} {
		got, err := ParseUser(tc.line)
		if err != nil {
			t.Errorf("ParseUser(%q): %v", tc.line, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseUser(%q)\n got %+v\nwant %+v", tc.line, got, tc.want)
		}
	}
}

func TestParseUserErrors(t *testing.T) {
	for _, tc := range []struct {
		line string
		want error
	}{
		{"", ErrNotUserLine},
		{"user", ErrNotUserLine},
		{"USER x on", ErrNotUserLine},
		{"-ERR unknown command", ErrNotUserLine},
		{"user x on (+get", ErrUnbalanced},
		{"user x on (+get (+set)", ErrUnbalanced},
		{"user x on +get)", ErrUnbalanced},
	} {
		if _, err := ParseUser(tc.line); !errors.Is(err, tc.want) {
			t.Errorf("ParseUser(%q) = %v, want %v", tc.line, err, tc.want)
		}
	}
}

func TestParseACLListLinesAndLimits(t *testing.T) {
	users, err := ParseACLList(strings.NewReader("user a on nopass +@all\n\nuser b off #h -@all\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0].Line != 1 || users[1].Line != 3 || users[1].Name != "b" {
		t.Fatalf("got %+v", users)
	}

	_, err = ParseACLList(strings.NewReader("user a on\nnonsense\n"))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 2 || !errors.Is(err, ErrNotUserLine) {
		t.Fatalf("bad line: got %v", err)
	}

	big := strings.Repeat("user u on #h +@all ~*\n", maxACLBytes/20)
	if _, err := ParseACLList(strings.NewReader(big)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized reply: got %v", err)
	}
	long := "user u on " + strings.Repeat("~k ", maxLineLen/3+1)
	if _, err := ParseACLList(strings.NewReader(long)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized line: got %v", err)
	}
}

// secretTokens are the tokens of line that carry a password or a hash.
func secretTokens(line string) []string {
	var out []string
	for i, f := range strings.Fields(line) {
		if i < 2 {
			continue // "user" and the name, which may begin with any of them
		}
		f = strings.Trim(f, "()")
		if len(f) > 1 && strings.ContainsRune("#><!", rune(f[0])) {
			out = append(out, f[1:])
		}
	}
	return out
}

// plainTokensHold reports whether a token of line that carries no secret
// contains s: keeping that token keeps no secret.
func plainTokensHold(line, s string) bool {
	for i, f := range strings.Fields(line) {
		f = strings.Trim(f, "()")
		if i >= 2 && len(f) > 1 && strings.ContainsRune("#><!", rune(f[0])) {
			continue
		}
		if strings.Contains(f, s) {
			return true
		}
	}
	return false
}

// leaks reports whether anything the parser kept (names aside) carries a
// secret token of line.
func leaks(u User, line string) string {
	var kept []string
	kept = append(kept, u.Unknown...)
	for _, sel := range append([]Selector{u.Root}, u.Selectors...) {
		for _, r := range sel.Rules {
			kept = append(kept, r.String())
		}
	}
	for _, s := range secretTokens(line) {
		if len(s) < 4 || s == u.Name {
			continue // too short to tell apart from rule text
		}
		if plainTokensHold(line, s) {
			continue // the same text stands in the line outside a secret
		}
		for _, k := range kept {
			if strings.Contains(k, s) {
				return s
			}
		}
	}
	return ""
}

func TestParserKeepsNoSecrets(t *testing.T) {
	line := "user alice on >hunter2hunter2 #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 <oldpassword !deadbeefdeadbeef ~* +@all (>selectorsecret +get)"
	u, err := ParseUser(line)
	if err != nil {
		t.Fatal(err)
	}
	if s := leaks(u, line); s != "" {
		t.Fatalf("secret %q kept in %+v", s, u)
	}
	if u.Passwords != 2 {
		t.Fatalf("Passwords = %d, want 2 (two set; removals are not counted)", u.Passwords)
	}
}

func FuzzParseACLList(f *testing.F) {
	for _, s := range []string{
		"user default on nopass sanitize-payload ~* &* +@all",
		"user alice on #30c9 resetchannels +@all -config (~foo resetchannels -@all +get)",
		"user bob off nopass -@all +config|get +select|0\nuser c on >pw reset",
		"user x on (+get (+set)", "user x on )", "user x on +|", "user x on -@", "user x on +@a|b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		users, err := ParseACLList(strings.NewReader(in))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			return
		}
		lines := strings.Split(in, "\n")
		cats := NewCategories(map[string][]string{"dangerous": {"config|set", "flushall"}})
		for _, u := range users {
			if u.Line < 1 || u.Line > len(lines) {
				t.Fatalf("line %d out of range", u.Line)
			}
			if s := leaks(u, lines[u.Line-1]); s != "" {
				t.Fatalf("secret %q kept in %+v", s, u)
			}
			if u.Passwords < 0 {
				t.Fatalf("negative password count")
			}
			// Rules re-parse to themselves: what a finding quotes is what
			// the parser understood.
			for _, sel := range append([]Selector{u.Root}, u.Selectors...) {
				for _, r := range sel.Rules {
					back, ok := parseCommandRule(r.String())
					if !ok || back != r {
						t.Fatalf("rule %+v renders as %q, re-parses as %+v", r, r.String(), back)
					}
				}
			}
			// Evaluation never panics and a nopass flag is never lost.
			_ = Evaluate(u, cats)
		}
	})
}
