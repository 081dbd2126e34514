package eval

import (
	"fmt"
	"slices"
	"testing"

	"go4.org/netipx"
)

// named is a rule with its own origin, so a test can tell rules apart.
func named(origin string, v VerdictKind, conds ...Cond) *Rule {
	r := rule(v, conds...)
	r.Origin = origin
	return r
}

// Each range is attributed to the rule or policy where its fate was
// decided, through jumps and gotos, as the original (not specialized)
// rule of the ruleset.
func TestExplainNamesTheDecidingRule(t *testing.T) {
	acceptNet := named("accept-net", Accept, src4(false, "198.51.100.0/24"), dport(6379))
	dropNet := named("drop-net", Drop, src4(false, "192.0.2.0/24"))
	lowHalf := named("accept-low", Accept, src4(false, "198.51.100.0/25"))
	highHalf := named("accept-high", Accept, src4(false, "198.51.100.128/25"))
	subAccept := named("sub-accept", Accept, src4(false, "203.0.113.0/24"))
	sub := &Chain{Name: "sub", Rules: []*Rule{subAccept}}
	jumpTo := named("jump-sub", Jump, dport(6379))
	jumpTo.Verdict.Target = sub
	gotoSub := &Chain{Name: "gsub", Rules: []*Rule{named("goto-accept", Accept, src4(false, "203.0.113.0/25"))}}
	gotoTo := named("goto-gsub", Goto, src4(false, "203.0.113.0/24"))
	gotoTo.Verdict.Target = gotoSub
	limit := Choice("while under the limit of %s", "while over the limit of %s")
	limited := named("limited-accept", Accept, src4(false, "198.51.100.0/24"), limit)

	type want struct {
		addr   string
		accept bool
		by     string // a rule's origin, "policy:<base origin>" or "none"
	}
	cases := []struct {
		name   string
		chains []*BaseChain
		ask    []string
		want   []want
	}{
		{"accept rule", []*BaseChain{base(Input, 0, Drop, both4and6, acceptNet)},
			[]string{"198.51.100.0/24", "192.0.2.0/24"},
			[]want{{"192.0.2.0/24", false, "policy:test"}, {"198.51.100.0/24", true, "accept-net"}}},
		{"accept policy", []*BaseChain{base(Input, 0, Accept, both4and6, dropNet)},
			[]string{"198.51.100.0/24", "192.0.2.0/24"},
			[]want{{"192.0.2.0/24", false, "drop-net"}, {"198.51.100.0/24", true, "policy:test"}}},
		{"jump then accept in the sub-chain", []*BaseChain{base(Input, 0, Drop, both4and6, jumpTo)},
			[]string{"203.0.113.0/24"},
			[]want{{"203.0.113.0/24", true, "sub-accept"}}},
		{"goto", []*BaseChain{base(Input, 0, Drop, both4and6, gotoTo)},
			[]string{"203.0.113.0/24"},
			[]want{{"203.0.113.0/25", true, "goto-accept"}, {"203.0.113.128/25", false, "policy:test"}}},
		{"two rules accept halves", []*BaseChain{base(Input, 0, Drop, both4and6, lowHalf, highHalf)},
			[]string{"198.51.100.0/24"},
			[]want{{"198.51.100.0/25", true, "accept-low"}, {"198.51.100.128/25", true, "accept-high"}}},
		{"no base chain", nil,
			[]string{"198.51.100.0/24"},
			[]want{{"198.51.100.0/24", true, "none"}}},
		// A later policy-accept chain does not hide the rule that let the
		// range through the filtering chain.
		{"rule over a later policy", []*BaseChain{
			base(Input, 0, Drop, both4and6, acceptNet),
			base(Input, 10, Accept, both4and6)},
			[]string{"198.51.100.0/24"},
			[]want{{"198.51.100.0/24", true, "accept-net"}}},
		// A drop in a later chain decides, whatever an earlier one accepted.
		{"later drop", []*BaseChain{
			base(Input, 0, Drop, both4and6, acceptNet),
			base(Input, 10, Accept, both4and6, named("drop-later", Drop, src4(false, "198.51.100.128/25")))},
			[]string{"198.51.100.0/24"},
			[]want{{"198.51.100.0/25", true, "accept-net"}, {"198.51.100.128/25", false, "drop-later"}}},
		// The client stays under the rate limit: the limited rule accepts.
		{"client-chosen branch", []*BaseChain{base(Input, 0, Drop, both4and6, limited)},
			[]string{"198.51.100.0/24"},
			[]want{{"198.51.100.0/24", true, "limited-accept"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs := &Ruleset{BaseChains: c.chains}
			res := mustEval(t, rs, IPv4, 6379)
			got, more := res.Explain(set(t, c.ask...), 0)
			if more != 0 {
				t.Errorf("more = %d with no bound", more)
			}
			var gs, ws []string
			for _, a := range got {
				for _, r := range a.Ranges {
					gs = append(gs, fmt.Sprintf("%s %v %s", rangeText(r), a.Accepted, by(t, rs, a)))
				}
			}
			slices.Sort(gs)
			for _, w := range c.want {
				ws = append(ws, fmt.Sprintf("%s %v %s", w.addr, w.accept, w.by))
			}
			slices.Sort(ws)
			if fmt.Sprint(gs) != fmt.Sprint(ws) {
				t.Errorf("attributions\n got %q\nwant %q", gs, ws)
			}
		})
	}
}

func by(t *testing.T, rs *Ruleset, s Attribution) string {
	by := "none"
	switch s.Decision.Kind {
	case ByRule:
		by = s.Decision.Rule.Origin
		if !inRuleset(rs, s.Decision.Rule) {
			t.Errorf("rule %q is not the ruleset's own", by)
		}
	case ByPolicy:
		by = "policy:" + s.Decision.Base.Origin
		if !inBases(rs, s.Decision.Base) {
			t.Errorf("base chain %q is not the ruleset's own", by)
		}
	}
	return by
}

// Explain stops at max spans and counts the rest.
func TestExplainIsBounded(t *testing.T) {
	var rules []*Rule
	for i := 0; i < 8; i++ {
		rules = append(rules, named(fmt.Sprintf("r%d", i), Accept, src4(false, fmt.Sprintf("198.51.100.%d/29", 8*i))))
	}
	res := mustEval(t, &Ruleset{BaseChains: []*BaseChain{base(Input, 0, Drop, both4and6, rules...)}}, IPv4, 6379)
	got, more := res.Explain(set(t, "198.51.100.0/26"), 5)
	if len(got) != 5 || more != 3 {
		t.Errorf("got %d attributions and %d more ranges, want 5 and 3", len(got), more)
	}
	// Ranges one rule decides, apart, are one attribution.
	res = mustEval(t, &Ruleset{BaseChains: []*BaseChain{base(Input, 0, Accept, both4and6)}}, IPv4, 6379)
	got, more = res.Explain(set(t, "192.0.2.0/24", "203.0.113.0/24"), 1)
	if len(got) != 1 || len(got[0].Ranges) != 2 || more != 0 {
		t.Errorf("got %+v and %d more, want one policy with two ranges", got, more)
	}
}

func inRuleset(rs *Ruleset, r *Rule) bool {
	for _, c := range reachable(rs.BaseChains) {
		for _, x := range c.Rules {
			if x == r {
				return true
			}
		}
	}
	return false
}

func inBases(rs *Ruleset, b *BaseChain) bool {
	for _, x := range rs.BaseChains {
		if x == b {
			return true
		}
	}
	return false
}

func rangeText(r netipx.IPRange) string {
	if p, ok := r.Prefix(); ok {
		return p.String()
	}
	return r.String()
}
