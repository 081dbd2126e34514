package eval

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// to makes r a jump or goto to c.
func to(r *Rule, c *Chain) *Rule {
	r.Verdict.Target = c
	return r
}

func chain(name string, rules ...*Rule) *Chain { return &Chain{Name: name, Rules: rules} }

// Each attribution carries the jumps and gotos that led from the base
// chain to the deciding rule's chain, as the ruleset's own rules: through
// nested jumps, a goto (which replaces the chain that took it), back out
// of a chain by return or by its end, and through a verdict map's jump.
func TestExplainNamesThePath(t *testing.T) {
	acceptIn := func(name, net string) *Rule { return named(name, Accept, src4(false, net)) }

	inner := chain("inner", acceptIn("inner-accept", "203.0.113.0/24"))
	outer := chain("outer", to(named("jump-inner", Jump, dport(6379)), inner))
	nested := []*BaseChain{base(Input, 0, Drop, both4and6, to(named("jump-outer", Jump, dport(6379)), outer))}

	gotoTarget := chain("gtarget", acceptIn("goto-accept", "203.0.113.0/25"))
	viaGoto := chain("viagoto", to(named("goto-gtarget", Goto, src4(false, "203.0.113.0/24")), gotoTarget),
		acceptIn("after-goto", "203.0.113.0/24"))
	// 203.0.113.128/25 falls off the end of the goto's target: back in the
	// base chain (not in viagoto, which the goto replaced), where the next
	// jump accepts it.
	tail := chain("tail", acceptIn("tail-accept", "203.0.113.0/24"))
	gotos := []*BaseChain{base(Input, 0, Drop, both4and6,
		to(named("jump-viagoto", Jump, dport(6379)), viaGoto),
		to(named("jump-tail", Jump, dport(6379)), tail))}

	// 198.51.100.0/25 returns from ret; the rest of ret's caller decides.
	ret := chain("ret", named("return-low", Return, src4(false, "198.51.100.0/25")),
		acceptIn("ret-accept", "198.51.100.0/24"))
	caller := chain("caller", to(named("jump-ret", Jump, dport(6379)), ret),
		named("caller-drop", Drop, src4(false, "198.51.100.0/26")))
	returns := []*BaseChain{base(Input, 0, Accept, both4and6, to(named("jump-caller", Jump), caller))}

	vmapTarget := chain("vtarget", named("vmap-drop", Drop, src4(false, "192.0.2.0/25")))
	vmap := &Rule{Origin: "vmap-rule", Map: &VerdictMap{Entries: []MapEntry{
		{Cond: src4(false, "192.0.2.0/24"), Verdict: Verdict{Kind: Jump, Target: vmapTarget}},
	}}}
	vmaps := []*BaseChain{base(Input, 0, Accept, both4and6, vmap)}

	// Two jumps to one chain: the rule is named once, with the path of its
	// first range, and marked as reached by other paths.
	shared := chain("shared", acceptIn("shared-accept", "192.0.2.0/24"))
	twoPaths := []*BaseChain{base(Input, 0, Drop, both4and6,
		to(named("jump-low", Jump, src4(false, "192.0.2.0/25")), shared),
		to(named("jump-high", Jump, src4(false, "192.0.2.128/25")), shared))}

	cases := []struct {
		name   string
		chains []*BaseChain
		ask    []string
		want   []string // "range accepted by < path" with path "a > b", "-" when none
	}{
		{"nested jumps", nested, []string{"203.0.113.0/24", "198.51.100.0/24"}, []string{
			"203.0.113.0/24 true inner-accept < jump-outer > jump-inner",
			"198.51.100.0/24 false policy:test < -",
		}},
		{"goto and the end of its target", gotos, []string{"203.0.113.0/24"}, []string{
			"203.0.113.0/25 true goto-accept < jump-viagoto > goto-gtarget",
			"203.0.113.128/25 true tail-accept < jump-tail",
		}},
		{"return", returns, []string{"198.51.100.0/24"}, []string{
			"198.51.100.0/26 false caller-drop < jump-caller",
			"198.51.100.64/26 true policy:test < -",
			"198.51.100.128/25 true ret-accept < jump-caller > jump-ret",
		}},
		{"verdict map jump", vmaps, []string{"192.0.2.0/24"}, []string{
			"192.0.2.0/25 false vmap-drop < vmap-rule",
			"192.0.2.128/25 true policy:test < -",
		}},
		{"two paths to one rule", twoPaths, []string{"192.0.2.0/24"}, []string{
			"192.0.2.0/24 true shared-accept < jump-low (and other paths)",
		}},
		{"only the range asked", twoPaths, []string{"192.0.2.128/25"}, []string{
			"192.0.2.128/25 true shared-accept < jump-high",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs := &Ruleset{BaseChains: c.chains}
			res := mustEval(t, rs, IPv4, 6379)
			got, _ := res.Explain(set(t, c.ask...), 0)
			var gs []string
			for _, a := range got {
				var hops []string
				for _, r := range a.Path {
					if !inRuleset(rs, r) {
						t.Errorf("hop %q is not the ruleset's own", r.Origin)
					}
					hops = append(hops, r.Origin)
				}
				p := strings.Join(hops, " > ")
				if p == "" {
					p = "-"
				}
				if a.OtherPaths {
					p += " (and other paths)"
				}
				for _, r := range a.Ranges {
					gs = append(gs, fmt.Sprintf("%s %v %s < %s", rangeText(r), a.Accepted, by(t, rs, a), p))
				}
			}
			slices.Sort(gs)
			want := slices.Sorted(slices.Values(c.want))
			if fmt.Sprint(gs) != fmt.Sprint(want) {
				t.Errorf("attributions\n got %q\nwant %q", gs, want)
			}
		})
	}
}

// The host's own traffic over lo is explained like remote sources: the
// rule that drops it, with its path.
func TestExplainLoopback(t *testing.T) {
	lo := chain("lo", named("drop-lo", Drop, Iface{Names: []IfName{{Name: "lo"}}}))
	rs := &Ruleset{BaseChains: []*BaseChain{base(Input, 0, Accept, both4and6, to(named("jump-lo", Jump, dport(6379)), lo))}}
	res := mustEval(t, rs, IPv4, 6379)
	got, _ := res.Explain(set(t, "127.0.0.1/32"), 0)
	if len(got) != 1 || got[0].Accepted || got[0].Decision.Rule == nil || got[0].Decision.Rule.Origin != "drop-lo" ||
		len(got[0].Path) != 1 || got[0].Path[0].Origin != "jump-lo" {
		t.Fatalf("loopback explained as %+v, want dropped by drop-lo through jump-lo", got)
	}
	// Remote sources are not dropped by it.
	got, _ = res.Explain(set(t, "192.0.2.1/32"), 0)
	if len(got) != 1 || !got[0].Accepted || got[0].Decision.Kind != ByPolicy {
		t.Fatalf("remote source explained as %+v, want accepted by the policy", got)
	}
}
