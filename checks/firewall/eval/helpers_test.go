package eval

import (
	"net/netip"
	"testing"

	"go4.org/netipx"
)

func src4(neg bool, prefixes ...string) Cond {
	var rs []netipx.IPRange
	for _, p := range prefixes {
		rs = append(rs, netipx.RangeOfPrefix(netip.MustParsePrefix(p)))
	}
	return NewAddr(Src, FamilyOf(rs[0].From()), neg, rs...)
}

func dport(ports ...uint16) Cond {
	var rs []PortRange
	for _, p := range ports {
		rs = append(rs, PortRange{p, p})
	}
	return Port{Field: DPort, Protos: []uint8{ProtoTCP}, Ranges: rs}
}

func rule(v VerdictKind, conds ...Cond) *Rule {
	return &Rule{Origin: "test", Conds: conds, Verdict: Verdict{Kind: v}}
}

func base(hook Hook, prio int, policy VerdictKind, fams []Family, rules ...*Rule) *BaseChain {
	return &BaseChain{Origin: "test", Families: fams, Hook: hook, Priority: prio, Policy: policy,
		Chain: &Chain{Name: "base", Rules: rules}}
}

var both4and6 = []Family{IPv4, IPv6}

func mustEval(t *testing.T, rs *Ruleset, fam Family, port uint16) *Result {
	t.Helper()
	res, err := Evaluate(rs, Query{Family: fam, Port: port}, DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func set(t *testing.T, items ...string) *netipx.IPSet {
	t.Helper()
	var b netipx.IPSetBuilder
	for _, s := range items {
		if r, err := netipx.ParseIPRange(s); err == nil {
			b.AddRange(r)
			continue
		}
		b.AddPrefix(netip.MustParsePrefix(s))
	}
	s, err := b.IPSet()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// allBut is the family minus loopback and the given ranges.
func allBut(t *testing.T, fam Family, items ...string) *netipx.IPSet {
	t.Helper()
	var b netipx.IPSetBuilder
	b.AddPrefix(fam.All())
	b.RemovePrefix(fam.Loopback())
	b.RemoveSet(set(t, items...))
	s, _ := b.IPSet()
	return s
}

func wantSet(t *testing.T, what string, got, want *netipx.IPSet) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got.Prefixes(), want.Prefixes())
	}
}
