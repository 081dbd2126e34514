package eval

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"go4.org/netipx"
)

func TestNoRulesAcceptsEverything(t *testing.T) {
	res := mustEval(t, &Ruleset{}, IPv4, 6379)
	wantSet(t, "accepted", res.Accepted, allBut(t, IPv4))
	if !res.LoopbackAccepted.Contains(netip.MustParseAddr("127.0.0.1")) {
		t.Error("loopback not accepted without rules")
	}
}

// accept ends only its own base chain; a later chain still drops.
func TestAcceptEndsOnlyItsBaseChain(t *testing.T) {
	rs := &Ruleset{BaseChains: []*BaseChain{
		base(Input, 0, Accept, both4and6, rule(Accept, src4(false, "192.0.2.0/24"))),
		base(Input, 10, Accept, both4and6, rule(Drop, src4(false, "192.0.2.128/25"))),
	}}
	res := mustEval(t, rs, IPv4, 6379)
	wantSet(t, "accepted", res.Accepted, allBut(t, IPv4, "192.0.2.128/25"))
}

// Priorities order base chains, not their position in the ruleset: a mark
// set at prerouting is seen at input.
func TestMarkFromEarlierHook(t *testing.T) {
	mark := &Rule{Conds: []Cond{src4(false, "198.51.100.7/32")}, Actions: []Action{SetMark{Mask: ^uint32(0), Xor: 7}}}
	rs := &Ruleset{BaseChains: []*BaseChain{
		base(Input, 0, Drop, both4and6, rule(Accept, Mark{Mask: 0xff, Value: 7})),
		base(Prerouting, -150, Accept, both4and6, mark),
	}}
	res := mustEval(t, rs, IPv4, 6379)
	wantSet(t, "accepted", res.Accepted, set(t, "198.51.100.7/32"))
}

// "ip saddr != 10.0.0.0/8 drop" in an inet chain must not drop IPv6.
func TestImplicitFamilyDependency(t *testing.T) {
	rs := &Ruleset{BaseChains: []*BaseChain{
		base(Input, 0, Accept, both4and6, rule(Drop, src4(true, "10.0.0.0/8"), dport(6379))),
	}}
	wantSet(t, "IPv4 accepted", mustEval(t, rs, IPv4, 6379).Accepted, set(t, "10.0.0.0/8"))
	wantSet(t, "IPv6 accepted", mustEval(t, rs, IPv6, 6379).Accepted, allBut(t, IPv6))
	wantSet(t, "IPv4 other port", mustEval(t, rs, IPv4, 80).Accepted, allBut(t, IPv4))
}

func TestGotoReturnsToTheCallerOfTheCaller(t *testing.T) {
	outside := &Chain{Name: "OUTSIDE", Rules: []*Rule{rule(Return, src4(false, "198.51.100.0/24")), rule(Drop)}}
	check := &Chain{Name: "CHECK", Rules: []*Rule{
		rule(Return, src4(false, "192.0.2.0/24")),
		{Verdict: Verdict{Kind: Goto, Target: outside}},
		rule(Accept), // never reached: goto does not come back here
	}}
	rs := &Ruleset{BaseChains: []*BaseChain{base(Input, 0, Accept, both4and6,
		&Rule{Verdict: Verdict{Kind: Jump, Target: check}},
		rule(Drop, src4(false, "198.51.100.0/24")),
	)}}
	wantSet(t, "accepted", mustEval(t, rs, IPv4, 6379).Accepted, set(t, "192.0.2.0/24"))
}

func TestUnknownForksAndReportsReason(t *testing.T) {
	rs := &Ruleset{BaseChains: []*BaseChain{base(Input, 0, Drop, both4and6,
		rule(Accept, src4(false, "192.0.2.0/24")),
		rule(Drop, src4(false, "198.51.100.0/24"), Const{Value: Unknown, Reason: "rate limit"}),
		rule(Accept, src4(false, "198.51.100.0/24")),
	)}}
	res := mustEval(t, rs, IPv4, 6379)
	wantSet(t, "accepted", res.Accepted, set(t, "192.0.2.0/24"))
	wantSet(t, "undecided", res.Undecided, set(t, "198.51.100.0/24"))
	if len(res.Reasons) != 1 || res.Reasons[0] != "rate limit" {
		t.Errorf("reasons = %q", res.Reasons)
	}
}

// An unknown condition on a rule whose outcome is the same either way
// does not make anything undecided.
func TestIrrelevantUnknownIsNotReported(t *testing.T) {
	rs := &Ruleset{BaseChains: []*BaseChain{base(Input, 0, Accept, both4and6,
		rule(Continue, Const{Value: Unknown, Reason: "log rate limit"}),
		rule(Accept, Const{Value: Unknown, Reason: "unknown accept"}),
	)}}
	res := mustEval(t, rs, IPv4, 6379)
	wantSet(t, "accepted", res.Accepted, allBut(t, IPv4))
	if len(res.Reasons) != 0 || !res.Undecided.Equal(&netipx.IPSet{}) {
		t.Errorf("reasons = %q, undecided %v", res.Reasons, res.Undecided.Prefixes())
	}
}

func TestUndecidedVerdict(t *testing.T) {
	rs := &Ruleset{BaseChains: []*BaseChain{base(Input, 0, Drop, both4and6,
		&Rule{Conds: []Cond{src4(false, "203.0.113.0/24")}, Verdict: Verdict{Kind: Undecided, Reason: "NFQUEUE"}},
	)}}
	res := mustEval(t, rs, IPv4, 6379)
	wantSet(t, "undecided", res.Undecided, set(t, "203.0.113.0/24"))
	if len(res.Reasons) != 1 || res.Reasons[0] != "NFQUEUE" {
		t.Errorf("reasons = %q", res.Reasons)
	}
}

// A rule on one interface creates contexts; the exposure exists only on
// that interface, and the result says where.
func TestInterfaceContexts(t *testing.T) {
	rs := &Ruleset{BaseChains: []*BaseChain{base(Input, 0, Drop, both4and6,
		rule(Accept, Iface{Names: []IfName{{Name: "lo"}}}),
		rule(Accept, Iface{Names: []IfName{{Name: "eth1"}}}),
		rule(Accept, Iface{Names: []IfName{{Name: "wg", Wildcard: true}}}, src4(false, "192.0.2.0/24")),
	)}}
	res := mustEval(t, rs, IPv4, 6379)
	wantSet(t, "accepted", res.Accepted, allBut(t, IPv4))
	var descs []string
	for _, c := range res.Contexts {
		descs = append(descs, c.IIfDesc)
		if c.IIf == "eth1" {
			wantSet(t, "eth1", c.Accepted, allBut(t, IPv4))
		}
		if strings.HasPrefix(c.IIf, "wg") {
			wantSet(t, "wg*", c.Accepted, set(t, "192.0.2.0/24"))
		}
	}
	if len(res.Contexts) != 2 || res.ContextCount != 3 {
		t.Errorf("contexts %v of %d", descs, res.ContextCount)
	}
	if !res.LoopbackAccepted.Contains(netip.MustParseAddr("127.0.0.1")) {
		t.Error("loopback")
	}
}

func TestVerdictMap(t *testing.T) {
	vm := &Rule{Map: &VerdictMap{Entries: []MapEntry{
		{Cond: dport(6379), Verdict: Verdict{Kind: Drop}},
		{Cond: dport(26379), Verdict: Verdict{Kind: Accept}},
	}}}
	rs := &Ruleset{BaseChains: []*BaseChain{base(Input, 0, Accept, both4and6,
		rule(Accept, src4(false, "192.0.2.0/24")), vm, rule(Drop, dport(26379)))}}
	wantSet(t, "6379", mustEval(t, rs, IPv4, 6379).Accepted, set(t, "192.0.2.0/24"))
	wantSet(t, "26379", mustEval(t, rs, IPv4, 26379).Accepted, allBut(t, IPv4))
	wantSet(t, "80 (map miss, next rule)", mustEval(t, rs, IPv4, 80).Accepted, allBut(t, IPv4))
}

func TestNoTrackMakesConntrackNewFalse(t *testing.T) {
	notrack := &Rule{Conds: []Cond{src4(false, "192.0.2.0/24")}, Actions: []Action{NoTrack{}}}
	rs := &Ruleset{BaseChains: []*BaseChain{
		base(Prerouting, -300, Accept, both4and6, notrack),
		base(Input, 0, Drop, both4and6, rule(Accept, Conntrack{States: CtNew})),
	}}
	wantSet(t, "accepted", mustEval(t, rs, IPv4, 6379).Accepted, allBut(t, IPv4, "192.0.2.0/24"))
}

func TestIngressDevice(t *testing.T) {
	ing := base(Ingress, 0, Accept, both4and6, rule(Drop, src4(false, "198.51.100.0/24")))
	ing.Device = "eth0"
	rs := &Ruleset{BaseChains: []*BaseChain{ing}}
	res := mustEval(t, rs, IPv4, 6379)
	wantSet(t, "accepted", res.Accepted, allBut(t, IPv4)) // from other interfaces
	for _, c := range res.Contexts {
		if c.IIf == "eth0" {
			wantSet(t, "on eth0", c.Accepted, allBut(t, IPv4, "198.51.100.0/24"))
		}
	}
}

func TestTooComplex(t *testing.T) {
	var rules []*Rule
	for i := 0; i < 70; i++ {
		rules = append(rules, rule(Drop, Iface{Names: []IfName{{Name: "if" + itoa(i)}}}))
		d := netip.AddrFrom4([4]byte{203, 0, 113, byte(i)})
		rules = append(rules, rule(Drop, NewAddr(Dst, IPv4, false, netipx.IPRangeFrom(d, d))))
	}
	rs := &Ruleset{BaseChains: []*BaseChain{base(Input, 0, Accept, both4and6, rules...)}}
	_, err := Evaluate(rs, Query{Family: IPv4, Port: 6379}, Options{MaxContexts: 1000})
	if err == nil || !errors.Is(err, ErrTooComplex) {
		t.Fatalf("err = %v", err)
	}
}
