package eval

import (
	"fmt"
	"math/rand"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"go4.org/netipx"
)

// The source index must not change any result: these tests evaluate
// random rulesets, larger and more tangled than the brute-force
// comparison can afford (shared jump targets, chains of chains, negated
// and repeated source conditions, maps keyed by source and port, both
// families), with and without it, and require identical results.

type dagGen struct {
	r       *rand.Rand
	chains  []*Chain // user chains; a rule of chain i jumps only to j > i
	unknown int
}

// prefix returns a random prefix of the family inside a small space, so
// that prefixes nest and overlap.
func (g *dagGen) prefix(fam Family) netipx.IPRange {
	if fam == IPv6 {
		b := netip.MustParseAddr("2001:db8::").As16()
		b[15] = byte(g.r.Intn(256))
		return netipx.RangeOfPrefix(netip.PrefixFrom(netip.AddrFrom16(b), 120+g.r.Intn(9)).Masked())
	}
	base := [][4]byte{{192, 0, 2, 0}, {198, 51, 100, 0}, {10, 0, 0, 0}}[g.r.Intn(3)]
	base[3] = byte(g.r.Intn(256))
	return netipx.RangeOfPrefix(netip.PrefixFrom(netip.AddrFrom4(base), 22+g.r.Intn(11)).Masked())
}

func (g *dagGen) src() Cond {
	fam := IPv4
	if g.r.Intn(4) == 0 {
		fam = IPv6
	}
	var rs []netipx.IPRange
	for i := g.r.Intn(3); i >= 0; i-- {
		rs = append(rs, g.prefix(fam))
	}
	return NewAddr(Src, fam, g.r.Intn(5) == 0, rs...)
}

func (g *dagGen) cond() Cond {
	neg := g.r.Intn(5) == 0
	switch g.r.Intn(12) {
	case 0, 1, 2, 3, 4:
		return g.src()
	case 5:
		return NewAddr(Dst, IPv4, neg, netipx.RangeOfPrefix(netip.MustParsePrefix("203.0.113.0/31")))
	case 6:
		return dport([]uint16{6379, 16379, 80}[g.r.Intn(3)])
	case 7:
		return Port{Field: SPort, Protos: []uint8{ProtoTCP}, Ranges: []PortRange{{1000, 1001}}, Neg: neg}
	case 8:
		return Iface{Names: []IfName{{Name: "eth0"}, {Name: "lo"}}[g.r.Intn(2) : g.r.Intn(2)+1], Neg: neg}
	case 9:
		return Mark{Mask: 0xff, Value: uint32(g.r.Intn(3)), Neg: neg}
	case 10:
		if g.unknown < 3 {
			g.unknown++
			return Const{Value: Unknown, Reason: fmt.Sprintf("unknown %d", g.unknown)}
		}
	}
	return Conntrack{States: CtNew, Neg: neg}
}

func (g *dagGen) verdict(from int) Verdict {
	switch g.r.Intn(12) {
	case 0, 1:
		return Verdict{Kind: Accept}
	case 2, 3:
		return Verdict{Kind: Drop}
	case 4:
		return Verdict{Kind: Return}
	case 5, 6, 7, 8:
		if from+1 < len(g.chains) {
			k := Jump
			if g.r.Intn(4) == 0 {
				k = Goto
			}
			return Verdict{Kind: k, Target: g.chains[from+1+g.r.Intn(len(g.chains)-from-1)]}
		}
	case 9:
		return Verdict{Kind: Undecided, Reason: "queued"}
	}
	return Verdict{Kind: Continue}
}

func (g *dagGen) rules(from, n int) []*Rule {
	var out []*Rule
	for range n {
		r := &Rule{Origin: "gen"}
		for j := g.r.Intn(3); j >= 0; j-- {
			r.Conds = append(r.Conds, g.cond())
		}
		if g.r.Intn(10) == 0 {
			r.Actions = append(r.Actions, SetMark{Mask: 0xff, Xor: uint32(1 + g.r.Intn(2))})
		}
		if g.r.Intn(8) == 0 {
			m := &VerdictMap{}
			for k := g.r.Intn(4); k >= 0; k-- {
				key := g.src()
				if g.r.Intn(2) == 0 {
					key = And{g.src(), dport(6379)}
				}
				m.Entries = append(m.Entries, MapEntry{Cond: key, Verdict: g.verdict(from)})
			}
			r.Map = m
		} else {
			r.Verdict = g.verdict(from)
		}
		out = append(out, r)
	}
	return out
}

func (g *dagGen) ruleset() *Ruleset {
	g.chains = make([]*Chain, 1+g.r.Intn(8))
	for i := range g.chains {
		g.chains[i] = &Chain{Name: fmt.Sprintf("user%d", i)}
	}
	for i, c := range g.chains {
		c.Rules = g.rules(i, 1+g.r.Intn(12))
	}
	rs := &Ruleset{}
	for i := g.r.Intn(3); i >= 0; i-- {
		policy := Accept
		if g.r.Intn(2) == 0 {
			policy = Drop
		}
		// Base chain rules may jump to any user chain.
		rs.BaseChains = append(rs.BaseChains, &BaseChain{Origin: "gen", Families: both4and6,
			Hook: []Hook{Prerouting, Input}[g.r.Intn(2)], Priority: g.r.Intn(3) * 10, Policy: policy,
			Chain: &Chain{Name: "base", Rules: g.rules(-1, 1+g.r.Intn(15))}})
	}
	return rs
}

// describe renders everything a Result says, for comparison.
func describe(res *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "accepted %v\nundecided %v\nloopback %v / %v\nreasons %q\npieces %d contexts %d\n",
		res.Accepted.Ranges(), res.Undecided.Ranges(), res.LoopbackAccepted.Ranges(), res.LoopbackUndecided.Ranges(),
		res.Reasons, res.Pieces, res.ContextCount)
	for _, c := range res.Contexts {
		fmt.Fprintf(&b, "context %q %v %v: %v / %v\n", c.IIf, c.Dst, c.SPort, c.Accepted.Ranges(), c.Undecided.Ranges())
	}
	return b.String()
}

func evaluateBoth(t *testing.T, rs *Ruleset, q Query) (indexed, every string) {
	t.Helper()
	res, err := Evaluate(rs, q, DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	walkEveryRule = true
	defer func() { walkEveryRule = false }()
	ref, err := Evaluate(rs, q, DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	return describe(res), describe(ref)
}

func TestSourceIndexChangesNoResult(t *testing.T) {
	seeds := 400
	if testing.Short() {
		seeds = 80
	}
	for seed := 1; seed <= seeds; seed++ {
		g := &dagGen{r: rand.New(rand.NewSource(int64(seed)))}
		rs := g.ruleset()
		for _, q := range []Query{{Family: IPv4, Port: 6379}, {Family: IPv6, Port: 6379}, {Family: IPv4, Port: 16379}} {
			got, want := evaluateBoth(t, rs, q)
			if got != want {
				t.Fatalf("seed %d, %v: with the index\n%s\nwalking every rule\n%s", seed, q, got, want)
			}
		}
	}
}

// Each shape the index handles on its own, with a known answer, so that a
// failure names the case.
func TestSourceIndexCases(t *testing.T) {
	trusted := &Chain{Name: "TRUSTED", Rules: []*Rule{
		rule(Continue), // LOG: never a candidate
		rule(Accept, src4(false, "192.0.2.0/28")),
	}}
	empty := &Chain{Name: "EMPTY", Rules: []*Rule{rule(Drop, src4(false, "203.0.113.0/24"))}}
	cases := []struct {
		name  string
		rules []*Rule
		want  *netipx.IPSet
	}{
		{"negated source", []*Rule{rule(Drop, src4(true, "192.0.2.0/24")), rule(Accept)},
			set(t, "192.0.2.0/24")},
		{"two source conditions", []*Rule{rule(Accept, src4(false, "192.0.2.0/24"), src4(false, "192.0.2.128/25", "198.51.100.0/24"))},
			set(t, "192.0.2.128/25")},
		{"source and negated source", []*Rule{rule(Accept, src4(false, "192.0.2.0/24"), src4(true, "192.0.2.16/28"))},
			set(t, "192.0.2.0-192.0.2.15", "192.0.2.32-192.0.2.255")},
		{"jump to a chain with something for the piece", []*Rule{{Verdict: Verdict{Kind: Jump, Target: trusted}}},
			set(t, "192.0.2.0/28")},
		{"jump to a chain empty for most pieces, then drop", []*Rule{
			{Verdict: Verdict{Kind: Jump, Target: empty}}, rule(Accept, src4(false, "198.51.100.0/24"))},
			set(t, "198.51.100.0/24")},
		// goto an empty chain returns from the calling chain: not elided.
		{"goto an empty chain", []*Rule{
			{Verdict: Verdict{Kind: Goto, Target: empty}}, rule(Accept, src4(false, "198.51.100.0/24"))},
			&netipx.IPSet{}},
		// A jump with an action changes the packet even into an empty chain.
		{"jump with a mark into an empty chain", []*Rule{
			{Actions: []Action{SetMark{Mask: ^uint32(0), Xor: 1}}, Verdict: Verdict{Kind: Jump, Target: empty}},
			rule(Accept, Mark{Mask: ^uint32(0), Value: 1}, src4(false, "198.51.100.0/25"))},
			set(t, "198.51.100.0/25")},
		{"map keyed by source and port", []*Rule{{Map: &VerdictMap{Entries: []MapEntry{
			{Cond: And{src4(false, "192.0.2.0/24"), dport(6379)}, Verdict: Verdict{Kind: Accept}},
			{Cond: src4(false, "192.0.2.0/25"), Verdict: Verdict{Kind: Accept}},
		}}}}, set(t, "192.0.2.0/24")},
		{"whole space", []*Rule{rule(Accept, src4(false, "0.0.0.0/0")), rule(Accept)},
			allBut(t, IPv4)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs := &Ruleset{BaseChains: []*BaseChain{base(Input, 0, Drop, both4and6, c.rules...)}}
			res := mustEval(t, rs, IPv4, 6379)
			wantSet(t, "accepted", res.Accepted, c.want)
			if got, want := evaluateBoth(t, rs, Query{Family: IPv4, Port: 6379}); got != want {
				t.Errorf("with the index\n%s\nwalking every rule\n%s", got, want)
			}
		})
	}
}

// A cycle of jumps is refused by the kernel; in a model it must still end
// in the walk's depth limit, undecided, and never in an elided jump.
func TestSourceIndexCycle(t *testing.T) {
	a := &Chain{Name: "A"}
	b := &Chain{Name: "B", Rules: []*Rule{{Verdict: Verdict{Kind: Jump, Target: a}}}}
	a.Rules = []*Rule{{Verdict: Verdict{Kind: Jump, Target: b}}}
	rs := &Ruleset{BaseChains: []*BaseChain{base(Input, 0, Accept, both4and6, &Rule{Verdict: Verdict{Kind: Jump, Target: a}})}}
	res := mustEval(t, rs, IPv4, 6379)
	wantSet(t, "undecided", res.Undecided, allBut(t, IPv4))
	if !slices.ContainsFunc(res.Reasons, func(r string) bool { return strings.Contains(r, "nested deeper") }) {
		t.Errorf("reasons = %q", res.Reasons)
	}
}
