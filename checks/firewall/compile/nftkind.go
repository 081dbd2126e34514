package compile

import (
	"fmt"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
)

// kind is what the left side of an nft match reads from the packet.
type kind uint8

const (
	kUnknown kind = iota
	kFalse        // cannot be loaded for a TCP SYN delivered locally
	kAddr
	kPort
	kIface
	kProto
	kFamily
	kCtState
	kCtStatus
	kMark
	kTCPFlags
	kFibType
	kFibOif
	kPktType
	kIifType
	kCtDir
	kNextHdr // the IPv6 header's own Next Header field
	kChosen  // a field of the first SYN the client shapes freely
)

// field describes a match's left side.
type field struct {
	kind      kind
	name      string // for messages: "ip saddr"
	addrField eval.AddrField
	fam       eval.Family // kAddr, and the implicit family of other fields
	portField eval.PortField
	protos    []uint8 // implicit transport protocol
	out       bool    // kIface on the output interface
	ifaceIn   bool    // kFibType looked up on the input interface only
	conn      bool    // kMark on the connection
	mask      uint32  // kMark, kTCPFlags: "& mask"
	masked    bool
	why       string // kUnknown
}

var l4Protos = map[string]uint8{"tcp": eval.ProtoTCP, "udp": eval.ProtoUDP, "sctp": 132,
	"dccp": 33, "udplite": 136}

// leftField classifies the left side of a match. tableFam is the family
// of an ip or ip6 table (0 for inet, netdev, bridge).
func leftField(e nftjson.Expr, tableFam eval.Family) field {
	switch x := e.(type) {
	case nftjson.Payload:
		return payloadField(x)
	case nftjson.Meta:
		return metaField(x, tableFam)
	case nftjson.Ct:
		return ctField(x, tableFam)
	case nftjson.Fib:
		return fibField(x)
	case nftjson.OtherExpr:
		switch x.Kind {
		case "exthdr", "tcp option", "ip option":
			// Whether the first SYN carries the header or option, and
			// what is in it, is the client's choice.
			return field{kind: kChosen, name: x.Kind}
		}
	case nftjson.Binop:
		if x.Op != "&" {
			break
		}
		inner := leftField(x.Left, tableFam)
		m, ok := x.Right.(nftjson.Literal)
		if inner.kind == kMark && ok && m.IsNum {
			inner.mask, inner.masked = uint32(m.Num), true
			return inner
		}
		if inner.kind == kTCPFlags {
			if f, err := flagBits(x.Right); err == nil {
				inner.mask, inner.masked = uint32(f), true
				return inner
			}
		}
	}
	why := "expression " + exprName(e) + " not modelled"
	if hint := unmodelledHints[exprName(e)]; hint != "" {
		why += ": " + hint
	}
	return field{kind: kUnknown, name: exprName(e), why: why}
}

// unmodelledHints say what to change in a rule whose key is not modelled.
var unmodelledHints = map[string]string{
	"meta iifgroup": "interface groups are not read; match the interfaces by name (iifname) instead",
	"meta time":     "a date either has passed (the match never holds again) or is still to come; remove the rule once its date has passed, or use meta hour and meta day",
}

// l4ProtoList holds l4Protos as one-element lists, shared by every
// condition that needs one (conditions are never modified).
var l4ProtoList = func() map[string][]uint8 {
	m := make(map[string][]uint8, len(l4Protos))
	for name, p := range l4Protos {
		m[name] = []uint8{p}
	}
	return m
}()

func payloadField(p nftjson.Payload) field {
	name := p.Protocol + " " + p.Field
	switch p.Protocol {
	case "ip", "ip6":
		fam := eval.IPv4
		if p.Protocol == "ip6" {
			fam = eval.IPv6
		}
		switch p.Field {
		case "saddr", "daddr":
			af := eval.Src
			if p.Field == "daddr" {
				af = eval.Dst
			}
			return field{kind: kAddr, name: name, addrField: af, fam: fam}
		case "protocol":
			return field{kind: kProto, name: name, fam: fam}
		case "nexthdr":
			// Not the transport protocol: the first extension header,
			// which the client may put before TCP.
			return field{kind: kNextHdr, name: name, fam: fam}
		}
		return field{kind: kChosen, name: name, fam: fam}
	case "tcp", "udp", "sctp", "dccp", "udplite", "th":
		var protos []uint8
		if p.Protocol != "th" {
			protos = l4ProtoList[p.Protocol]
		}
		switch p.Field {
		case "sport", "dport":
			pf := eval.SPort
			if p.Field == "dport" {
				pf = eval.DPort
			}
			return field{kind: kPort, name: name, portField: pf, protos: protos}
		case "flags":
			if p.Protocol == "tcp" {
				return field{kind: kTCPFlags, name: name, protos: protos, mask: 0xff}
			}
		}
		if p.Protocol == "tcp" {
			return field{kind: kChosen, name: name, protos: protos}
		}
		return field{kind: kUnknown, name: name, protos: protos, why: name + " depends on the client's packet"}
	case "icmp", "icmpv6", "igmp", "esp", "ah", "comp", "gre":
		// Implies a protocol other than TCP.
		return field{kind: kFalse, name: name}
	case "":
		return field{kind: kUnknown, name: "raw payload", why: fmt.Sprintf("raw payload match (base %s offset %d) not modelled", p.Base, p.Offset)}
	}
	return field{kind: kUnknown, name: name, why: name + " not modelled"}
}

func metaField(m nftjson.Meta, tableFam eval.Family) field {
	name := "meta " + m.Key
	switch m.Key {
	case "iifname", "iif":
		return field{kind: kIface, name: name}
	case "oifname", "oif":
		// Set on the FORWARD path of a DNAT'd connection; eval.Iface
		// says what it reads where there is none.
		return field{kind: kIface, name: name, out: true}
	case "oiftype", "oifgroup", "skuid", "skgid", "oifkind":
		// There is no output interface or local socket yet on the input
		// path; nft ends the rule when it cannot load the key.
		return field{kind: kFalse, name: name}
	case "l4proto":
		return field{kind: kProto, name: name}
	case "nfproto", "protocol":
		return field{kind: kFamily, name: name}
	case "mark":
		return field{kind: kMark, name: name, mask: 0xffffffff}
	case "pkttype":
		return field{kind: kPktType, name: name}
	case "iiftype":
		return field{kind: kIifType, name: name}
	case "length":
		return field{kind: kChosen, name: name}
	case "hour", "day":
		// The client picks the moment it connects, and every hour of
		// the day and day of the week comes back.
		return field{kind: kChosen, name: name}
	case "iifgroup", "time":
		return field{kind: kUnknown, name: name, why: name + " not modelled: " + unmodelledHints[name]}
	}
	return field{kind: kUnknown, name: name, why: name + " not modelled"}
}

func ctField(c nftjson.Ct, tableFam eval.Family) field {
	name := "ct " + c.Key
	switch c.Key {
	case "state":
		return field{kind: kCtState, name: name}
	case "status":
		return field{kind: kCtStatus, name: name}
	case "mark":
		return field{kind: kMark, name: name, conn: true, mask: 0xffffffff}
	case "direction":
		return field{kind: kCtDir, name: name}
	case "helper":
		// The helper of the connection's master (nft_ct.c reads
		// ct->master): a client's own connection has none, whatever
		// helper "ct helper set" or a raw "-j CT --helper" gave it, and
		// nft ends the rule when it cannot load the key, for == and !=
		// alike.
		return field{kind: kFalse, name: name}
	case "l3proto":
		return field{kind: kFamily, name: name}
	case "protocol":
		return field{kind: kProto, name: name}
	case "saddr", "daddr", "ip saddr", "ip daddr", "ip6 saddr", "ip6 daddr":
		fam := tableFam
		switch c.Family {
		case "ip":
			fam = eval.IPv4
		case "ip6":
			fam = eval.IPv6
		}
		if len(c.Key) > 5 {
			if c.Key[:3] == "ip6" {
				fam = eval.IPv6
			} else {
				fam = eval.IPv4
			}
		}
		if fam == 0 {
			break
		}
		// The original tuple keeps the addresses before DNAT and SNAT;
		// the reply tuple mirrors the rewritten ones.
		src := c.Key[len(c.Key)-5:] == "saddr"
		af := eval.OrigDst
		switch {
		case c.Dir == "reply" && src:
			af = eval.Dst
		case c.Dir == "reply":
			af = eval.Src
		case src:
			af = eval.OrigSrc
		}
		return field{kind: kAddr, name: name, addrField: af, fam: fam}
	case "proto-src", "proto-dst":
		src := c.Key == "proto-src"
		pf := eval.OrigDPort
		switch {
		case c.Dir == "reply" && src:
			pf = eval.DPort
		case src, c.Dir == "reply":
			pf = eval.SPort
		}
		return field{kind: kPort, name: name, portField: pf}
	}
	return field{kind: kUnknown, name: name, why: name + " not modelled"}
}

func fibField(f nftjson.Fib) field {
	name := fmt.Sprintf("fib %v %s", f.Flags, f.Result)
	has := map[string]bool{}
	for _, x := range f.Flags {
		has[x] = true
	}
	switch {
	case f.Result == "type" && len(f.Flags) == 1 && has["daddr"]:
		return field{kind: kFibType, name: name, addrField: eval.Dst}
	case f.Result == "type" && len(f.Flags) == 2 && has["daddr"] && has["iif"]:
		return field{kind: kFibType, name: name, addrField: eval.Dst, ifaceIn: true}
	case f.Result == "type" && len(f.Flags) == 1 && has["saddr"]:
		return field{kind: kFibType, name: name, addrField: eval.Src}
	case (f.Result == "oif" || f.Result == "oifname") && has["saddr"] && has["iif"]:
		return field{kind: kFibOif, name: name}
	}
	return field{kind: kUnknown, name: name, why: name + " not modelled"}
}

func exprName(e nftjson.Expr) string {
	switch x := e.(type) {
	case nftjson.OtherExpr:
		return x.Kind
	case nftjson.Payload:
		return x.Protocol + " " + x.Field
	case nftjson.Meta:
		return "meta " + x.Key
	case nftjson.Ct:
		return "ct " + x.Key
	case nftjson.Binop:
		return x.Op + " expression"
	case nftjson.Concat:
		return "concatenation"
	}
	return fmt.Sprintf("%T", e)
}

// implied returns the conditions a field implies on its own (its family
// and protocol dependencies), which hold whatever the operator.
func (f field) implied() []eval.Cond {
	var out []eval.Cond
	if f.fam != 0 && f.kind != kAddr {
		out = append(out, eval.IsFamily{Family: f.fam})
	}
	if len(f.protos) > 0 && f.kind != kPort && f.kind != kTCPFlags {
		out = append(out, eval.Proto{Protos: f.protos})
	}
	return out
}
