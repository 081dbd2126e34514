package compile

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nfnl"
)

// Rules as nft writes them in bytecode (the forms `nft --debug=netlink`
// shows), built by hand so that the compiler is tested without a kernel.

func u32h(v uint32) []byte { b := make([]byte, 4); binary.NativeEndian.PutUint32(b, v); return b }
func u16h(v uint16) []byte { b := make([]byte, 2); binary.NativeEndian.PutUint16(b, v); return b }
func be16(v uint16) []byte { return []byte{byte(v >> 8), byte(v)} }

func l4(p uint8) []nfnl.Expr {
	return []nfnl.Expr{&nfnl.Meta{Key: nfnl.MetaL4Proto, DReg: nfnl.Reg1}, &nfnl.Cmp{Op: nfnl.CmpEq, SReg: nfnl.Reg1, Data: []byte{p}}}
}

func dport(p uint16) []nfnl.Expr {
	return []nfnl.Expr{&nfnl.Payload{Base: nfnl.BaseTransport, Offset: 2, Len: 2, DReg: nfnl.Reg1},
		&nfnl.Cmp{Op: nfnl.CmpEq, SReg: nfnl.Reg1, Data: be16(p)}}
}

func saddr4(prefix string) []nfnl.Expr {
	p := netip.MustParsePrefix(prefix)
	m := make([]byte, 4)
	for i := 0; i < p.Bits(); i++ {
		m[i/8] |= 0x80 >> (i % 8)
	}
	a := p.Masked().Addr().As4()
	return []nfnl.Expr{&nfnl.Payload{Base: nfnl.BaseNetwork, Offset: 12, Len: 4, DReg: nfnl.Reg1},
		&nfnl.Bitwise{SReg: nfnl.Reg1, DReg: nfnl.Reg1, Len: 4, Mask: m, Xor: make([]byte, 4)},
		&nfnl.Cmp{Op: nfnl.CmpEq, SReg: nfnl.Reg1, Data: a[:]}}
}

func verdict(code int32) nfnl.Expr {
	return &nfnl.Immediate{DReg: nfnl.RegVerdict, Verdict: &nfnl.Verdict{Code: code}}
}

func cat(parts ...[]nfnl.Expr) []nfnl.Expr {
	var out []nfnl.Expr
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// bcChain is a ruleset of one input chain with the given policy.
func bcChain(fam nfnl.Family, policy uint32, rules ...[]nfnl.Expr) *nfnl.Ruleset {
	rs := &nfnl.Ruleset{
		Tables: []*nfnl.Table{{Family: fam, Name: "t"}},
		Chains: []*nfnl.Chain{{Family: fam, Table: "t", Name: "in", HasHook: true, Hooknum: 1,
			HasPolicy: true, Policy: policy, Type: "filter"}},
	}
	for i, r := range rules {
		rs.Rules = append(rs.Rules, &nfnl.Rule{Family: fam, Table: "t", Chain: "in", Handle: uint64(i + 2), Exprs: r})
	}
	return rs
}

func buildBytecode(t *testing.T, rs *nfnl.Ruleset) *eval.Ruleset {
	t.Helper()
	m, _ := Build(Sources{NFTBytecode: Dump[nfnl.Ruleset]{Value: rs, Name: "netlink"}})
	return m
}

func TestBytecodeNexthdrKept(t *testing.T) {
	rs := bcChain(nfnl.FamilyIPv6, 1, cat(
		[]nfnl.Expr{&nfnl.Payload{Base: nfnl.BaseNetwork, Offset: 6, Len: 1, DReg: nfnl.Reg1},
			&nfnl.Cmp{Op: nfnl.CmpEq, SReg: nfnl.Reg1, Data: []byte{6}}},
		dport(6379), []nfnl.Expr{verdict(nfnl.VerdictDrop)}))
	res := evaluate(t, buildBytecode(t, rs), eval.IPv6, 6379)
	if len(res.Accepted.Prefixes()) == 0 || len(res.Choices) == 0 {
		t.Fatalf("a client with an extension header first should get in: accepted %v, choices %v", res.Accepted.Prefixes(), res.Choices)
	}
	if !strings.Contains(strings.Join(res.Choices, " "), "ip6 nexthdr tcp tcp dport 6379 drop") {
		t.Errorf("choices do not name the rule as text: %v", res.Choices)
	}
}

func TestBytecodeAddressesSetsAndMaps(t *testing.T) {
	// Named interval set: 198.51.100.0/25 as start and (exclusive) end.
	set := &nfnl.Set{Family: nfnl.FamilyInet, Table: "t", Name: "trusted", Flags: nfnl.SetInterval, KeyLen: 4,
		Elements: []nfnl.Elem{{Key: []byte{198, 51, 100, 128}, Flags: nfnl.ElemIntervalEnd}, {Key: []byte{198, 51, 100, 0}}, {Key: []byte{0, 0, 0, 0}, Flags: nfnl.ElemIntervalEnd}}}
	vmap := &nfnl.Set{Family: nfnl.FamilyInet, Table: "t", Name: "__map0", Flags: nfnl.SetAnonymous | nfnl.SetMap | nfnl.SetConstant,
		KeyLen: 2, DataType: 0xffffff00, Elements: []nfnl.Elem{{Key: be16(16379), Verdict: &nfnl.Verdict{Code: nfnl.VerdictAccept}}}}
	rs := bcChain(nfnl.FamilyInet, 0,
		// ct state established,related accept
		[]nfnl.Expr{&nfnl.Ct{Key: nfnl.CtState, DReg: nfnl.Reg1},
			&nfnl.Bitwise{SReg: nfnl.Reg1, DReg: nfnl.Reg1, Len: 4, Mask: u32h(6), Xor: u32h(0)},
			&nfnl.Cmp{Op: nfnl.CmpNeq, SReg: nfnl.Reg1, Data: u32h(0)}, verdict(nfnl.VerdictAccept)},
		// meta nfproto ipv4 ip saddr @trusted tcp dport 6379 accept
		cat([]nfnl.Expr{&nfnl.Meta{Key: nfnl.MetaNFProto, DReg: nfnl.Reg1}, &nfnl.Cmp{Op: nfnl.CmpEq, SReg: nfnl.Reg1, Data: []byte{2}},
			&nfnl.Payload{Base: nfnl.BaseNetwork, Offset: 12, Len: 4, DReg: nfnl.Reg1},
			&nfnl.Lookup{SReg: nfnl.Reg1, SetName: "trusted"}},
			l4(6), dport(6379), []nfnl.Expr{verdict(nfnl.VerdictAccept)}),
		// meta nfproto ipv4 ip saddr 192.0.2.0/24 tcp dport 6379 accept
		cat([]nfnl.Expr{&nfnl.Meta{Key: nfnl.MetaNFProto, DReg: nfnl.Reg1}, &nfnl.Cmp{Op: nfnl.CmpEq, SReg: nfnl.Reg1, Data: []byte{2}}},
			saddr4("192.0.2.0/24"), l4(6), dport(6379), []nfnl.Expr{verdict(nfnl.VerdictAccept)}),
		// tcp dport vmap { 16379 : accept }
		cat(l4(6), []nfnl.Expr{&nfnl.Payload{Base: nfnl.BaseTransport, Offset: 2, Len: 2, DReg: nfnl.Reg1},
			&nfnl.Lookup{SReg: nfnl.Reg1, DReg: nfnl.RegVerdict, SetName: "__map0", Attrs: 1 << 3}}),
	)
	rs.Sets = []*nfnl.Set{set, vmap}
	m := buildBytecode(t, rs)
	for _, c := range []struct {
		fam  eval.Family
		port uint16
		want []string
	}{
		{eval.IPv4, 6379, []string{"192.0.2.0/24", "198.51.100.0/25"}},
		{eval.IPv6, 6379, nil},
		{eval.IPv4, 16379, []string{"any"}},
		{eval.IPv6, 16379, []string{"any"}},
	} {
		res := evaluate(t, m, c.fam, c.port)
		if len(c.want) == 1 && c.want[0] == "any" {
			// Every remote source (loopback is counted apart).
			for _, a := range []string{"203.0.113.9", "2001:db8::9"} {
				ad := netip.MustParseAddr(a)
				if eval.FamilyOf(ad) == c.fam && !res.Accepted.Contains(ad) {
					t.Errorf("%v %d: %s not accepted", c.fam, c.port, a)
				}
			}
			continue
		}
		var got []string
		for _, p := range res.Accepted.Prefixes() {
			got = append(got, p.String())
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") || len(res.Reasons) > 0 {
			t.Errorf("%v %d: accepted %v (reasons %v), want %v", c.fam, c.port, got, res.Reasons, c.want)
		}
	}
}

func TestBytecodeXt(t *testing.T) {
	// -m iprange --src-range 203.0.113.1-203.0.113.9 -j ACCEPT, policy drop.
	info := make([]byte, 72)
	copy(info[0:], []byte{203, 0, 113, 1})
	copy(info[16:], []byte{203, 0, 113, 9})
	info[64] = 1
	rs := bcChain(nfnl.FamilyIPv4, 0,
		[]nfnl.Expr{&nfnl.Match{MatchName: "iprange", Rev: 1, Info: info}, verdict(nfnl.VerdictAccept)},
		// An xt target not decoded: undecided, naming the rule.
		[]nfnl.Expr{&nfnl.Target{TargetName: "TPROXY", Rev: 1, Info: make([]byte, 24)}})
	res := evaluate(t, buildBytecode(t, rs), eval.IPv4, 6379)
	var got []string
	for _, p := range res.Accepted.Prefixes() {
		got = append(got, p.String())
	}
	want := "203.0.113.1/32 203.0.113.2/31 203.0.113.4/30 203.0.113.8/31"
	if strings.Join(got, " ") != want {
		t.Errorf("accepted %v, want %s", got, want)
	}
	why := strings.Join(res.Reasons, "; ")
	if !strings.Contains(why, "nft ip t in handle 3") || !strings.Contains(why, "TPROXY") {
		t.Errorf("undecided reason does not name the rule and target: %q", why)
	}
}

func TestBytecodeUnknownExpression(t *testing.T) {
	rs := bcChain(nfnl.FamilyInet, 1, cat(l4(6), dport(6379),
		[]nfnl.Expr{&nfnl.Unknown{ExprName: "frobnicate"}, verdict(nfnl.VerdictDrop)}))
	res := evaluate(t, buildBytecode(t, rs), eval.IPv4, 6379)
	why := strings.Join(res.Reasons, "; ")
	if len(res.Undecided.Prefixes()) == 0 || !strings.Contains(why, "frobnicate") || !strings.Contains(why, "handle 2") {
		t.Errorf("undecided %v, reasons %q", res.Undecided.Prefixes(), why)
	}
}

// "tcp dport > 1024": nft converts the port to host order first.
func TestBytecodeByteorder(t *testing.T) {
	rs := bcChain(nfnl.FamilyIPv4, 0, cat(l4(6),
		[]nfnl.Expr{&nfnl.Payload{Base: nfnl.BaseTransport, Offset: 2, Len: 2, DReg: nfnl.Reg1},
			&nfnl.Byteorder{SReg: nfnl.Reg1, DReg: nfnl.Reg1, Op: 0, Len: 2, Size: 2},
			&nfnl.Cmp{Op: nfnl.CmpGt, SReg: nfnl.Reg1, Data: u16h(1024)}, verdict(nfnl.VerdictAccept)}))
	m := buildBytecode(t, rs)
	for port, want := range map[uint16]bool{1024: false, 6379: true} {
		res := evaluate(t, m, eval.IPv4, port)
		if got := res.Accepted.Contains(netip.MustParseAddr("203.0.113.9")); got != want || len(res.Reasons) > 0 {
			t.Errorf("port %d: accepted %v (reasons %v), want %v", port, got, res.Reasons, want)
		}
	}
}
