package eval

import (
	"net/netip"
	"strings"
	"testing"
)

// Two chains at one priority of a hook run in an order the listing does
// not tell. When one sets a mark the other reads, each order gives
// another fate: the sources whose fate differs are undecided, those both
// orders refuse or accept keep their fate, and the reason names the tie.
func TestTiedChainsEveryOrder(t *testing.T) {
	marker := base(Input, 0, Accept, both4and6,
		&Rule{Origin: "set mark", Conds: []Cond{src4(false, "198.51.100.0/24")}, Actions: []Action{SetMark{Mask: 0xffffffff, Xor: 1}}})
	marker.Origin = "nft ip m input"
	filter := base(Input, 0, Drop, both4and6,
		rule(Accept, Mark{Mask: 0xffffffff, Value: 1}),
		rule(Accept, src4(false, "192.0.2.0/24")))
	filter.Origin = "nft ip f input"
	for _, bcs := range [][]*BaseChain{{marker, filter}, {filter, marker}} {
		rs := &Ruleset{BaseChains: bcs}
		res := mustEval(t, rs, IPv4, 6379)
		wantSet(t, "accepted", res.Accepted, set(t, "192.0.2.0/24"))
		wantSet(t, "undecided", res.Undecided, set(t, "198.51.100.0/24"))
		if !strings.Contains(strings.Join(res.Reasons, "\n"), "nft ip m input, nft ip f input") &&
			!strings.Contains(strings.Join(res.Reasons, "\n"), "nft ip f input, nft ip m input") {
			t.Errorf("reasons do not name the tie: %q", res.Reasons)
		}
		if a, u := EvaluateAddr(rs, NewSYN(netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("192.0.2.1"), 40000, 6379, "eth0")); a || !u {
			t.Errorf("EvaluateAddr: accepted=%v undecided=%v, want undecided", a, u)
		}
		if a, u := EvaluateAddr(rs, NewSYN(netip.MustParseAddr("203.0.113.9"), netip.MustParseAddr("192.0.2.1"), 40000, 6379, "eth0")); a || u {
			t.Errorf("EvaluateAddr 203.0.113.9: accepted=%v undecided=%v, want refused", a, u)
		}
	}
	// At another priority the order is known: the mark is set first.
	marker.Priority = -10
	res := mustEval(t, &Ruleset{BaseChains: []*BaseChain{marker, filter}}, IPv4, 6379)
	wantSet(t, "accepted", res.Accepted, set(t, "192.0.2.0/24", "198.51.100.0/24"))
	wantSet(t, "undecided", res.Undecided, set(t))
}

// Chains that only filter commute: a tie between them is evaluated once.
func TestTiedFiltersOneOrder(t *testing.T) {
	a := base(Input, 0, Drop, both4and6, rule(Accept, src4(false, "192.0.2.0/24")))
	b := base(Input, 0, Accept, both4and6, rule(Drop, src4(false, "192.0.2.128/25")))
	orders, _ := runOrders([]*BaseChain{a, b})
	if len(orders) != 1 {
		t.Fatalf("%d orders for two filters, want 1", len(orders))
	}
	res := mustEval(t, &Ruleset{BaseChains: []*BaseChain{a, b}}, IPv4, 6379)
	wantSet(t, "accepted", res.Accepted, set(t, "192.0.2.0/25"))
	if len(res.Reasons) != 0 {
		t.Errorf("reasons %q", res.Reasons)
	}
}

// Past maxOrders nothing is decided.
func TestTooManyOrders(t *testing.T) {
	var bcs []*BaseChain
	for i := 0; i < 5; i++ {
		bcs = append(bcs, base(Input, 0, Accept, both4and6,
			&Rule{Origin: "set mark", Actions: []Action{SetMark{Mask: 1, Xor: 1}}}))
	}
	if orders, _ := runOrders(bcs); orders != nil {
		t.Fatalf("%d orders, want none past %d", len(orders), maxOrders)
	}
	res := mustEval(t, &Ruleset{BaseChains: bcs}, IPv4, 6379)
	wantSet(t, "accepted", res.Accepted, set(t))
	wantSet(t, "undecided", res.Undecided, allBut(t, IPv4))
}

func TestPermutations(t *testing.T) {
	for n, want := range []int{1, 1, 2, 6, 24} {
		ps := permutations(n)
		seen := map[string]bool{}
		for _, p := range ps {
			seen[fmtInts(p)] = true
		}
		if len(ps) != want || len(seen) != want {
			t.Errorf("permutations(%d): %d, %d distinct; want %d", n, len(ps), len(seen), want)
		}
	}
}

func fmtInts(p []int) string {
	var b strings.Builder
	for _, i := range p {
		b.WriteByte(byte('0' + i))
		b.WriteByte(' ')
	}
	return b.String()
}
