// Package describe names sets of addresses the way every finding of the
// firewall check does: as prefixes or ranges, capped, or by what they
// leave out when that is shorter. The check and the frontend explainers
// share it, so that ufw's and firewalld's view read like the kernel's.
package describe

import (
	"fmt"
	"strings"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
)

// MaxListed caps how many ranges one finding names.
const MaxListed = 8

// Ranges names a set as prefixes (or ranges when shorter), capped.
func Ranges(s *netipx.IPSet, fam eval.Family) string {
	var items []string
	for _, r := range s.Ranges() {
		ps := r.Prefixes()
		if len(ps) <= 2 {
			for _, p := range ps {
				items = append(items, p.String())
			}
		} else {
			items = append(items, r.String())
		}
	}
	if len(items) > MaxListed {
		return strings.Join(items[:MaxListed], ", ") + fmt.Sprintf(" and %d more", len(items)-MaxListed)
	}
	return strings.Join(items, ", ")
}

// Untrusted names a set of untrusted sources directly, or by what it
// leaves out when that is shorter ("::/0 except trusted networks and
// 2001:db8:ffff::/48").
func Untrusted(s *netipx.IPSet, fam eval.Family, trust *netipx.IPSet) string {
	var b netipx.IPSetBuilder
	b.AddPrefix(fam.All())
	b.RemoveSet(s)
	b.RemovePrefix(fam.Loopback())
	b.RemoveSet(trust)
	rest, _ := b.IPSet()
	if len(rest.Ranges())+1 >= len(s.Ranges()) {
		return Ranges(s, fam)
	}
	switch {
	case Empty(rest):
		return fmt.Sprintf("%s except trusted networks", fam.All())
	case Empty(trust):
		return fmt.Sprintf("%s except %s", fam.All(), Ranges(rest, fam))
	}
	return fmt.Sprintf("%s except trusted networks and %s", fam.All(), Ranges(rest, fam))
}

// AllButLoopback reports whether s is the whole family bar loopback.
func AllButLoopback(s *netipx.IPSet, fam eval.Family) bool {
	var b netipx.IPSetBuilder
	b.AddSet(s)
	b.AddPrefix(fam.Loopback())
	all, _ := b.IPSet()
	return all.ContainsPrefix(fam.All())
}

// Minus is a without b.
func Minus(a, b *netipx.IPSet) *netipx.IPSet {
	var x netipx.IPSetBuilder
	x.AddSet(a)
	x.RemoveSet(b)
	s, _ := x.IPSet()
	return s
}

// Intersect is what a and b share.
func Intersect(a, b *netipx.IPSet) *netipx.IPSet {
	var x netipx.IPSetBuilder
	x.AddSet(a)
	x.Intersect(b)
	s, _ := x.IPSet()
	return s
}

// Empty reports whether s holds no address (nil is empty).
func Empty(s *netipx.IPSet) bool { return s == nil || len(s.Ranges()) == 0 }

// FirstN keeps the first n items and marks the cut with "…".
func FirstN(s []string, n int) []string {
	if len(s) > n {
		return append(append([]string(nil), s[:n]...), "…")
	}
	return s
}

// Dedupe drops repeated items, keeping the first of each.
func Dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
