package eval

import "testing"

// What a packet for this host looks like to matches that read something
// it does not have yet, or only has on some paths: its connection before
// conntrack, its output interface, the type of its destination seen from
// the input interface.

func TestStateBeforeConntrack(t *testing.T) {
	notNew := rule(Accept, Conntrack{States: CtNew, Neg: true})
	raw := &Ruleset{BaseChains: []*BaseChain{base(Prerouting, -300, Drop, both4and6, notNew)}}
	wantSet(t, "raw: the state reads INVALID", mustEval(t, raw, IPv4, 6379).Accepted, allBut(t, IPv4))
	after := &Ruleset{BaseChains: []*BaseChain{base(Prerouting, -150, Drop, both4and6, notNew)}}
	wantSet(t, "after conntrack: NEW", mustEval(t, after, IPv4, 6379).Accepted, set(t))
	tie := &Ruleset{BaseChains: []*BaseChain{base(Prerouting, -200, Drop, both4and6, notNew)}}
	res := mustEval(t, tie, IPv4, 6379)
	wantSet(t, "at conntrack's priority: undecided", res.Undecided, allBut(t, IPv4))
	mark := &Ruleset{BaseChains: []*BaseChain{base(Prerouting, -300, Accept, both4and6,
		rule(Drop, Tracked{C: Mark{Conn: true, Mask: 1, Value: 0}}))}}
	wantSet(t, "ct mark before conntrack: undecided", mustEval(t, mark, IPv4, 6379).Undecided, allBut(t, IPv4))
}

func TestOutputInterfaceOnInputPath(t *testing.T) {
	eth0 := []IfName{{Name: "eth0"}}
	neg := &Ruleset{BaseChains: []*BaseChain{base(Input, 0, Drop, both4and6, rule(Accept, Iface{Out: true, Names: eth0, Neg: true}))}}
	res := mustEval(t, neg, IPv4, 6379)
	wantSet(t, "oifname != eth0: accepted", res.Accepted, set(t))
	wantSet(t, "oifname != eth0: undecided", res.Undecided, allBut(t, IPv4))
	pos := &Ruleset{BaseChains: []*BaseChain{base(Input, 0, Accept, both4and6, rule(Drop, Iface{Out: true, Names: eth0}))}}
	wantSet(t, "oifname eth0: never", mustEval(t, pos, IPv4, 6379).Accepted, allBut(t, IPv4))
}

func TestAddrTypeOfIPv6InXtables(t *testing.T) {
	notUnicast := func(xt6 bool) *Ruleset {
		return &Ruleset{BaseChains: []*BaseChain{base(Input, 0, Accept, both4and6,
			rule(Drop, AddrType{Field: Dst, Types: TypeUnicast, Neg: true, XT6: xt6}))}}
	}
	wantSet(t, "ip6tables: the host's address is UNICAST", mustEval(t, notUnicast(true), IPv6, 6379).Accepted, allBut(t, IPv6))
	wantSet(t, "iptables: LOCAL only", mustEval(t, notUnicast(true), IPv4, 6379).Accepted, set(t))
	wantSet(t, "nft fib: LOCAL only", mustEval(t, notUnicast(false), IPv6, 6379).Accepted, set(t))
	local := &Ruleset{BaseChains: []*BaseChain{base(Input, 0, Drop, both4and6,
		rule(Accept, AddrType{Field: Dst, Types: TypeUnicast | TypeLocal, XT6: true}))}}
	wantSet(t, "UNICAST,LOCAL: both hold", mustEval(t, local, IPv6, 6379).Accepted, allBut(t, IPv6))
}

func TestAddrTypeOnTheInputInterface(t *testing.T) {
	for _, fam := range both4and6 {
		rs := &Ruleset{BaseChains: []*BaseChain{base(Input, 0, Accept, both4and6,
			rule(Drop, AddrType{Field: Dst, Types: TypeLocal, IfaceIn: true, XT6: true}))}}
		res := mustEval(t, rs, fam, 6379)
		// Sent to an address of another interface, the SYN is not LOCAL
		// where it comes in.
		wantSet(t, fam.String()+" accepted", res.Accepted, allBut(t, fam))
		if len(res.Choices) == 0 {
			t.Errorf("%v: no choice reported", fam)
		}
		src := &Ruleset{BaseChains: []*BaseChain{base(Input, 0, Accept, both4and6,
			rule(Drop, AddrType{Field: Src, Types: TypeUnicast, IfaceIn: true, XT6: true}))}}
		wantSet(t, fam.String()+" remote source: UNICAST", mustEval(t, src, fam, 6379).Accepted, set(t))
	}
}
