package nfnl

import (
	"bufio"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// listing is `nft --debug=netlink list ruleset` parsed: per rule header
// ("FAMILY TABLE CHAIN HANDLE [POSITION]") its expression lines and user
// data line; per set ("FAMILY TABLE NAME") its element lines.
type listing struct {
	rules    map[string][]string
	userdata map[string]string
	sets     map[string][]string
}

func parseListing(t testing.TB, out string) listing {
	t.Helper()
	l := listing{rules: map[string][]string{}, userdata: map[string]string{}, sets: map[string][]string{}}
	rule, set := "", ""
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "  [ ") && rule != "":
			l.rules[rule] = append(l.rules[rule], liveCounters(strings.TrimPrefix(line, "  ")))
		case strings.HasPrefix(line, "  userdata = ") && rule != "":
			l.userdata[rule] = strings.TrimPrefix(line, "  ")
		case strings.HasPrefix(line, "\telement ") && set != "":
			l.sets[set] = append(l.sets[set], strings.TrimPrefix(line, "\t"))
		case line == "":
		case strings.HasPrefix(line, "table ") || strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "}"):
			rule, set = "", "" // the ruleset listing after the bytecode
		default:
			f := strings.Fields(line)
			rule, set = "", ""
			switch {
			case len(f) == 3 && strings.HasPrefix(f[2], "@"):
				set = f[0] + " " + f[1] + " " + f[2][1:]
				l.sets[set] = []string{}
			case len(f) == 4 || len(f) == 5:
				rule = line
				if _, dup := l.rules[rule]; dup {
					t.Fatalf("rule %q listed twice", rule)
				}
				l.rules[rule] = []string{}
			default:
				t.Fatalf("unexpected line in the listing: %q", line)
			}
		}
	}
	return l
}

// compareListing checks every rule and set element of rs against nft's
// bytecode listing, and that both hold the same rules and sets.
func compareListing(t *testing.T, rs *Ruleset, want listing) {
	t.Helper()
	seen := map[string]bool{}
	bad := 0
	report := func(format string, args ...any) {
		if bad++; bad <= 10 {
			t.Errorf(format, args...)
		}
	}
	for _, r := range rs.Rules {
		key := r.Header()
		seen[key] = true
		w, ok := want.rules[key]
		if !ok {
			report("rule %s: not in nft's listing", key)
			continue
		}
		got := []string{}
		if r.Bytecode() != "" {
			got = strings.Split(r.Bytecode(), "\n")
		}
		for i := range got {
			got[i] = liveCounters(got[i])
		}
		if !reflect.DeepEqual(got, w) {
			report("rule %s:\n got:\n  %s\nwant:\n  %s", key, strings.Join(got, "\n  "), strings.Join(w, "\n  "))
		}
		if got, w := r.UserDataLine(), want.userdata[key]; got != w {
			report("rule %s: user data %q, want %q", key, got, w)
		}
	}
	for k := range want.rules {
		if !seen[k] {
			report("rule %s: in nft's listing, not read", k)
		}
	}
	sets := 0
	for _, s := range rs.Sets {
		key := s.Family.String() + " " + s.Table + " " + s.Name
		w, ok := want.sets[key]
		if !ok {
			report("set %s: not in nft's listing", key)
			continue
		}
		sets++
		got := s.ElementsBytecode()
		// nft lists elements as the kernel dumps them; compare as sets
		// of lines in case a kernel walks its backend differently.
		sort.Strings(got)
		w = append([]string(nil), w...)
		sort.Strings(w)
		if strings.Join(got, "\n") != strings.Join(w, "\n") {
			report("set %s:\n got:\n  %s\nwant:\n  %s", key, strings.Join(got, "\n  "), strings.Join(w, "\n  "))
		}
	}
	if sets != len(want.sets) {
		report("%d sets read, nft lists %d", sets, len(want.sets))
	}
}

// counterRE matches what traffic in the namespace (IPv6 neighbour
// discovery) changes between two readings.
var counterRE = regexp.MustCompile(`^\[ counter pkts \d+ bytes \d+ \]$`)

func liveCounters(line string) string {
	if counterRE.MatchString(line) {
		return "[ counter pkts N bytes N ]"
	}
	return line
}
