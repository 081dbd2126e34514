package compile

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nfnl"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// stream feeds rs to a Stream as a reader does: Begin with everything but
// the rules, then each chain's rules in order, then End; again while End
// asks for it (at most three readings in all, as nfnl.Read allows).
func stream(t *testing.T, rs *nfnl.Ruleset) (*eval.Ruleset, int) {
	t.Helper()
	s := NewStream(func() Sources { return Sources{} }, func(idx []uint16) (map[uint16]string, error) {
		return nil, fmt.Errorf("no ipsets here (%d asked)", len(idx))
	})
	defer s.Close()
	head := &nfnl.Ruleset{Generation: rs.Generation, Tables: rs.Tables, Chains: rs.Chains, Sets: rs.Sets, Objects: rs.Objects}
	for reading := 1; reading <= 3; reading++ {
		if err := s.Begin(head); err != nil {
			t.Fatal(err)
		}
		for _, ch := range rs.Chains {
			var rules []*nfnl.Rule
			for _, r := range rs.Rules {
				if r.Family == ch.Family && r.Table == ch.Table && r.Chain == ch.Name {
					rules = append(rules, r)
				}
			}
			if len(rules) > 0 {
				if err := s.Rules(rules); err != nil {
					t.Fatal(err)
				}
			}
		}
		err := s.End(head)
		if errors.Is(err, nfnl.ErrReread) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		m, _ := s.Result()
		return m, reading
	}
	t.Fatal("the stream asked for a fourth reading")
	return nil, 0
}

// sameVerdicts fails unless a and b answer every query alike.
func sameVerdicts(t *testing.T, name string, a, b *eval.Ruleset) {
	t.Helper()
	for _, fam := range []eval.Family{eval.IPv4, eval.IPv6} {
		for _, port := range []uint16{22, 80, 6379, 16379, 26379} {
			ra, rb := evaluate(t, a, fam, port), evaluate(t, b, fam, port)
			if !ra.Accepted.Equal(rb.Accepted) || !ra.Undecided.Equal(rb.Undecided) ||
				strings.Join(ra.Reasons, "\n") != strings.Join(rb.Reasons, "\n") {
				t.Errorf("%s %v/%d: whole reading accepts %v, undecided %v (%q); streamed accepts %v, undecided %v (%q)",
					name, fam, port, ra.Accepted.Prefixes(), ra.Undecided.Prefixes(), ra.Reasons,
					rb.Accepted.Prefixes(), rb.Undecided.Prefixes(), rb.Reasons)
			}
		}
	}
}

// Compiling as the rules arrive gives the model compiling the whole
// reading gives, on every recorded ruleset.
func TestStreamMatchesWholeReading(t *testing.T) {
	dir := testenv.Testdata(t, "firewall", "nfnl")
	recs, _ := filepath.Glob(filepath.Join(dir, "*.rec"))
	if len(recs) == 0 {
		t.Fatal("no recordings in", dir)
	}
	for _, rec := range recs {
		t.Run(filepath.Base(rec), func(t *testing.T) {
			decode := func() *nfnl.Ruleset {
				f, err := os.Open(rec)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				rs, err := nfnl.Decode(f)
				if err != nil {
					t.Fatal(err)
				}
				return rs
			}
			whole, _ := Build(Sources{NFTBytecode: Dump[nfnl.Ruleset]{Value: decode(), Name: "whole"}})
			streamed, _ := stream(t, decode())
			sameVerdicts(t, filepath.Base(rec), whole, streamed)
		})
	}
}

// A set that a later rule fills from the packet path was read as fixed
// by the rule before it: the stream asks for a second reading, which
// judges the lookup as the whole reading does (undecided, never
// refused).
func TestStreamLateUpdateRereads(t *testing.T) {
	// Build lets go of the rules it reads: each path gets its own.
	ruleset := func() *nfnl.Ruleset {
		known := &nfnl.Set{Family: nfnl.FamilyIPv4, Table: "t", Name: "knocked", KeyLen: 4, KeyType: 7}
		rs := bcChain(nfnl.FamilyIPv4, 0,
			cat(l4(6), dport(6379), []nfnl.Expr{
				&nfnl.Payload{Base: nfnl.BaseNetwork, Offset: 12, Len: 4, DReg: nfnl.Reg1},
				&nfnl.Lookup{SReg: nfnl.Reg1, SetName: "knocked"}}, []nfnl.Expr{verdict(1)}),
			cat(l4(6), dport(7000), []nfnl.Expr{
				&nfnl.Payload{Base: nfnl.BaseNetwork, Offset: 12, Len: 4, DReg: nfnl.Reg1},
				&nfnl.Dynset{SetName: "knocked", SRegKey: nfnl.Reg1, Op: 0}}),
		)
		rs.Sets = []*nfnl.Set{known}
		return rs
	}
	whole, _ := Build(Sources{NFTBytecode: Dump[nfnl.Ruleset]{Value: ruleset(), Name: "whole"}})
	streamed, readings := stream(t, ruleset())
	if readings != 2 {
		t.Errorf("%d readings, want 2 (the update is known only after the lookup)", readings)
	}
	sameVerdicts(t, "late update", whole, streamed)
	if res := evaluate(t, streamed, eval.IPv4, 6379); !res.Undecided.Contains(netip.MustParseAddr("203.0.113.9")) {
		t.Errorf("6379 from a knocker: accepted %v undecided %v, want undecided", res.Accepted.Prefixes(), res.Undecided.Prefixes())
	}
}

// A reading abandoned half way (a deadline, a raced attempt) lets the
// compiling goroutine go.
func TestStreamCloseLetsGo(t *testing.T) {
	var rules [][]nfnl.Expr
	for i := range 3000 {
		rules = append(rules, cat(l4(6), dport(uint16(1000+i)), []nfnl.Expr{verdict(1)}))
	}
	rs := bcChain(nfnl.FamilyIPv4, 0, rules...)
	before := runtime.NumGoroutine()
	for range 20 {
		s := NewStream(func() Sources { return Sources{} }, nil)
		if err := s.Begin(&nfnl.Ruleset{Tables: rs.Tables, Chains: rs.Chains}); err != nil {
			t.Fatal(err)
		}
		if err := s.Rules(rs.Rules[:2000]); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if m, _ := s.Result(); m != nil {
			t.Fatal("an abandoned reading has a result")
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after 20 abandoned readings, %d before", n, before)
	}
}

// nft's anonymous sets are constant: a lookup in one is its elements. A
// netlink client may bind a set that is neither named nor constant, and
// a rule may fill it from the packet path: then its elements are not
// the answer, in the whole reading as in the stream.
func TestAnonymousSetUpdatedFromThePacketPath(t *testing.T) {
	for _, c := range []struct {
		flags     uint32
		undecided bool
	}{
		{nfnl.SetAnonymous | nfnl.SetConstant, false},
		{nfnl.SetAnonymous, true},
	} {
		ruleset := func() *nfnl.Ruleset {
			set := &nfnl.Set{Family: nfnl.FamilyIPv4, Table: "t", Name: "__set0", Flags: c.flags, KeyLen: 4, KeyType: 7,
				Elements: []nfnl.Elem{{Key: []byte{192, 0, 2, 1}}}}
			rs := bcChain(nfnl.FamilyIPv4, 0,
				cat(l4(6), dport(6379), []nfnl.Expr{
					&nfnl.Payload{Base: nfnl.BaseNetwork, Offset: 12, Len: 4, DReg: nfnl.Reg1},
					&nfnl.Lookup{SReg: nfnl.Reg1, SetName: "__set0"}}, []nfnl.Expr{verdict(1)}),
				cat(l4(6), dport(7000), []nfnl.Expr{
					&nfnl.Payload{Base: nfnl.BaseNetwork, Offset: 12, Len: 4, DReg: nfnl.Reg1},
					&nfnl.Dynset{SetName: "__set0", SRegKey: nfnl.Reg1}}),
			)
			rs.Sets = []*nfnl.Set{set}
			return rs
		}
		whole := buildBytecode(t, ruleset())
		streamed, _ := stream(t, ruleset())
		sameVerdicts(t, fmt.Sprintf("flags %#x", c.flags), whole, streamed)
		res := evaluate(t, whole, eval.IPv4, 6379)
		member, other := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("203.0.113.9")
		if c.undecided {
			if !res.Undecided.Contains(member) || !res.Undecided.Contains(other) {
				t.Errorf("flags %#x: accepted %v undecided %v, want every source undecided", c.flags, res.Accepted.Prefixes(), res.Undecided.Prefixes())
			}
		} else if !res.Accepted.Contains(member) || res.Accepted.Contains(other) || res.Undecided.Contains(other) {
			t.Errorf("flags %#x: accepted %v undecided %v, want only 192.0.2.1 accepted", c.flags, res.Accepted.Prefixes(), res.Undecided.Prefixes())
		}
	}
}
