package compile

import (
	"reflect"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
)

// TestLeftField pins what each kind of nft expression on the left of a
// match reads from the packet, and the conditions it implies on its own.
func TestLeftField(t *testing.T) {
	num := func(n int64) nftjson.Literal { return nftjson.Literal{Num: n, IsNum: true} }
	tcp := []uint8{eval.ProtoTCP}
	for _, c := range []struct {
		name     string
		expr     nftjson.Expr
		tableFam eval.Family
		want     field
		implied  []eval.Cond
	}{
		{"ip saddr", nftjson.Payload{Protocol: "ip", Field: "saddr"}, 0,
			field{kind: kAddr, name: "ip saddr", addrField: eval.Src, fam: eval.IPv4}, nil},
		{"ip6 daddr", nftjson.Payload{Protocol: "ip6", Field: "daddr"}, 0,
			field{kind: kAddr, name: "ip6 daddr", addrField: eval.Dst, fam: eval.IPv6}, nil},
		{"ip protocol implies the family", nftjson.Payload{Protocol: "ip", Field: "protocol"}, 0,
			field{kind: kProto, name: "ip protocol", fam: eval.IPv4}, []eval.Cond{eval.IsFamily{Family: eval.IPv4}}},
		{"ip6 nexthdr: the first extension header", nftjson.Payload{Protocol: "ip6", Field: "nexthdr"}, 0,
			field{kind: kNextHdr, name: "ip6 nexthdr", fam: eval.IPv6}, []eval.Cond{eval.IsFamily{Family: eval.IPv6}}},
		{"ip ttl: the client's", nftjson.Payload{Protocol: "ip", Field: "ttl"}, 0,
			field{kind: kChosen, name: "ip ttl", fam: eval.IPv4}, []eval.Cond{eval.IsFamily{Family: eval.IPv4}}},
		{"tcp dport", nftjson.Payload{Protocol: "tcp", Field: "dport"}, 0,
			field{kind: kPort, name: "tcp dport", portField: eval.DPort, protos: tcp}, nil},
		{"th sport: any transport", nftjson.Payload{Protocol: "th", Field: "sport"}, 0,
			field{kind: kPort, name: "th sport", portField: eval.SPort}, nil},
		{"tcp flags", nftjson.Payload{Protocol: "tcp", Field: "flags"}, 0,
			field{kind: kTCPFlags, name: "tcp flags", protos: tcp, mask: 0xff}, nil},
		{"tcp window: the client's", nftjson.Payload{Protocol: "tcp", Field: "window"}, 0,
			field{kind: kChosen, name: "tcp window", protos: tcp}, []eval.Cond{eval.Proto{Protos: tcp}}},
		{"udp length", nftjson.Payload{Protocol: "udp", Field: "length"}, 0,
			field{kind: kUnknown, name: "udp length", protos: []uint8{eval.ProtoUDP}, why: "udp length depends on the client's packet"},
			[]eval.Cond{eval.Proto{Protos: []uint8{eval.ProtoUDP}}}},
		{"icmp type: never a SYN", nftjson.Payload{Protocol: "icmp", Field: "type"}, 0, field{kind: kFalse, name: "icmp type"}, nil},
		{"raw payload", nftjson.Payload{Base: "nh", Offset: 12, Len: 32}, 0,
			field{kind: kUnknown, name: "raw payload", why: "raw payload match (base nh offset 12) not modelled"}, nil},
		{"arp payload", nftjson.Payload{Protocol: "arp", Field: "htype"}, 0,
			field{kind: kUnknown, name: "arp htype", why: "arp htype not modelled"}, nil},
		{"meta iifname", nftjson.Meta{Key: "iifname"}, 0, field{kind: kIface, name: "meta iifname"}, nil},
		{"meta oif", nftjson.Meta{Key: "oif"}, 0, field{kind: kIface, name: "meta oif", out: true}, nil},
		{"meta skuid: no socket on input", nftjson.Meta{Key: "skuid"}, 0, field{kind: kFalse, name: "meta skuid"}, nil},
		{"meta l4proto", nftjson.Meta{Key: "l4proto"}, 0, field{kind: kProto, name: "meta l4proto"}, nil},
		{"meta nfproto", nftjson.Meta{Key: "nfproto"}, 0, field{kind: kFamily, name: "meta nfproto"}, nil},
		{"meta mark", nftjson.Meta{Key: "mark"}, 0, field{kind: kMark, name: "meta mark", mask: 0xffffffff}, nil},
		{"meta pkttype", nftjson.Meta{Key: "pkttype"}, 0, field{kind: kPktType, name: "meta pkttype"}, nil},
		{"meta iiftype", nftjson.Meta{Key: "iiftype"}, 0, field{kind: kIifType, name: "meta iiftype"}, nil},
		{"meta length: the client's", nftjson.Meta{Key: "length"}, 0, field{kind: kChosen, name: "meta length"}, nil},
		{"meta cpu", nftjson.Meta{Key: "cpu"}, 0, field{kind: kUnknown, name: "meta cpu", why: "meta cpu not modelled"}, nil},
		{"ct state", nftjson.Ct{Key: "state"}, 0, field{kind: kCtState, name: "ct state"}, nil},
		{"ct status", nftjson.Ct{Key: "status"}, 0, field{kind: kCtStatus, name: "ct status"}, nil},
		{"ct mark", nftjson.Ct{Key: "mark"}, 0, field{kind: kMark, name: "ct mark", conn: true, mask: 0xffffffff}, nil},
		{"ct direction", nftjson.Ct{Key: "direction"}, 0, field{kind: kCtDir, name: "ct direction"}, nil},
		{"ct original daddr: before DNAT", nftjson.Ct{Key: "daddr", Dir: "original", Family: "ip"}, 0,
			field{kind: kAddr, name: "ct daddr", addrField: eval.OrigDst, fam: eval.IPv4}, nil},
		{"ct reply saddr: after DNAT", nftjson.Ct{Key: "saddr", Dir: "reply"}, eval.IPv6,
			field{kind: kAddr, name: "ct saddr", addrField: eval.Dst, fam: eval.IPv6}, nil},
		{"ct original ip6 saddr, newer key", nftjson.Ct{Key: "ip6 saddr", Dir: "original"}, 0,
			field{kind: kAddr, name: "ct ip6 saddr", addrField: eval.OrigSrc, fam: eval.IPv6}, nil},
		{"ct saddr without a family", nftjson.Ct{Key: "saddr", Dir: "original"}, 0,
			field{kind: kUnknown, name: "ct saddr", why: "ct saddr not modelled"}, nil},
		{"ct original proto-dst", nftjson.Ct{Key: "proto-dst", Dir: "original"}, 0,
			field{kind: kPort, name: "ct proto-dst", portField: eval.OrigDPort}, nil},
		{"ct reply proto-src", nftjson.Ct{Key: "proto-src", Dir: "reply"}, 0,
			field{kind: kPort, name: "ct proto-src", portField: eval.DPort}, nil},
		{"ct expiration", nftjson.Ct{Key: "expiration"}, 0, field{kind: kUnknown, name: "ct expiration", why: "ct expiration not modelled"}, nil},
		{"fib daddr type", nftjson.Fib{Result: "type", Flags: []string{"daddr"}}, 0,
			field{kind: kFibType, name: "fib [daddr] type", addrField: eval.Dst}, nil},
		{"fib saddr . iif oif", nftjson.Fib{Result: "oif", Flags: []string{"saddr", "iif"}}, 0,
			field{kind: kFibOif, name: "fib [saddr iif] oif"}, nil},
		{"fib daddr . iif type", nftjson.Fib{Result: "type", Flags: []string{"daddr", "iif"}}, 0,
			field{kind: kFibType, name: "fib [daddr iif] type", addrField: eval.Dst, ifaceIn: true}, nil},
		{"fib saddr . iif type", nftjson.Fib{Result: "type", Flags: []string{"saddr", "iif"}}, 0,
			field{kind: kUnknown, name: "fib [saddr iif] type", why: "fib [saddr iif] type not modelled"}, nil},
		{"exthdr: the client's", nftjson.OtherExpr{Kind: "exthdr"}, 0, field{kind: kChosen, name: "exthdr"}, nil},
		{"tcp option: the client's", nftjson.OtherExpr{Kind: "tcp option"}, 0, field{kind: kChosen, name: "tcp option"}, nil},
		{"osf", nftjson.OtherExpr{Kind: "osf"}, 0, field{kind: kUnknown, name: "osf", why: "expression osf not modelled"}, nil},
		{"meta mark & mask", nftjson.Binop{Op: "&", Left: nftjson.Meta{Key: "mark"}, Right: num(0xff00)}, 0,
			field{kind: kMark, name: "meta mark", mask: 0xff00, masked: true}, nil},
		{"tcp flags & (syn|ack)", nftjson.Binop{Op: "&", Left: nftjson.Payload{Protocol: "tcp", Field: "flags"},
			Right: nftjson.List{nftjson.Literal{Str: "syn"}, nftjson.Literal{Str: "ack"}}}, 0,
			field{kind: kTCPFlags, name: "tcp flags", protos: tcp, mask: uint32(eval.TCPSyn | eval.TCPAck), masked: true}, nil},
		{"ip saddr & mask: not modelled", nftjson.Binop{Op: "&", Left: nftjson.Payload{Protocol: "ip", Field: "saddr"}, Right: num(0xff)}, 0,
			field{kind: kUnknown, name: "& expression", why: "expression & expression not modelled"}, nil},
		{"meta mark | 1: not modelled", nftjson.Binop{Op: "|", Left: nftjson.Meta{Key: "mark"}, Right: num(1)}, 0,
			field{kind: kUnknown, name: "| expression", why: "expression | expression not modelled"}, nil},
		{"concatenation", nftjson.Concat{nftjson.Payload{Protocol: "ip", Field: "saddr"}}, 0,
			field{kind: kUnknown, name: "concatenation", why: "expression concatenation not modelled"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := leftField(c.expr, c.tableFam)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("\n got %+v\nwant %+v", got, c.want)
			}
			if imp := got.implied(); !reflect.DeepEqual(imp, c.implied) {
				t.Errorf("implied %#v, want %#v", imp, c.implied)
			}
		})
	}
}
