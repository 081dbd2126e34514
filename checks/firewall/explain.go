package firewall

import (
	"fmt"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/compile"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
)

// maxDeciders caps how many rules or policies one finding names,
// maxRanges how many ranges it lists for each and maxHops how many jumps
// on the way to a rule; the rest are counted or elided.
const (
	maxDeciders = 5
	maxRanges   = 3
	maxHops     = 3
)

// decidedBy names, for the sources in set, the kernel rule or policy that
// decided their fate, so the reader knows which line to change: one
// phrase when a single rule or policy decided for all of set, else one per
// rule with the ranges it decided.
func decidedBy(res *eval.Result, set *netipx.IPSet, text ruleText) string {
	as, more := res.Explain(set, maxDeciders)
	if len(as) == 0 {
		return ""
	}
	if len(as) == 1 && more == 0 {
		return "; " + fate(as[0], text)
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
		parts = append(parts, strings.Join(rs, ", ")+" "+fate(a, text))
	}
	if more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more ranges", more))
	}
	return "; " + strings.Join(parts, "; ")
}

// fate says what happened to the ranges and what decided it.
func fate(a eval.Attribution, text ruleText) string {
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
		return verb + " by " + d.Rule.Origin + text.of(d.Rule.Origin) + reached(a, text)
	case eval.ByPolicy:
		return fmt.Sprintf("%s by the %v policy of %s (hook %v, priority %d)", verb, d.Base.Policy, d.Base.Origin, d.Base.Hook, d.Base.Priority)
	case eval.NoBaseChain:
		return verb + " with no base chain on this hook"
	}
	return verb + " by no single rule"
}

// reached names the jumps and gotos from the base chain that led to the
// deciding rule's chain, the first maxHops of them: a user chain's rule is
// often changed where the chain is entered. When several paths led there,
// the one of the first range is named.
func reached(a eval.Attribution, text ruleText) string {
	if len(a.Path) == 0 {
		return ""
	}
	hops := make([]string, 0, maxHops+1)
	for _, r := range a.Path[:min(len(a.Path), maxHops)] {
		hops = append(hops, r.Origin+text.of(r.Origin))
	}
	if len(a.Path) > maxHops {
		hops = append(hops, "…")
	}
	s := " (reached from " + strings.Join(hops, " → ")
	if a.OtherPaths {
		s += ", among other paths"
	}
	return s + ")"
}

// ruleText finds the text of a rule an iptables-save dump names only by
// line ("iptables-legacy-save line 12"); rules read over netlink carry
// their text in the origin already. Looked up only for the few rules a
// finding names, so compiling keeps no text per rule.
type ruleText []compile.Dump[iptsave.Dump]

// dumps are the iptables-save dumps of the facts, for ruleText.
func (f *Facts) dumps() ruleText {
	s := f.Sources
	return ruleText{s.Legacy4, s.Legacy6, s.IptNFT, s.Ip6tNFT}
}

// of returns ": -t TABLE -A CHAIN ..." for an origin "NAME line N" of one
// of the dumps, else "".
func (t ruleText) of(origin string) string {
	name, line, ok := strings.Cut(origin, " line ")
	if !ok {
		return ""
	}
	n, err := strconv.Atoi(line)
	if err != nil {
		return ""
	}
	for _, d := range t {
		if d.Value == nil || d.Err != nil || d.Name != name {
			continue
		}
		for _, tb := range d.Value.Tables {
			for _, r := range tb.Rules {
				if r.Line == n {
					return ": -t " + tb.Name + " " + iptsave.FormatRule(r)
				}
			}
		}
	}
	return ""
}
