package auth

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// liveCategories loads the named categories from ACL CAT output captured
// from redis-server 7.0.15 (one category a line: name, then members).
func liveCategories(t *testing.T, names ...string) Categories {
	t.Helper()
	b, err := os.ReadFile(testenv.Testdata(t, "auth", "acl-cat-7.0.15.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lists := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && slices.Contains(names, f[0]) {
			lists[f[0]] = f[1:]
		}
	}
	if len(lists) != len(names) {
		t.Fatalf("categories %q not all in the capture", names)
	}
	return NewCategories(lists)
}

func TestEvaluate(t *testing.T) {
	cats := liveCategories(t, "dangerous", "admin", "read", "write")
	all := []string{"CONFIG", "DEBUG", "MODULE", "FLUSHALL", "SLAVEOF", "REPLICAOF", "ACL SETUSER"}
	for _, tc := range []struct {
		rules    string
		commands []string
		category []string
		runnable int
	}{
		{"+@all", all, []string{"+@all"}, 75},
		{"allcommands", all, []string{"+@all"}, 75},
		{"-@all +get +set", nil, nil, 0},
		{"+@all -@dangerous", nil, nil, 0},
		{"+@all -@dangerous +info", nil, nil, 1}, // INFO named on purpose: not a category grant
		{"+@all -@dangerous +config|get", []string{"CONFIG GET"}, nil, 1},
		{"+@all -config", []string{"DEBUG", "MODULE", "FLUSHALL", "SLAVEOF", "REPLICAOF", "ACL SETUSER"}, []string{"+@all"}, 71},
		{"+@all -config|set", []string{"CONFIG GET", "CONFIG RESETSTAT", "CONFIG REWRITE", "DEBUG", "MODULE", "FLUSHALL", "SLAVEOF", "REPLICAOF", "ACL SETUSER"}, []string{"+@all"}, 74},
		{"-@all +config", []string{"CONFIG"}, nil, 4},
		{"-@all +config -config|get", []string{"CONFIG RESETSTAT", "CONFIG REWRITE", "CONFIG SET"}, nil, 3},
		{"-@all +@admin", []string{"CONFIG", "DEBUG", "MODULE", "SLAVEOF", "REPLICAOF", "ACL SETUSER"}, []string{"+@admin"}, 65},
		{"-@all +@dangerous -@admin", []string{"FLUSHALL"}, []string{"+@dangerous"}, 10},
		{"-@all +flushall|async", []string{"FLUSHALL"}, nil, 1},
		{"-@all +@read +@write", []string{"FLUSHALL"}, []string{"+@read", "+@write"}, 10}, // KEYS, SORT, SWAPDB, FLUSHDB…
		{"-@all +@scripting", all, []string{"+@scripting"}, 75},                           // unknown members: assume the worst
		{"nocommands -@dangerous", nil, nil, 0},
		{"-@all +acl|list +acl|cat +info +ping", nil, nil, 2},
	} {
		u, err := ParseUser("user u on #h " + tc.rules)
		if err != nil {
			t.Fatal(err)
		}
		g := Evaluate(u, cats)
		if !slices.Equal(g.Commands, tc.commands) || !slices.Equal(g.Category, tc.category) || g.Runnable != tc.runnable {
			t.Errorf("%q: got commands %q category %q runnable %d; want %q %q %d",
				tc.rules, g.Commands, g.Category, g.Runnable, tc.commands, tc.category, tc.runnable)
		}
		if g.Total != 75 {
			t.Errorf("%q: total %d, want 75", tc.rules, g.Total)
		}
	}
}

func TestEvaluateSelectorsAddPermissions(t *testing.T) {
	cats := liveCategories(t, "dangerous")
	u, _ := ParseUser("user u on #h -@all +get (~tmp:* +flushall) (+config|get)")
	g := Evaluate(u, cats)
	if want := []string{"CONFIG GET", "FLUSHALL"}; !reflect.DeepEqual(g.Commands, want) {
		t.Fatalf("got %q, want %q", g.Commands, want)
	}
}

func TestEvaluateWithoutDangerousMembers(t *testing.T) {
	// ACL CAT dangerous unreadable: a category-wide grant is assumed to
	// include @dangerous.
	u, _ := ParseUser("user u on #h -@all +@read")
	g := Evaluate(u, Categories{})
	if !g.Guessed || !reflect.DeepEqual(g.Category, []string{"+@read"}) || len(g.Commands) == 0 {
		t.Fatalf("got %+v", g)
	}
	u, _ = ParseUser("user u on #h -@all +get")
	if g := Evaluate(u, Categories{}); g.Any() {
		t.Fatalf("named harmless command flagged: %+v", g)
	}
}

// BenchmarkAudit100Users parses and evaluates an ACL LIST of 100 users
// against the full 7.0.15 category table.
func BenchmarkAudit100Users(b *testing.B) {
	t := &testing.T{}
	cats := liveCategories(t, "keyspace", "read", "write", "admin", "dangerous", "slow", "fast")
	var lines []string
	for i := 0; i < 100; i++ {
		lines = append(lines, "user u"+strings.Repeat("x", i%7)+" on #abcd ~* -@all +@read +@write -@dangerous +config|get (~tmp:* +@slow -@admin)")
	}
	text := strings.Join(lines, "\n")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		users, err := ParseACLList(strings.NewReader(text))
		if err != nil {
			b.Fatal(err)
		}
		for _, u := range users {
			_ = Evaluate(u, cats)
		}
	}
}
