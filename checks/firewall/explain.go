package firewall

import (
	"fmt"
	"strings"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
)

// maxDeciders caps how many rules or policies one finding names, and
// maxRanges how many ranges it lists for each; the rest are counted.
const (
	maxDeciders = 5
	maxRanges   = 3
)

// decidedBy names, for the sources in set, the kernel rule or policy that
// decided their fate, so the reader knows which line to change: one
// phrase when a single rule or policy decided for all of set, else one per
// rule with the ranges it decided.
func decidedBy(res *eval.Result, set *netipx.IPSet) string {
	as, more := res.Explain(set, maxDeciders)
	if len(as) == 0 {
		return ""
	}
	if len(as) == 1 && more == 0 {
		return "; " + fate(as[0])
	}
	parts := make([]string, 0, len(as)+1)
	for _, a := range as {
		rs := make([]string, 0, maxRanges)
		for _, r := range a.Ranges[:min(len(a.Ranges), maxRanges)] {
			rs = append(rs, rangeString(r))
		}
		if n := len(a.Ranges) - maxRanges; n > 0 {
			rs = append(rs, fmt.Sprintf("and %d more", n))
		}
		parts = append(parts, strings.Join(rs, ", ")+" "+fate(a))
	}
	if more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more ranges", more))
	}
	return "; " + strings.Join(parts, "; ")
}

// fate says what happened to the ranges and what decided it.
func fate(a eval.Attribution) string {
	d := a.Decision
	verb := "accepted"
	if !a.Accepted {
		verb = "refused"
		if d.Kind == eval.ByRule && d.Rule.Map == nil {
			switch d.Rule.Verdict.Kind {
			case eval.Drop:
				verb = "dropped"
			case eval.Reject:
				verb = "rejected"
			}
		}
	}
	switch d.Kind {
	case eval.ByRule:
		return verb + " by " + d.Rule.Origin
	case eval.ByPolicy:
		return fmt.Sprintf("%s by the %v policy of %s (hook %v, priority %d)", verb, d.Base.Policy, d.Base.Origin, d.Base.Hook, d.Base.Priority)
	case eval.NoBaseChain:
		return verb + " with no base chain on this hook"
	}
	return verb + " by no single rule"
}
