package compile

import (
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nfnl"
)

// FuzzBytecode: any sequence of expressions, with any registers, lengths
// and data, compiles without a panic, and the model evaluates; compiled
// as a reader streams it (Stream), it gets the verdicts the whole reading
// gets, whatever the rules update and look up.
func FuzzBytecode(f *testing.F) {
	f.Add([]byte{0, 0, 1, 6, 1, 1, 2, 2, 0x18, 0xeb, 9, 0})
	f.Add([]byte{0, 3, 0, 1, 4, 1, 6, 0, 5, 1, 7, 2, 1, 2, 9, 1})
	// Rule 1 looks the source address up in @s and accepts; rule 2
	// adds it to @s.
	f.Add([]byte{3, 2, 1, 12, 4, 1, 6, 1, 0, 0, 0, 8, 6, 2, 1, 12, 4, 1, 12, 0, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		next := func() byte {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return b
		}
		bytes := func() []byte {
			n := int(next() % 20)
			out := make([]byte, 0, n)
			for range n {
				out = append(out, next())
			}
			return out
		}
		reg := func() uint32 { return uint32(next() % 25) }
		// Two rules, split where the first byte says (an update in the
		// second may concern a lookup in the first), in a chain whose
		// policy its top bit gives.
		split := int(next())
		policy := uint32(split >> 7)
		var exprs []nfnl.Expr
		for len(data) > 0 && len(exprs) < 64 {
			switch next() % 13 {
			case 0:
				exprs = append(exprs, &nfnl.Meta{Key: uint32(next() % 24), DReg: reg()})
			case 1:
				exprs = append(exprs, &nfnl.Cmp{Op: uint32(next() % 7), SReg: reg(), Data: bytes()})
			case 2:
				exprs = append(exprs, &nfnl.Payload{Base: uint32(next() % 4), Offset: uint32(next()), Len: uint32(next() % 20), DReg: reg()})
			case 3:
				exprs = append(exprs, &nfnl.Ct{Key: uint32(next() % 24), DReg: reg(), Dir: next() % 2, Attrs: uint32(next())})
			case 4:
				exprs = append(exprs, &nfnl.Bitwise{SReg: reg(), DReg: reg(), Op: uint32(next() % 3), Mask: bytes(), Xor: bytes()})
			case 5:
				exprs = append(exprs, &nfnl.Range{Op: uint32(next() % 2), SReg: reg(), From: bytes(), To: bytes()})
			case 6:
				exprs = append(exprs, &nfnl.Lookup{SReg: reg(), DReg: reg(), SetName: []string{"s", "m", "x"}[next()%3], Flags: uint32(next() % 2)})
			case 7:
				exprs = append(exprs, &nfnl.Immediate{DReg: reg(), Data: bytes()})
			case 8:
				exprs = append(exprs, &nfnl.Immediate{Verdict: &nfnl.Verdict{Code: int32(next()%10) - 5, Chain: "c"}})
			case 9:
				exprs = append(exprs, &nfnl.Match{MatchName: []string{"tcp", "conntrack", "set", "multiport"}[next()%4], Rev: uint32(next() % 4), Info: bytes()})
			case 10:
				exprs = append(exprs, &nfnl.Nat{Type: uint32(next() % 2), Family: uint32(next() % 11), RegAddrMin: reg(), RegProtoMin: reg()})
			case 11:
				exprs = append(exprs, &nfnl.Fib{Result: uint32(next() % 4), Flags: uint32(next() % 64), DReg: reg()})
			case 12:
				exprs = append(exprs, &nfnl.Dynset{SetName: []string{"s", "m", "x"}[next()%3], SRegKey: reg(), Op: uint32(next() % 3)})
			}
		}
		cut := (split & 0x7f) % (len(exprs) + 1)
		for _, fam := range []nfnl.Family{nfnl.FamilyIPv4, nfnl.FamilyInet} {
			// Build lets go of the rules it reads: each path gets its own.
			ruleset := func() *nfnl.Ruleset {
				rs := bcChain(fam, policy, exprs[:cut], exprs[cut:])
				rs.Chains = append(rs.Chains, &nfnl.Chain{Family: fam, Table: "t", Name: "c"})
				rs.Sets = []*nfnl.Set{
					{Family: fam, Table: "t", Name: "s", Flags: nfnl.SetInterval, KeyLen: 4, Elements: []nfnl.Elem{{Key: []byte{1, 2, 3, 4}}, {Key: []byte{1}, Flags: 1}}},
					{Family: fam, Table: "t", Name: "m", Flags: nfnl.SetMap, DataType: 0xffffff00, KeyLen: 2, Elements: []nfnl.Elem{{Key: []byte{0x18, 0xeb}, Verdict: &nfnl.Verdict{Code: 1}}}},
				}
				return rs
			}
			m := buildBytecode(t, ruleset())
			for _, q := range []eval.Query{{Family: eval.IPv4, Port: 6379}, {Family: eval.IPv6, Port: 6379}} {
				if _, err := eval.Evaluate(m, q, eval.DefaultOptions); err != nil {
					t.Logf("evaluate: %v", err)
				}
			}
			streamed, _ := stream(t, ruleset())
			sameVerdicts(t, fam.String(), m, streamed)
		}
	})
}
