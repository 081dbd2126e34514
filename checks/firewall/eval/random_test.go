package eval

import (
	"fmt"
	"math/rand"
	"net/netip"
	"slices"
	"testing"

	"go4.org/netipx"
)

// The randomized tests compare Evaluate with a brute-force evaluation by
// an independent reference interpreter (recursive, no forks: it tries
// every assignment of the unknown conditions instead), over every source
// in 192.0.2.0/24, a sample of other sources, and every interface,
// destination and source-port value the generated rules can tell apart.

// Rules only mention these, so the brute force below covers every class.
var (
	genSrc   = []string{"192.0.2.0/24", "192.0.2.0/25", "192.0.2.64/26", "192.0.2.7/32", "192.0.2.128/28", "192.0.2.200/29", "0.0.0.0/0", "10.0.0.0/8", "198.51.100.0/24"}
	genDst   = []string{"203.0.113.0/31", "203.0.113.2/32", "203.0.113.0/30"}
	genIfs   = []IfName{{Name: "eth0"}, {Name: "eth1"}, {Name: "wl", Wildcard: true}, {Name: "lo"}}
	genPorts = []PortRange{{1000, 1000}, {1000, 1001}, {1002, 65535}}

	bruteIfs    = []string{"eth0", "eth1", "wlan0", "wl", "xyz"}
	bruteDsts   = []string{"203.0.113.0", "203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4", "198.18.0.1"}
	bruteSports = []uint16{0, 999, 1000, 1001, 1002, 40000, 65535}
)

type gen struct {
	r        *rand.Rand
	unknowns int
	free     []*Chain // user chains not yet jumped to
}

func (g *gen) cond() Cond {
	neg := g.r.Intn(4) == 0
	switch g.r.Intn(11) {
	case 0, 1, 2:
		return src4(neg, genSrc[g.r.Intn(len(genSrc))])
	case 3:
		return NewAddr(Dst, IPv4, neg, netipx.RangeOfPrefix(netip.MustParsePrefix(genDst[g.r.Intn(len(genDst))])))
	case 4:
		ports := []uint16{6379, 16379, 80}
		return Port{Field: DPort, Protos: []uint8{ProtoTCP}, Ranges: []PortRange{{ports[g.r.Intn(3)], ports[g.r.Intn(3)]}}, Neg: neg}
	case 5:
		return Port{Field: SPort, Protos: []uint8{ProtoTCP}, Ranges: []PortRange{genPorts[g.r.Intn(len(genPorts))]}, Neg: neg}
	case 6:
		return Iface{Names: []IfName{genIfs[g.r.Intn(len(genIfs))]}, Neg: neg}
	case 7:
		return Conntrack{States: []CtState{CtNew, CtEstablished | CtRelated, CtInvalid}[g.r.Intn(3)], Neg: neg}
	case 8:
		return Mark{Mask: 0xff, Value: uint32(g.r.Intn(3)), Neg: neg}
	case 9:
		if g.unknowns < 2 {
			g.unknowns++
			return Const{Value: Unknown, Reason: fmt.Sprintf("unknown %d", g.unknowns)}
		}
		return Proto{Protos: []uint8{ProtoTCP}, Neg: neg}
	}
	return Proto{Protos: []uint8{ProtoUDP}, Neg: neg}
}

func (g *gen) verdict() Verdict {
	switch g.r.Intn(9) {
	case 0, 1:
		return Verdict{Kind: Accept}
	case 2, 3:
		return Verdict{Kind: Drop}
	case 4:
		return Verdict{Kind: Reject}
	case 5:
		return Verdict{Kind: Return}
	case 6, 7:
		if len(g.free) > 0 {
			c := g.free[0]
			g.free = g.free[1:]
			k := Jump
			if g.r.Intn(2) == 0 {
				k = Goto
			}
			return Verdict{Kind: k, Target: c}
		}
	}
	return Verdict{Kind: Continue}
}

func (g *gen) rules(n int) []*Rule {
	var out []*Rule
	for i := 0; i < n; i++ {
		r := &Rule{Origin: "gen"}
		for j := g.r.Intn(3); j >= 0; j-- {
			r.Conds = append(r.Conds, g.cond())
		}
		if g.r.Intn(8) == 0 {
			r.Actions = append(r.Actions, SetMark{Mask: 0xff, Xor: uint32(1 + g.r.Intn(2))})
		}
		if g.r.Intn(10) == 0 {
			r.Map = &VerdictMap{Entries: []MapEntry{
				{Cond: src4(false, genSrc[g.r.Intn(len(genSrc))]), Verdict: g.verdict()},
				{Cond: src4(false, genSrc[g.r.Intn(len(genSrc))]), Verdict: g.verdict()},
			}}
		} else {
			r.Verdict = g.verdict()
		}
		out = append(out, r)
	}
	return out
}

// ruleset builds base chains and a tree of user chains: each user chain
// is the target of at most one rule, so a packet visits each rule at most
// once and the reference's per-rule assignment equals the evaluator's
// per-visit fork.
func (g *gen) ruleset() *Ruleset {
	rs := &Ruleset{}
	users := make([]*Chain, g.r.Intn(4))
	for i := range users {
		users[i] = &Chain{Name: fmt.Sprintf("user%d", i)}
	}
	g.free = append([]*Chain(nil), users...)
	hooks := []Hook{Prerouting, Input, Input}
	for i := g.r.Intn(3); i >= 0; i-- {
		policy := Accept
		if g.r.Intn(2) == 0 {
			policy = Drop
		}
		rs.BaseChains = append(rs.BaseChains, &BaseChain{Origin: "gen", Families: []Family{IPv4},
			Hook: hooks[g.r.Intn(3)], Priority: g.r.Intn(5) * 10, Policy: policy,
			Chain: &Chain{Name: "base", Rules: g.rules(2 + g.r.Intn(8))}})
	}
	// Chains are filled after the base chains so that jumps only go to
	// chains created later: no cycles.
	for _, c := range users {
		c.Rules = g.rules(1 + g.r.Intn(5))
	}
	return rs
}

// refResult is the reference outcome of one chain.
type refResult int

const (
	refFall refResult = iota // fell off or returned
	refAccept
	refDrop
)

// refChain interprets a chain recursively, the textbook way.
func refChain(c *Chain, p *Packet, assign map[*Rule]bool, unknownRules map[*Rule]bool) refResult {
	for _, r := range c.Rules {
		matched := true
		for _, cond := range r.Conds {
			t, _ := cond.Eval(p)
			if t == Unknown {
				unknownRules[r] = true
				t = triOf(assign[r])
			}
			if t == False {
				matched = false
				break
			}
		}
		if !matched {
			continue
		}
		for _, a := range r.Actions {
			a.apply(p)
		}
		v := r.Verdict
		if r.Map != nil {
			v = Verdict{Kind: Continue}
			for _, e := range r.Map.Entries {
				if t, _ := e.Cond.Eval(p); t == True {
					v = e.Verdict
					break
				}
			}
		}
		switch v.Kind {
		case Accept:
			return refAccept
		case Drop, Reject:
			return refDrop
		case Return:
			return refFall
		case Jump:
			if res := refChain(v.Target, p, assign, unknownRules); res != refFall {
				return res
			}
		case Goto:
			return refChain(v.Target, p, assign, unknownRules)
		}
	}
	return refFall
}

// refPacket runs every base chain in priority order for one assignment.
func refPacket(rs *Ruleset, p Packet, assign map[*Rule]bool, unknownRules map[*Rule]bool) bool {
	chains := slices.Clone(rs.BaseChains)
	slices.SortStableFunc(chains, func(a, b *BaseChain) int {
		if a.Hook != b.Hook {
			return int(a.Hook) - int(b.Hook)
		}
		return a.Priority - b.Priority
	})
	for _, b := range chains {
		switch refChain(b.Chain, &p, assign, unknownRules) {
		case refDrop:
			return false
		case refFall:
			if b.Policy == Drop {
				return false
			}
		}
	}
	return true
}

// refFate tries every assignment of the unknown conditions met. An
// assignment may lead to rules no earlier path reached, so the set of
// unknown rules grows until no assignment finds a new one.
func refFate(rs *Ruleset, p Packet) (accept, refuse bool) {
	unknownRules := map[*Rule]bool{}
	refPacket(rs, p, map[*Rule]bool{}, unknownRules)
	for {
		var rules []*Rule
		for r := range unknownRules {
			rules = append(rules, r)
		}
		accept, refuse = false, false
		grown := false
		for mask := 0; mask < 1<<len(rules); mask++ {
			assign := map[*Rule]bool{}
			for i, r := range rules {
				assign[r] = mask&(1<<i) != 0
			}
			seen := map[*Rule]bool{}
			if refPacket(rs, p, assign, seen) {
				accept = true
			} else {
				refuse = true
			}
			for r := range seen {
				if !unknownRules[r] {
					unknownRules[r], grown = true, true
				}
			}
		}
		if !grown {
			return accept, refuse
		}
	}
}

func sampleSources(r *rand.Rand) []netip.Addr {
	var out []netip.Addr
	for i := 0; i < 256; i++ {
		out = append(out, netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}))
	}
	for _, s := range []string{"0.0.0.0", "9.255.255.255", "10.0.0.0", "10.255.255.255", "11.0.0.0",
		"126.255.255.255", "128.0.0.0", "192.0.1.255", "192.0.3.0", "198.51.100.0", "198.51.100.255", "255.255.255.255"} {
		out = append(out, netip.MustParseAddr(s))
	}
	for i := 0; i < 40; i++ {
		a := netip.AddrFrom4([4]byte{byte(r.Intn(256)), byte(r.Intn(256)), byte(r.Intn(256)), byte(r.Intn(256))})
		if !a.IsLoopback() {
			out = append(out, a)
		}
	}
	return out
}

func TestRandomRulesetsMatchBruteForce(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 15
	}
	for seed := 1; seed <= seeds; seed++ {
		r := rand.New(rand.NewSource(int64(seed)))
		g := &gen{r: r}
		rs := g.ruleset()
		port := []uint16{6379, 16379}[r.Intn(2)]
		res, err := Evaluate(rs, Query{Family: IPv4, Port: port}, DefaultOptions)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for _, src := range sampleSources(r) {
			anyAccept, anyUndecided := false, false
			for _, ifn := range bruteIfs {
				for _, d := range bruteDsts {
					for _, sp := range bruteSports {
						acc, ref := refFate(rs, NewSYN(src, netip.MustParseAddr(d), sp, port, ifn))
						if acc && !ref {
							anyAccept = true
						} else if acc && ref {
							anyUndecided = true
						}
					}
				}
			}
			wantAcc := anyAccept
			wantUnd := !anyAccept && anyUndecided
			if got := res.Accepted.Contains(src); got != wantAcc {
				t.Fatalf("seed %d: %v accepted = %v, brute force %v", seed, src, got, wantAcc)
			}
			if got := res.Undecided.Contains(src); got != wantUnd {
				t.Fatalf("seed %d: %v undecided = %v, brute force %v", seed, src, got, wantUnd)
			}
		}
		checkAttributions(t, seed, rs, res)
		// The host's own traffic over lo.
		lo := netip.MustParseAddr("127.0.0.1")
		anyAccept := false
		for _, sp := range bruteSports {
			if acc, ref := refFate(rs, NewSYN(lo, lo, sp, port, "lo")); acc && !ref {
				anyAccept = true
			}
		}
		if got := res.LoopbackAccepted.Contains(lo); got != anyAccept && !res.LoopbackUndecided.Contains(lo) {
			t.Fatalf("seed %d: loopback accepted = %v, brute force %v", seed, got, anyAccept)
		}
	}
}

// checkAttributions checks that Explain covers exactly the accepted
// sources with accepting rules or policies, and the sources refused
// everywhere with refusing ones, each a rule or base chain of rs itself.
func checkAttributions(t *testing.T, seed int, rs *Ruleset, res *Result) {
	t.Helper()
	var rb netipx.IPSetBuilder
	rb.AddPrefix(IPv4.All())
	rb.RemovePrefix(IPv4.Loopback())
	rb.RemoveSet(res.Accepted)
	rb.RemoveSet(res.Undecided)
	refusedSet, _ := rb.IPSet()
	for _, c := range []struct {
		set    *netipx.IPSet
		accept bool
	}{{res.Accepted, true}, {refusedSet, false}} {
		as, more := res.Explain(c.set, 0)
		var b netipx.IPSetBuilder
		for _, a := range as {
			if a.Accepted != c.accept {
				t.Fatalf("seed %d: %v attributed as accepted=%v", seed, a.Ranges, a.Accepted)
			}
			for _, r := range a.Ranges {
				b.AddRange(r)
			}
			d := a.Decision
			if len(a.Path) > 0 && d.Kind != ByRule {
				t.Fatalf("seed %d: %v decided by %v with a path", seed, a.Ranges, d.Kind)
			}
			for _, h := range a.Path {
				if k := h.Verdict.Kind; !inRuleset(rs, h) || (h.Map == nil && k != Jump && k != Goto) {
					t.Fatalf("seed %d: %v reached through %q, not a jump of the ruleset", seed, a.Ranges, h.Origin)
				}
			}
			switch d.Kind {
			case ByRule:
				if !inRuleset(rs, d.Rule) || !inBases(rs, d.Base) {
					t.Fatalf("seed %d: %q is not the ruleset's own", seed, d.Rule.Origin)
				}
				k := d.Rule.Verdict.Kind
				if d.Rule.Map == nil && (k == Accept) != c.accept || (!c.accept && k != Drop && k != Reject && d.Rule.Map == nil) {
					t.Fatalf("seed %d: %v accepted=%v by a rule whose verdict is %v", seed, a.Ranges, c.accept, k)
				}
			case ByPolicy:
				if !inBases(rs, d.Base) || (d.Base.Policy == Accept) != c.accept {
					t.Fatalf("seed %d: %v accepted=%v by policy %v", seed, a.Ranges, c.accept, d.Base.Policy)
				}
			case NoBaseChain:
				if !c.accept {
					t.Fatalf("seed %d: %v refused with no base chain", seed, a.Ranges)
				}
			default:
				t.Fatalf("seed %d: %v not attributed", seed, a.Ranges)
			}
		}
		got, _ := b.IPSet()
		if more != 0 || !got.Equal(c.set) {
			t.Fatalf("seed %d: attributions cover %v, want %v", seed, got.Ranges(), c.set.Ranges())
		}
	}
}
