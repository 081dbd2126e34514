package eval

import "testing"

// What a packet for this host looks like to matches that read something
// it does not have, or only has on some paths.

func TestOutputInterfaceOnInputPath(t *testing.T) {
	eth0 := []IfName{{Name: "eth0"}}
	neg := &Ruleset{BaseChains: []*BaseChain{base(Input, 0, Drop, both4and6, rule(Accept, Iface{Out: true, Names: eth0, Neg: true}))}}
	res := mustEval(t, neg, IPv4, 6379)
	wantSet(t, "oifname != eth0: accepted", res.Accepted, set(t))
	wantSet(t, "oifname != eth0: undecided", res.Undecided, allBut(t, IPv4))
	pos := &Ruleset{BaseChains: []*BaseChain{base(Input, 0, Accept, both4and6, rule(Drop, Iface{Out: true, Names: eth0}))}}
	wantSet(t, "oifname eth0: never", mustEval(t, pos, IPv4, 6379).Accepted, allBut(t, IPv4))
}
