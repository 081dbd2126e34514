package compile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nfnl"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
)

// regVal is what a register holds: the expression that loaded it, as
// the nft compiler reads a match's left side, and how to print the bytes
// compared with it as a value.
type regVal struct {
	left nftjson.Expr
	len  int
	// value prints compared bytes; nil when the register's content is
	// not understood (left then says what it is).
	value func([]byte) (nftjson.Expr, error)
	// flags names the bits of a bit-set key (ct state, ct status), for
	// "key & mask != 0", which nft lists as "key in {names}".
	flags []bitName
	// masked is the mask a bitwise applied to a flags key.
	masked uint32
	// proto marks a load of the transport protocol (meta l4proto, ip
	// protocol, ip6 nexthdr): an equality sets the context transport
	// header fields are named in. family marks nfproto-like keys.
	proto, family bool
	// imm holds immediate data, for nat and mangling statements.
	imm []byte
	// be marks a big-endian number (a port, a header field): a byteorder
	// conversion to host order keeps its meaning.
	be bool
	// host marks a host-order number (meta length, mark): nft converts it
	// to network order before an ordering comparison.
	host bool
	// addr marks an address: its printed values, rarely repeated in a
	// ruleset, are not worth keeping for sharing.
	addr bool
}

type bitName struct {
	bit  uint32
	name string
}

var ctStateBits = []bitName{{1, "invalid"}, {2, "established"}, {4, "related"}, {8, "new"}, {64, "untracked"}}
var ctStatusBits = []bitName{{1, "expected"}, {2, "seen-reply"}, {4, "assured"}, {8, "confirmed"},
	{16, "snat"}, {32, "dnat"}, {512, "dying"}}

// flagList prints the names of a bit set; ok is false for an unnamed bit.
func flagList(v uint32, table []bitName) (nftjson.List, bool) {
	var out nftjson.List
	for _, b := range table {
		if v&b.bit != 0 {
			out = append(out, nftjson.Literal{Str: b.name})
			v &^= b.bit
		}
	}
	return out, v == 0
}

// errLen is a comparison whose length does not fit the field.
var errLen = errors.New("value length does not fit the field")

func numValue(n int) func([]byte) (nftjson.Expr, error) {
	return func(b []byte) (nftjson.Expr, error) {
		if len(b) != n {
			return nil, errLen
		}
		var v uint64
		switch n {
		case 1:
			v = uint64(b[0])
		case 2:
			v = uint64(binary.NativeEndian.Uint16(b))
		case 4:
			v = uint64(binary.NativeEndian.Uint32(b))
		default:
			return nil, errLen
		}
		return nftjson.Literal{Num: int64(v), IsNum: true}, nil
	}
}

// beValue prints a network-order number (ports, ethertypes).
func beValue(n int) func([]byte) (nftjson.Expr, error) {
	return func(b []byte) (nftjson.Expr, error) {
		if len(b) != n {
			return nil, errLen
		}
		var v uint64
		for _, c := range b {
			v = v<<8 | uint64(c)
		}
		return nftjson.Literal{Num: int64(v), IsNum: true}, nil
	}
}

// addrValueOf prints an address of full bytes, or the first bytes of one
// as a prefix (nft loads only the bytes a prefix covers); bits narrows a
// prefix further after a mask.
func addrValueOf(full, bits int) func([]byte) (nftjson.Expr, error) {
	return func(b []byte) (nftjson.Expr, error) {
		if len(b) > full {
			return nil, errLen
		}
		buf := make([]byte, full)
		copy(buf, b)
		a, _ := netip.AddrFromSlice(buf)
		n := len(b) * 8
		if bits >= 0 && bits < n {
			n = bits
		}
		if n == full*8 {
			return nftjson.Literal{Str: a.String()}, nil
		}
		return nftjson.Prefix{Addr: a.String(), Len: n}, nil
	}
}

func ifnameValue(b []byte) (nftjson.Expr, error) {
	i := 0
	for i < len(b) && b[i] != 0 {
		i++
	}
	if i == len(b) {
		// No terminator compared: a prefix ("eth*").
		return nftjson.Literal{Str: string(b) + "*"}, nil
	}
	for _, c := range b[i:] {
		if c != 0 {
			return nil, fmt.Errorf("interface name with bytes after its end")
		}
	}
	return nftjson.Literal{Str: string(b[:i])}, nil
}

// helperValue prints a helper name, NUL-padded to its 16 bytes.
func helperValue(b []byte) (nftjson.Expr, error) {
	i := bytes.IndexByte(b, 0)
	if i < 0 || strings.Trim(string(b[i:]), "\x00") != "" {
		return nil, fmt.Errorf("helper name %q not NUL-padded", b)
	}
	return nftjson.Literal{Str: string(b[:i])}, nil
}

// namedValue prints an n-byte host-order number by name.
func namedValue(n int, names map[uint32]string) func([]byte) (nftjson.Expr, error) {
	num := numValue(n)
	return func(b []byte) (nftjson.Expr, error) {
		v, err := num(b)
		if err != nil {
			return nil, err
		}
		x := uint32(v.(nftjson.Literal).Num)
		if s, ok := names[x]; ok {
			return nftjson.Literal{Str: s}, nil
		}
		return nil, fmt.Errorf("value %d not known", x)
	}
}

// bitsValue prints a host-order bit set as its names.
func bitsValue(table []bitName) func([]byte) (nftjson.Expr, error) {
	num := numValue(4)
	return func(b []byte) (nftjson.Expr, error) {
		v, err := num(b)
		if err != nil {
			return nil, err
		}
		l, ok := flagList(uint32(v.(nftjson.Literal).Num), table)
		if !ok {
			return nil, fmt.Errorf("bits %#x not known", v.(nftjson.Literal).Num)
		}
		if len(l) == 1 {
			return l[0], nil
		}
		return l, nil
	}
}

var pktTypes = map[uint32]string{0: "host", 1: "broadcast", 2: "multicast", 3: "other"}
var ifTypes = map[uint32]string{1: "ether", 772: "loopback", 768: "ipip", 769: "tunnel6", 776: "sit", 778: "gre"}
var ctDirs = map[uint32]string{0: "original", 1: "reply"}
var fibTypes = map[uint32]string{0: "unspec", 1: "unicast", 2: "local", 3: "broadcast", 4: "anycast",
	5: "multicast", 6: "blackhole", 7: "unreachable", 8: "prohibit", 9: "throw", 10: "nat", 11: "xresolve"}

var l4Names = map[uint8]string{6: "tcp", 17: "udp", 132: "sctp", 33: "dccp", 136: "udplite",
	1: "icmp", 58: "icmpv6", 2: "igmp", 50: "esp", 51: "ah", 108: "comp", 47: "gre"}

// unknownVal is a register whose content is not understood.
func unknownVal(what string) *regVal {
	return &regVal{left: nftjson.OtherExpr{Kind: what}}
}

// payloadVal names a header field from its base, offset and length.
func (m *machine) payloadVal(p *nfnl.Payload) *regVal {
	n := int(p.Len)
	raw := func() *regVal {
		return &regVal{left: nftjson.Payload{Base: baseName(p.Base), Offset: int64(p.Offset), Len: int64(p.Len)}, len: n}
	}
	switch p.Base {
	case nfnl.BaseNetwork:
		switch m.l3 {
		case 4:
			switch {
			case p.Offset == 9 && n == 1:
				return &regVal{left: nftjson.Payload{Protocol: "ip", Field: "protocol"}, len: 1, value: numValue(1), proto: true}
			case (p.Offset == 12 || p.Offset == 16) && n >= 1 && n <= 4:
				f := "saddr"
				if p.Offset == 16 {
					f = "daddr"
				}
				return &regVal{left: nftjson.Payload{Protocol: "ip", Field: f}, len: n, value: addrValueOf(4, -1), addr: true}
			}
			return &regVal{left: nftjson.Payload{Protocol: "ip", Field: fmt.Sprintf("header at %d", p.Offset)}, len: n, value: beValue(n), be: true}
		case 6:
			switch {
			case p.Offset == 6 && n == 1:
				return &regVal{left: nftjson.Payload{Protocol: "ip6", Field: "nexthdr"}, len: 1, value: numValue(1), proto: true}
			case (p.Offset == 8 || p.Offset == 24) && n >= 1 && n <= 16:
				f := "saddr"
				if p.Offset == 24 {
					f = "daddr"
				}
				return &regVal{left: nftjson.Payload{Protocol: "ip6", Field: f}, len: n, value: addrValueOf(16, -1), addr: true}
			}
			return &regVal{left: nftjson.Payload{Protocol: "ip6", Field: fmt.Sprintf("header at %d", p.Offset)}, len: n, value: beValue(n), be: true}
		}
	case nfnl.BaseTransport:
		proto := l4Names[m.l4]
		switch {
		case (p.Offset == 0 || p.Offset == 2) && n == 2 && (m.l4 == 0 || isPortProto(m.l4)):
			f := "sport"
			if p.Offset == 2 {
				f = "dport"
			}
			if proto == "" {
				proto = "th"
			}
			return &regVal{left: nftjson.Payload{Protocol: proto, Field: f}, len: 2, value: beValue(2), be: true}
		case m.l4 == 6 && p.Offset == 13 && n == 1:
			return &regVal{left: nftjson.Payload{Protocol: "tcp", Field: "flags"}, len: 1, value: numValue(1)}
		case proto != "":
			return &regVal{left: nftjson.Payload{Protocol: proto, Field: fmt.Sprintf("header at %d", p.Offset)}, len: n, value: beValue(n), be: true}
		}
	}
	return raw()
}

func isPortProto(p uint8) bool { return p == 6 || p == 17 || p == 132 || p == 33 || p == 136 }

func baseName(b uint32) string {
	switch b {
	case nfnl.BaseLL:
		return "ll"
	case nfnl.BaseNetwork:
		return "nh"
	case nfnl.BaseTransport:
		return "th"
	}
	return fmt.Sprintf("base%d", b)
}

// ifNames is the table of interface names "iif" and "oif" are printed
// with: the namespace's interfaces when known, and the loopback, index 1
// in every network namespace, always. An index it lacks leaves its
// comparison not understood: the rule's interface is unknown.
func ifNames(links map[uint32]string) map[uint32]string {
	out := make(map[uint32]string, len(links)+1)
	for i, n := range links {
		out[i] = n
	}
	out[1] = "lo"
	return out
}

// metaVal names a meta key.
func (m *machine) metaVal(key uint32) *regVal {
	meta := func(k string) nftjson.Meta { return nftjson.Meta{Key: k} }
	switch key {
	case nfnl.MetaL4Proto:
		return &regVal{left: meta("l4proto"), len: 1, value: numValue(1), proto: true}
	case nfnl.MetaNFProto:
		return &regVal{left: meta("nfproto"), len: 1, value: numValue(1), family: true}
	case nfnl.MetaProtocol:
		return &regVal{left: meta("protocol"), len: 2, value: beValue(2), family: true, be: true}
	case nfnl.MetaMark:
		return &regVal{left: meta("mark"), len: 4, value: numValue(4), host: true}
	case nfnl.MetaIIFName:
		return &regVal{left: meta("iifname"), len: 16, value: ifnameValue}
	case nfnl.MetaOIFName:
		return &regVal{left: meta("oifname"), len: 16, value: ifnameValue}
	case nfnl.MetaIIF, nfnl.MetaOIF:
		k := "iif"
		if key == nfnl.MetaOIF {
			k = "oif"
		}
		names := m.ifNames
		if names == nil {
			names = ifNames(nil)
		}
		return &regVal{left: meta(k), len: 4, value: namedValue(4, names)}
	case nfnl.MetaIIFType:
		return &regVal{left: meta("iiftype"), len: 2, value: namedValue(2, ifTypes)}
	case nfnl.MetaPktType:
		return &regVal{left: meta("pkttype"), len: 1, value: namedValue(1, pktTypes)}
	case nfnl.MetaLen:
		return &regVal{left: meta("length"), len: 4, value: numValue(4), host: true}
	case nfnl.MetaOIFType:
		return &regVal{left: meta("oiftype"), len: 2, value: numValue(2)}
	case nfnl.MetaSkUID:
		return &regVal{left: meta("skuid"), len: 4, value: numValue(4)}
	case nfnl.MetaSkGID:
		return &regVal{left: meta("skgid"), len: 4, value: numValue(4)}
	case nfnl.MetaOIFGroup:
		return &regVal{left: meta("oifgroup"), len: 4, value: numValue(4)}
	case nfnl.MetaTimeNS:
		return &regVal{left: meta("time"), len: 8, value: beValue(8), host: true}
	case nfnl.MetaTimeDay:
		return &regVal{left: meta("day"), len: 1, value: numValue(1)}
	case nfnl.MetaTimeHour:
		// Seconds since midnight UTC, turned to network order before
		// the comparison.
		return &regVal{left: meta("hour"), len: 4, value: numValue(4), host: true}
	case nfnl.MetaIIFGroup:
		return unknownVal("meta iifgroup")
	}
	return unknownVal(fmt.Sprintf("meta key %d", key))
}

// ctVal names a conntrack key.
func (m *machine) ctVal(c *nfnl.Ct) *regVal {
	dir := ""
	if c.Attrs&(1<<3) != 0 { // NFTA_CT_DIRECTION
		dir = "original"
		if c.Dir == 1 {
			dir = "reply"
		}
	}
	ct := func(k string) nftjson.Ct { return nftjson.Ct{Key: k, Dir: dir} }
	switch c.Key {
	case nfnl.CtState:
		return &regVal{left: ct("state"), len: 4, value: bitsValue(ctStateBits), flags: ctStateBits}
	case nfnl.CtStatus:
		return &regVal{left: ct("status"), len: 4, value: bitsValue(ctStatusBits), flags: ctStatusBits}
	case nfnl.CtMark:
		return &regVal{left: ct("mark"), len: 4, value: numValue(4), host: true}
	case nfnl.CtDirection:
		return &regVal{left: ct("direction"), len: 1, value: namedValue(1, ctDirs)}
	case 6: // NFT_CT_HELPER
		return &regVal{left: ct("helper"), len: 16, value: helperValue}
	case nfnl.CtL3Proto:
		return &regVal{left: ct("l3proto"), len: 1, value: numValue(1), family: true}
	case nfnl.CtProtocol:
		return &regVal{left: ct("protocol"), len: 1, value: numValue(1)}
	case nfnl.CtSrc, nfnl.CtDst:
		k := "saddr"
		if c.Key == nfnl.CtDst {
			k = "daddr"
		}
		full := 4
		fam := "ip"
		if m.l3 == 6 {
			full, fam = 16, "ip6"
		}
		if m.l3 == 0 {
			return unknownVal("ct " + k + " of an unknown family")
		}
		return &regVal{left: nftjson.Ct{Key: k, Dir: dir, Family: fam}, len: full, value: addrValueOf(full, -1), addr: true}
	case 19, 20, 21, 22: // NFT_CT_SRC_IP, DST_IP, SRC_IP6, DST_IP6
		k := map[uint32]string{19: "ip saddr", 20: "ip daddr", 21: "ip6 saddr", 22: "ip6 daddr"}[c.Key]
		full := 4
		if c.Key >= 21 {
			full = 16
		}
		return &regVal{left: ct(k), len: full, value: addrValueOf(full, -1), addr: true}
	case nfnl.CtProtoSrc, nfnl.CtProtoDst:
		k := "proto-src"
		if c.Key == nfnl.CtProtoDst {
			k = "proto-dst"
		}
		return &regVal{left: ct(k), len: 2, value: beValue(2), be: true}
	}
	return unknownVal(fmt.Sprintf("ct key %d", c.Key))
}

// fibVal names a FIB lookup.
func fibVal(f *nfnl.Fib) *regVal {
	const (
		fSaddr, fDaddr, fMark, fIIF, fOIF, fPresent = 1, 2, 4, 8, 16, 32
		rOIF, rOIFName, rAddrType                   = 1, 2, 3
	)
	var flags []string
	for _, x := range []struct {
		bit  uint32
		name string
	}{{fSaddr, "saddr"}, {fDaddr, "daddr"}, {fMark, "mark"}, {fIIF, "iif"}, {fOIF, "oif"}} {
		if f.Flags&x.bit != 0 {
			flags = append(flags, x.name)
		}
	}
	if f.Flags&^uint32(fSaddr|fDaddr|fMark|fIIF|fOIF|fPresent) != 0 {
		return unknownVal(fmt.Sprintf("fib flags %#x", f.Flags))
	}
	switch f.Result {
	case rAddrType:
		if f.Flags&fPresent != 0 {
			break
		}
		return &regVal{left: nftjson.Fib{Result: "type", Flags: flags}, len: 4, value: namedValue(4, fibTypes)}
	case rOIF, rOIFName:
		res := "oif"
		if f.Result == rOIFName {
			res = "oifname"
		}
		// Compared with zero (or, with the present flag, with a boolean)
		// the lookup says whether a route back exists. The kernel stores
		// the boolean as one byte or (before 6.x) as a host-order u32;
		// nft compares one byte or four.
		return &regVal{left: nftjson.Fib{Result: res, Flags: flags}, value: func(b []byte) (nftjson.Expr, error) {
			if !anyNonZero(b) {
				return nftjson.Literal{Num: 0, IsNum: true}, nil
			}
			if f.Flags&fPresent != 0 && (len(b) == 1 || len(b) == 4) && b[0] == 1 && !anyNonZero(b[1:]) {
				return nftjson.Literal{Str: "true"}, nil
			}
			return nil, fmt.Errorf("comparison with a given interface")
		}}
	}
	return unknownVal(fmt.Sprintf("fib result %d flags %#x", f.Result, f.Flags))
}

func anyNonZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return true
		}
	}
	return false
}

// masked applies a bitwise "& mask ^ xor" to a register's content.
func masked(src *regVal, bw *nfnl.Bitwise) *regVal {
	if src == nil || src.value == nil {
		return unknownVal("bitwise on an unknown register")
	}
	if bw.Op != nfnl.BitwiseBool {
		return unknownVal("bitwise shift of " + leftName(src.left))
	}
	for _, c := range bw.Xor {
		if c != 0 {
			return unknownVal("bitwise xor of " + leftName(src.left))
		}
	}
	switch l := src.left.(type) {
	case nftjson.Payload:
		if strings.HasPrefix(l.Field, "header at ") {
			// A header field the client writes (DSCP, ECN, length...):
			// whatever the mask, the match is the client's choice.
			return src
		}
		if (l.Protocol == "ip" || l.Protocol == "ip6") && (l.Field == "saddr" || l.Field == "daddr") {
			bits, ok := prefixBits(bw.Mask)
			if !ok {
				return unknownVal(leftName(src.left) + " with a mask that is not a prefix")
			}
			full := 4
			if l.Protocol == "ip6" {
				full = 16
			}
			return &regVal{left: l, len: src.len, value: addrValueOf(full, bits), addr: true}
		}
	case nftjson.Ct:
		if src.flags != nil && len(bw.Mask) == 4 {
			return &regVal{left: l, len: 4, flags: src.flags, masked: binary.NativeEndian.Uint32(bw.Mask), value: src.value}
		}
		if strings.HasSuffix(l.Key, "saddr") || strings.HasSuffix(l.Key, "daddr") {
			bits, ok := prefixBits(bw.Mask)
			if !ok {
				return unknownVal(leftName(src.left) + " with a mask that is not a prefix")
			}
			return &regVal{left: l, len: src.len, value: addrValueOf(src.len, bits), addr: true}
		}
	}
	num, err := numValue(len(bw.Mask))(bw.Mask)
	if err != nil {
		if len(bw.Mask) == 2 {
			num, _ = beValue(2)(bw.Mask)
		} else {
			return unknownVal(leftName(src.left) + " with a mask")
		}
	}
	if p, ok := src.left.(nftjson.Payload); ok && p.Field != "flags" {
		num, _ = beValue(len(bw.Mask))(bw.Mask)
	}
	return &regVal{left: nftjson.Binop{Op: "&", Left: src.left, Right: num}, len: src.len, value: src.value}
}

// prefixBits counts the leading ones of a contiguous mask.
func prefixBits(mask []byte) (int, bool) {
	n, seenZero := 0, false
	for _, c := range mask {
		for i := 7; i >= 0; i-- {
			if c&(1<<i) != 0 {
				if seenZero {
					return 0, false
				}
				n++
			} else {
				seenZero = true
			}
		}
	}
	return n, true
}

func leftName(e nftjson.Expr) string { return exprName(e) }

// byteorder converts a register between network and host order: a
// big-endian number read in host order keeps its meaning (nft converts a
// port before "tcp dport > 1024").
func byteorder(src *regVal, b *nfnl.Byteorder) *regVal {
	const ntoh, hton = 0, 1
	if src == nil || int(b.Len) != src.len || (b.Size != 2 && b.Size != 4 && b.Size != 8) || int(b.Size) != src.len {
		return unknownVal("byteorder")
	}
	switch {
	case src.be && b.Op == ntoh:
		return &regVal{left: src.left, len: src.len, value: numValue(src.len), host: true}
	case src.host && b.Op == hton:
		return &regVal{left: src.left, len: src.len, value: beValue(src.len), be: true}
	}
	return unknownVal("byteorder")
}
