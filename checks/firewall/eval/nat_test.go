package eval

import (
	"net/netip"
	"strings"
	"testing"
)

// testRoutes: 192.0.2.1 is the host, 203.0.113.128/26 a container bridge.
type testRoutes struct{}

func (testRoutes) Route(a netip.Addr) (bool, string, bool) {
	switch {
	case a == netip.MustParseAddr("192.0.2.1"):
		return true, "lo", true
	case netip.MustParsePrefix("203.0.113.128/26").Contains(a):
		return false, "br0", true
	}
	return false, "eth0", true
}

func natRule(n *NatTarget, conds ...Cond) *Rule {
	return &Rule{Origin: "test", Conds: conds, Verdict: Verdict{Kind: Nat, Nat: n}}
}

func natBase(rules ...*Rule) *BaseChain {
	b := base(Prerouting, -100, Accept, both4and6, rules...)
	b.NAT = true
	return b
}

var ctr = netip.MustParseAddr("203.0.113.130")

// A DNAT to a container skips INPUT: the allow-list there does not
// protect the published port, FORWARD decides, and Via says how.
func TestDNATTakesForward(t *testing.T) {
	rs := &Ruleset{Routing: testRoutes{}, BaseChains: []*BaseChain{
		natBase(natRule(&NatTarget{Addr: ctr, Port: 6379}, dport(6379))),
		base(Input, 0, Drop, both4and6, rule(Accept, src4(false, "192.0.2.2/32"))),
		base(Forward, 0, Drop, both4and6,
			rule(Drop, Iface{Out: true, Names: []IfName{{Name: "br0"}}}, src4(false, "198.51.100.0/24")),
			rule(Accept, Iface{Out: true, Names: []IfName{{Name: "br0"}}})),
	}}
	res := mustEval(t, rs, IPv4, 6379)
	wantSet(t, "accepted", res.Accepted, allBut(t, IPv4, "198.51.100.0/24"))
	if len(res.Via) != 1 || res.Via[0].String() != "published through DNAT to 203.0.113.130:6379; INPUT rules do not apply" {
		t.Errorf("via = %v", res.Via)
	}
	// The port that is not published still goes by INPUT.
	res = mustEval(t, rs, IPv4, 26379)
	wantSet(t, "accepted", res.Accepted, set(t, "192.0.2.2/32"))
}

// A host port DNAT'd to a Redis port is found and counts only when the
// connection ends on that port; REDIRECT stays local and meets INPUT.
func TestNatPortsAndRedirect(t *testing.T) {
	rs := &Ruleset{Routing: testRoutes{}, BaseChains: []*BaseChain{
		natBase(
			natRule(&NatTarget{Addr: ctr, Port: 6379}, dport(7000)),
			natRule(&NatTarget{Redirect: true, Port: 6379}, dport(8000)),
		),
		base(Input, 0, Drop, both4and6, rule(Accept, src4(false, "192.0.2.0/24"), dport(6379))),
		base(Forward, 0, Accept, both4and6),
	}}
	ports := rs.NatPorts(IPv4, 6379)
	if len(ports) != 2 || ports[0] != 7000 || ports[1] != 8000 {
		t.Fatalf("NatPorts = %v, want [7000 8000]", ports)
	}
	res, err := Evaluate(rs, Query{Family: IPv4, Port: 7000, To: 6379}, DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	wantSet(t, "7000 accepted", res.Accepted, allBut(t, IPv4))
	// REDIRECT: INPUT sees the new port 6379 and its allow-list applies.
	res, err = Evaluate(rs, Query{Family: IPv4, Port: 8000, To: 6379}, DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	wantSet(t, "8000 accepted", res.Accepted, set(t, "192.0.2.0/24"))
	// Without a rewrite a connection to 7000 would reach port 7000, not
	// Redis: a query for another target port accepts nothing.
	res, err = Evaluate(rs, Query{Family: IPv4, Port: 7000, To: 16379}, DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	wantSet(t, "7000 to 16379", res.Accepted, set(t))
}

// FORWARD rules see the rewritten destination; conntrack's original
// tuple keeps the published port, and "ct status dnat accept" (firewalld)
// lets every DNAT'd connection through.
func TestOriginalTupleAndCtStatus(t *testing.T) {
	orig := Port{Field: OrigDPort, Ranges: []PortRange{{7000, 7000}}}
	rs := &Ruleset{Routing: testRoutes{}, BaseChains: []*BaseChain{
		natBase(natRule(&NatTarget{Addr: ctr, Port: 6379}, dport(7000))),
		base(Forward, 0, Drop, both4and6,
			rule(Drop, orig, src4(true, "192.0.2.0/25")),
			rule(Accept, dport(6379)),
		),
	}}
	res, err := Evaluate(rs, Query{Family: IPv4, Port: 7000, To: 6379}, DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	wantSet(t, "accepted", res.Accepted, set(t, "192.0.2.0/25"))

	fw := &Ruleset{Routing: testRoutes{}, BaseChains: []*BaseChain{
		natBase(natRule(&NatTarget{Addr: ctr, Port: 6379}, dport(6379))),
		base(Forward, 10, Drop, both4and6, rule(Accept, Conntrack{States: CtDNAT})),
		base(Input, 10, Drop, both4and6),
	}}
	wantSet(t, "ct status dnat", mustEval(t, fw, IPv4, 6379).Accepted, allBut(t, IPv4))
}

// Unknown routing is never a pass: the fate is undecided and says why.
func TestDNATUnknownRoute(t *testing.T) {
	rs := &Ruleset{BaseChains: []*BaseChain{
		natBase(natRule(&NatTarget{Addr: ctr, Port: 6379}, dport(6379))),
		base(Input, 0, Accept, both4and6),
	}}
	res := mustEval(t, rs, IPv4, 6379)
	wantSet(t, "undecided", res.Undecided, allBut(t, IPv4))
	if len(res.Reasons) != 1 || !strings.Contains(res.Reasons[0], "203.0.113.130") {
		t.Errorf("reasons = %v", res.Reasons)
	}
	// The host's own traffic is NATed in OUTPUT, not in PREROUTING.
	if !res.LoopbackAccepted.Contains(netip.MustParseAddr("127.0.0.1")) {
		t.Error("loopback went through the prerouting DNAT")
	}
}
