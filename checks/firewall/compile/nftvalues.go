package compile

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
)

// errDynamic marks a lookup in a set that rules fill from traffic.
var errDynamic = errors.New("set is filled by rules from past traffic")

// elems expands the right side of a match into its alternatives: the
// members of an anonymous or named set, or the single value.
func (t *nftTable) elems(e nftjson.Expr) ([]nftjson.Expr, error) {
	switch x := e.(type) {
	case nftjson.AnonSet:
		var out []nftjson.Expr
		for _, it := range x {
			sub, err := t.elems(it)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		}
		return out, nil
	case nftjson.Elem:
		return []nftjson.Expr{x.Val}, nil
	case nftjson.SetRef:
		s := t.sets[x.Name]
		if s == nil {
			return nil, fmt.Errorf("set @%s not found in table %s %s", x.Name, t.family, t.name)
		}
		if s.IsMap() {
			return nil, fmt.Errorf("@%s is a map, used as a set", x.Name)
		}
		if t.dynamic[x.Name] || s.HasFlag("dynamic") {
			return nil, fmt.Errorf("@%s: %w", x.Name, errDynamic)
		}
		var out []nftjson.Expr
		for _, it := range s.Elems {
			sub, err := t.elems(it)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		}
		return out, nil
	}
	return []nftjson.Expr{e}, nil
}

// nftPortKey identifies a port match on one range with at most one
// implicit protocol; nftProtoKey a protocol match on one protocol.
type nftPortKey struct {
	field   eval.PortField
	nprotos int
	proto   uint8
	neg     bool
	r       eval.PortRange
}

type nftProtoKey struct {
	proto uint8
	neg   bool
}

// maxSharedConds bounds a table of shared conditions. Addresses, which a
// per-host ruleset rarely repeats, get a smaller table: past it, each
// costs its entry and saves nothing.
const (
	maxSharedConds = 1 << 16
	maxSharedAddrs = 1 << 12
)

// nftAddrKey identifies an address match on one literal (bits -1) or
// prefix; the zero key (no family) is no key.
type nftAddrKey struct {
	field eval.AddrField
	fam   eval.Family
	neg   bool
	addr  string
	bits  int
}

// valueCond builds the condition "f OP right".
func (t *nftTable) valueCond(f field, op string, right nftjson.Expr, origin string) eval.Cond {
	implied := f.implied()
	wrap := func(c eval.Cond) eval.Cond {
		if len(implied) == 0 {
			return c
		}
		return append(eval.And(implied), c)
	}
	switch f.kind {
	case kUnknown:
		return wrap(unknown("%s: %s", origin, f.why))
	case kFalse:
		return constCond(eval.False)
	case kChosen:
		if f.name == "exthdr" || f.name == "tcp option" || f.name == "ip option" {
			// "exists" is true, "missing" false; a plain first SYN has
			// neither extension headers nor options.
			if l, ok := right.(nftjson.Literal); ok && (l.Str == "true" || l.Str == "false") && (op == "==" || op == "!=") {
				return wrap(chosenHeader(f.name, (l.Str == "false") == (op == "==")))
			}
		}
		return wrap(chosenField(f.name))
	}
	neg := false
	switch op {
	case "==", "in":
	case "!=":
		neg = true
	case "<", ">", "<=", ">=":
		if f.kind != kPort {
			return wrap(unknown("%s: %s %s comparison not modelled", origin, f.name, op))
		}
	case "!":
		// nft's "!" on flags: none of the bits is set, as iptables-nft
		// writes "--tcp-flags ALL NONE" (Shorewall's tcpflags chain).
		if f.kind != kTCPFlags || f.masked {
			return wrap(unknown("%s: operator %q not modelled", origin, op))
		}
	default:
		return wrap(unknown("%s: operator %q not modelled", origin, op))
	}
	var one [1]nftjson.Expr
	var vals []nftjson.Expr
	switch right.(type) {
	case nftjson.AnonSet, nftjson.Elem, nftjson.SetRef:
		var err error
		if vals, err = t.elems(right); err != nil {
			return wrap(unknown("%s: %s: %v", origin, f.name, err))
		}
	default:
		one[0] = right // what elems returns for a single value
		vals = one[:]
	}
	c, err := t.kindCond(f, op, neg, vals)
	if err != nil {
		return wrap(unknown("%s: %s: %v", origin, f.name, err))
	}
	return wrap(c)
}

// kindCond builds the condition for a classified field and its values.
func (t *nftTable) kindCond(f field, op string, neg bool, vals []nftjson.Expr) (eval.Cond, error) {
	switch f.kind {
	case kAddr:
		// One literal address or prefix, the common case, is built once
		// per ruleset (see iptCompiler on sharing conditions).
		var k nftAddrKey
		if len(vals) == 1 {
			switch v := vals[0].(type) {
			case nftjson.Literal:
				k = nftAddrKey{field: f.addrField, fam: f.fam, neg: neg, addr: v.Str, bits: -1}
				if v.IsNum || v.Null {
					k = nftAddrKey{}
				}
			case nftjson.Prefix:
				k = nftAddrKey{field: f.addrField, fam: f.fam, neg: neg, addr: v.Addr, bits: v.Len}
			}
			if c, ok := t.b.nftAddrs[k]; ok && k.fam != 0 {
				return c, nil
			}
		}
		var rs []netipx.IPRange
		for _, v := range vals {
			r, err := addrValue(v, f.fam)
			if err != nil {
				return nil, err
			}
			rs = append(rs, r)
		}
		c := eval.NewAddr(f.addrField, f.fam, neg, rs...)
		if k.fam != 0 && len(t.b.nftAddrs) < maxSharedAddrs {
			if t.b.nftAddrs == nil {
				t.b.nftAddrs = map[nftAddrKey]eval.Cond{}
			}
			t.b.nftAddrs[k] = c
		}
		return c, nil
	case kPort:
		var rs []eval.PortRange
		for _, v := range vals {
			r, err := portValue(v)
			if err != nil {
				return nil, err
			}
			rs = append(rs, r)
		}
		if op != "==" && op != "!=" && op != "in" {
			if len(rs) != 1 || rs[0].Lo != rs[0].Hi {
				return nil, fmt.Errorf("%s needs one number", op)
			}
			p := rs[0].Lo
			switch op {
			case "<":
				if p == 0 {
					return constCond(eval.False), nil
				}
				rs[0] = eval.PortRange{Lo: 0, Hi: p - 1}
			case "<=":
				rs[0] = eval.PortRange{Lo: 0, Hi: p}
			case ">":
				if p == 65535 {
					return constCond(eval.False), nil
				}
				rs[0] = eval.PortRange{Lo: p + 1, Hi: 65535}
			case ">=":
				rs[0] = eval.PortRange{Lo: p, Hi: 65535}
			}
		}
		if len(rs) == 1 && len(f.protos) <= 1 {
			// "tcp dport 6379" repeats across a large ruleset: one
			// condition serves every rule.
			k := nftPortKey{field: f.portField, nprotos: len(f.protos), neg: neg, r: rs[0]}
			if len(f.protos) == 1 {
				k.proto = f.protos[0]
			}
			if c, ok := t.b.nftPorts[k]; ok {
				return c, nil
			}
			c := eval.Cond(eval.Port{Field: f.portField, Protos: f.protos, Ranges: rs, Neg: neg})
			if len(t.b.nftPorts) < maxSharedConds {
				if t.b.nftPorts == nil {
					t.b.nftPorts = map[nftPortKey]eval.Cond{}
				}
				t.b.nftPorts[k] = c
			}
			return c, nil
		}
		return eval.Port{Field: f.portField, Protos: f.protos, Ranges: rs, Neg: neg}, nil
	case kIface:
		var names []eval.IfName
		for _, v := range vals {
			s, err := strValue(v)
			if err != nil {
				return nil, err
			}
			names = append(names, parseIfName(s))
		}
		return eval.Iface{Out: f.out, Names: names, Neg: neg}, nil
	case kChosen:
		return chosenField(f.name), nil
	case kNextHdr:
		var ps []uint8
		for _, v := range vals {
			p, err := protoValue(v)
			if err != nil {
				return nil, err
			}
			ps = append(ps, p)
		}
		return eval.NextHdr{Values: ps, Neg: neg}, nil
	case kProto:
		var ps []uint8
		for _, v := range vals {
			p, err := protoValue(v)
			if err != nil {
				return nil, err
			}
			ps = append(ps, p)
		}
		if len(ps) == 1 {
			k := nftProtoKey{proto: ps[0], neg: neg}
			if c, ok := t.b.nftProtos[k]; ok {
				return c, nil
			}
			c := eval.Cond(eval.Proto{Protos: ps, Neg: neg})
			if t.b.nftProtos == nil {
				t.b.nftProtos = map[nftProtoKey]eval.Cond{}
			}
			t.b.nftProtos[k] = c
			return c, nil
		}
		return eval.Proto{Protos: ps, Neg: neg}, nil
	case kFamily:
		var or eval.Or
		for _, v := range vals {
			fam, err := familyValue(v)
			if err != nil {
				return nil, err
			}
			if fam != 0 {
				or = append(or, eval.IsFamily{Family: fam})
			}
		}
		return maybeNot(or, neg), nil
	case kCtState:
		names, err := flagNames(vals)
		if err != nil {
			return nil, err
		}
		s, err := parseCtStates(names)
		if err != nil {
			return nil, err
		}
		return eval.Conntrack{States: s, Neg: neg}, nil
	case kCtStatus:
		names, err := flagNames(vals)
		if err != nil {
			return nil, err
		}
		return ctStatusCond(names, neg), nil
	case kMark:
		var or eval.Or
		for _, v := range vals {
			l, ok := v.(nftjson.Literal)
			if !ok || !l.IsNum {
				return nil, fmt.Errorf("mark value %v not modelled", v)
			}
			or = append(or, eval.Mark{Conn: f.conn, Mask: f.mask, Value: uint32(l.Num) & f.mask})
		}
		return maybeNot(or, neg), nil
	case kTCPFlags:
		if op == "!" {
			var none uint8
			for _, v := range vals {
				bits, err := flagBits(v)
				if err != nil {
					return nil, err
				}
				none |= bits
			}
			return eval.And{eval.Proto{Protos: []uint8{eval.ProtoTCP}}, eval.TCPFlags{Mask: none, Comp: 0}}, nil
		}
		var or eval.Or
		for _, v := range vals {
			bits, err := flagBits(v)
			if err != nil {
				return nil, err
			}
			if op == "in" && !f.masked {
				// "tcp flags syn": any of the bits is set.
				or = append(or, eval.Not{C: eval.TCPFlags{Mask: bits, Comp: 0}})
				continue
			}
			or = append(or, eval.TCPFlags{Mask: uint8(f.mask), Comp: bits})
		}
		return eval.And{eval.Proto{Protos: []uint8{eval.ProtoTCP}}, maybeNot(or, neg)}, nil
	case kFibType:
		names, err := flagNames(vals)
		if err != nil {
			return nil, err
		}
		types, err := parseAddrTypes(names)
		if err != nil {
			return nil, err
		}
		return eval.AddrType{Field: f.addrField, Types: types, Neg: neg, IfaceIn: f.ifaceIn}, nil
	case kFibOif:
		if len(vals) != 1 {
			return nil, fmt.Errorf("reverse-path value set not modelled")
		}
		l, ok := vals[0].(nftjson.Literal)
		if !ok {
			return nil, fmt.Errorf("reverse-path value not modelled")
		}
		exists := l.Str == "true"
		if l.Str == "false" || (l.IsNum && l.Num == 0) || (!l.IsNum && l.Str == "") {
			exists = false
		} else if !exists {
			return nil, fmt.Errorf("reverse-path comparison with %v not modelled", l)
		}
		return reversePath(exists != neg), nil
	case kPktType:
		names, err := flagNames(vals)
		if err != nil {
			return nil, err
		}
		host := false
		for _, n := range names {
			if n == "host" || n == "unicast" {
				host = true
			}
		}
		return constCond(negate(boolTri(host), neg)), nil
	case kIifType:
		names, err := flagNames(vals)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if n != "loopback" {
				return nil, fmt.Errorf("interface type %q of remote traffic is not known", n)
			}
		}
		return eval.Iface{Names: []eval.IfName{{Name: "lo"}}, Neg: neg}, nil
	case kCtDir:
		names, err := flagNames(vals)
		if err != nil {
			return nil, err
		}
		orig := len(names) == 1 && names[0] == "original"
		return constCond(negate(boolTri(orig), neg)), nil
	}
	return nil, fmt.Errorf("field kind %d not modelled", f.kind)
}

func maybeNot(c eval.Cond, neg bool) eval.Cond {
	if neg {
		return eval.Not{C: c}
	}
	return c
}

// addrValue parses an address, prefix or range value.
func addrValue(v nftjson.Expr, fam eval.Family) (netipx.IPRange, error) {
	switch x := v.(type) {
	case nftjson.Literal:
		if x.IsNum {
			break
		}
		return parseAddrOrPrefix(x.Str, fam)
	case nftjson.Prefix:
		a, err := netip.ParseAddr(x.Addr)
		if err != nil || eval.FamilyOf(a.Unmap()) != fam {
			return netipx.IPRange{}, fmt.Errorf("bad prefix address %q", x.Addr)
		}
		p, err := a.Unmap().Prefix(x.Len)
		if err != nil {
			return netipx.IPRange{}, fmt.Errorf("bad prefix %s/%d", x.Addr, x.Len)
		}
		return netipx.RangeOfPrefix(p), nil
	case nftjson.Range:
		lo, err1 := addrValue(x.Lo, fam)
		hi, err2 := addrValue(x.Hi, fam)
		if err1 != nil || err2 != nil || hi.To().Less(lo.From()) {
			return netipx.IPRange{}, fmt.Errorf("bad address range")
		}
		return netipx.IPRangeFrom(lo.From(), hi.To()), nil
	}
	return netipx.IPRange{}, fmt.Errorf("address value %v not modelled", v)
}

func portValue(v nftjson.Expr) (eval.PortRange, error) {
	switch x := v.(type) {
	case nftjson.Literal:
		if x.IsNum {
			if x.Num < 0 || x.Num > 65535 {
				return eval.PortRange{}, fmt.Errorf("port %d out of range", x.Num)
			}
			return eval.PortRange{Lo: uint16(x.Num), Hi: uint16(x.Num)}, nil
		}
		p, err := parsePort(x.Str)
		if err != nil {
			return eval.PortRange{}, err
		}
		return eval.PortRange{Lo: p, Hi: p}, nil
	case nftjson.Range:
		lo, err1 := portValue(x.Lo)
		hi, err2 := portValue(x.Hi)
		if err1 != nil || err2 != nil || hi.Lo < lo.Lo {
			return eval.PortRange{}, fmt.Errorf("bad port range")
		}
		return eval.PortRange{Lo: lo.Lo, Hi: hi.Lo}, nil
	}
	return eval.PortRange{}, fmt.Errorf("port value %v not modelled", v)
}

func strValue(v nftjson.Expr) (string, error) {
	if l, ok := v.(nftjson.Literal); ok && !l.IsNum && !l.Null {
		return l.Str, nil
	}
	return "", fmt.Errorf("value %v is not a name", v)
}

func protoValue(v nftjson.Expr) (uint8, error) {
	if l, ok := v.(nftjson.Literal); ok {
		if l.IsNum {
			if l.Num < 0 || l.Num > 255 {
				return 0, fmt.Errorf("protocol %d out of range", l.Num)
			}
			return uint8(l.Num), nil
		}
		if l.Str == "ip" {
			// nft names protocol number 0 after /etc/protocols ("ip"),
			// where iptables means any protocol by it.
			return 0, nil
		}
		return parseProto(l.Str)
	}
	return 0, fmt.Errorf("protocol value %v not modelled", v)
}

// familyValue reads nfproto, ethertype and l3proto values; 0 for a family
// that is neither IPv4 nor IPv6 (arp).
func familyValue(v nftjson.Expr) (eval.Family, error) {
	l, ok := v.(nftjson.Literal)
	if !ok {
		return 0, fmt.Errorf("family value %v not modelled", v)
	}
	if l.IsNum {
		switch l.Num {
		case 2, 0x0800:
			return eval.IPv4, nil
		case 10, 0x86dd:
			return eval.IPv6, nil
		}
		return 0, nil
	}
	switch strings.ToLower(l.Str) {
	case "ipv4", "ip":
		return eval.IPv4, nil
	case "ipv6", "ip6":
		return eval.IPv6, nil
	case "arp", "8021q", "8021ad", "vlan":
		return 0, nil
	}
	return 0, fmt.Errorf("family %q not known", l.Str)
}

// flagNames flattens names written as a string, a list or a set.
func flagNames(vals []nftjson.Expr) ([]string, error) {
	var out []string
	for _, v := range vals {
		switch x := v.(type) {
		case nftjson.List:
			sub, err := flagNames(x)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		case nftjson.Literal:
			if x.IsNum {
				return nil, fmt.Errorf("numeric flag value %d not modelled", x.Num)
			}
			out = append(out, strings.ToLower(x.Str))
		default:
			return nil, fmt.Errorf("flag value %v not modelled", v)
		}
	}
	return out, nil
}

// flagBits reads TCP flags as a name, a list of names or a number.
func flagBits(v nftjson.Expr) (uint8, error) {
	switch x := v.(type) {
	case nftjson.Literal:
		if x.IsNum {
			return uint8(x.Num), nil
		}
		return parseTCPFlags(x.Str)
	case nftjson.List:
		var b uint8
		for _, e := range x {
			f, err := flagBits(e)
			if err != nil {
				return 0, err
			}
			b |= f
		}
		return b, nil
	case nftjson.Binop:
		if x.Op == "|" {
			l, err1 := flagBits(x.Left)
			r, err2 := flagBits(x.Right)
			if err1 == nil && err2 == nil {
				return l | r, nil
			}
		}
	}
	return 0, fmt.Errorf("TCP flags value %v not modelled", v)
}
