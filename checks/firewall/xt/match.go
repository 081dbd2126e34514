package xt

import (
	"fmt"
	"strconv"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
)

// matchDecoder reads one revision of a match into options.
type matchDecoder struct {
	size   int
	decode func(d *Decoder, b blob, fam Family) (module string, opts []iptsave.Option, err error)
}

// matches lists the decoders by module name and revision.
var matches = map[string]map[uint32]matchDecoder{
	"tcp":       {0: {12, decodeTCP}},
	"udp":       {0: {10, decodeUDP}},
	"multiport": {1: {48, decodeMultiport}},
	"conntrack": {1: {152, conntrackRev(1)}, 2: {156, conntrackRev(2)}, 3: {164, conntrackRev(3)}},
	"state":     {0: {4, decodeState}},
	"helper":    {0: {34, decodeHelper}},
	"comment":   {0: {256, decodeComment}},
	"addrtype":  {1: {8, decodeAddrtype}},
	"set":       {1: {4, setRev(1)}, 2: {4, setRev(2)}, 3: {48, setRev(3)}, 4: {48, setRev(4)}},
	"iprange":   {1: {68, decodeIPRange}},
	"mac":       {0: {12, decodeMAC}},
	"mark":      {1: {12, markMatch("mark")}},
	"connmark":  {1: {12, markMatch("connmark")}},
	"limit":     {0: {40, decodeLimit}},
	"hashlimit": {1: {56, hashlimitRev(1)}, 2: {304, hashlimitRev(2)}, 3: {312, hashlimitRev(3)}},
	"recent":    {0: {212, recentRev(0)}, 1: {228, recentRev(1)}},
	"connlimit": {1: {32, decodeConnlimit}},
	"time":      {0: {24, decodeTime}},
	"owner":     {1: {20, decodeOwner}},
	"icmp":      {0: {4, icmpMatch("icmp", "--icmp-type")}},
	"icmp6":     {0: {4, icmpMatch("icmp6", "--icmpv6-type")}},
	"physdev":   {0: {66, decodePhysdev}},
	"rpfilter":  {0: {1, decodeRpfilter}},
}

// Match decodes a match expression into the "-m module" iptables-save
// prints. When it cannot, the error says why and the match returned (not
// nil) names the module with one option marked Guessed: a compiler that
// judges some modules by their kind alone still can, and any other
// reading of it is "not understood".
func (d *Decoder) Match(fam Family, name string, rev uint32, info []byte) (*iptsave.Match, error) {
	fail := func(why string) (*iptsave.Match, error) {
		return &iptsave.Match{Module: name, Options: []iptsave.Option{{
			Name:    fmt.Sprintf("(revision %d, %d bytes, not decoded)", rev, len(info)),
			Guessed: true,
		}}}, &Error{Kind: "match", Name: name, Rev: rev, Len: len(info), Why: why}
	}
	revs, ok := matches[name]
	if !ok {
		return fail("module not known")
	}
	md, ok := revs[rev]
	if !ok {
		return fail("revision not known")
	}
	if !sizeOK(info, md.size) {
		return fail(fmt.Sprintf("expected %d bytes", align(md.size)))
	}
	module, opts, err := md.decode(d, blob(info), fam)
	if err != nil {
		return fail(err.Error())
	}
	return &iptsave.Match{Module: module, Options: opts}, nil
}

func decodeTCP(_ *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
	const (
		invSrc, invDst, invFlags, invOption = 0x01, 0x02, 0x04, 0x08
	)
	inv := b.u8(11)
	if inv&^0x0f != 0 {
		return "", nil, fmt.Errorf("invflags %#x", inv)
	}
	var opts []iptsave.Option
	opts = appendPorts(opts, "--sport", b.u16(0), b.u16(2), inv&invSrc != 0)
	opts = appendPorts(opts, "--dport", b.u16(4), b.u16(6), inv&invDst != 0)
	if option := b.u8(8); option != 0 || inv&invOption != 0 {
		opts = append(opts, opt("--tcp-option", inv&invOption != 0, strconv.Itoa(int(option))))
	}
	if mask, cmp := b.u8(9), b.u8(10); mask != 0 || inv&invFlags != 0 {
		m, ok1 := tcpFlags(mask)
		c, ok2 := tcpFlags(cmp)
		if !ok1 || !ok2 {
			return "", nil, fmt.Errorf("tcp flags %#x/%#x", mask, cmp)
		}
		opts = append(opts, opt("--tcp-flags", inv&invFlags != 0, m, c))
	}
	return "tcp", opts, nil
}

func decodeUDP(_ *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
	inv := b.u8(8)
	if inv&^0x03 != 0 {
		return "", nil, fmt.Errorf("invflags %#x", inv)
	}
	var opts []iptsave.Option
	opts = appendPorts(opts, "--sport", b.u16(0), b.u16(2), inv&1 != 0)
	opts = appendPorts(opts, "--dport", b.u16(4), b.u16(6), inv&2 != 0)
	return "udp", opts, nil
}

// appendPorts adds a port option unless it is the whole range, which
// iptables leaves out.
func appendPorts(opts []iptsave.Option, name string, lo, hi uint16, neg bool) []iptsave.Option {
	if lo == 0 && hi == 0xffff && !neg {
		return opts
	}
	return append(opts, opt(name, neg, portRange(lo, hi)))
}

var tcpFlagNames = []bitName{{0x01, "FIN"}, {0x02, "SYN"}, {0x04, "RST"}, {0x08, "PSH"},
	{0x10, "ACK"}, {0x20, "URG"}, {0x40, "ECE"}, {0x80, "CWR"}}

func tcpFlags(v uint8) (string, bool) {
	if v == 0 {
		return "NONE", true
	}
	return names(uint32(v), tcpFlagNames)
}

func decodeMultiport(_ *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
	const maxPorts = 15
	flags, count, invert := b.u8(0), int(b.u8(1)), b.u8(47)
	if count == 0 || count > maxPorts || invert > 1 {
		return "", nil, fmt.Errorf("count %d, invert %d", count, invert)
	}
	name := map[uint8]string{0: "--sports", 1: "--dports", 2: "--ports"}[flags]
	if name == "" {
		return "", nil, fmt.Errorf("flags %d", flags)
	}
	var list []byte
	for i := 0; i < count; i++ {
		if i > 0 {
			list = append(list, ',')
		}
		lo := b.u16(2 + 2*i)
		if b.u8(32+i) != 0 {
			if i+1 >= count {
				return "", nil, fmt.Errorf("range without its end at port %d", i)
			}
			i++
			// iptables prints a range as "lo:hi" even when lo == hi.
			list = strconv.AppendUint(list, uint64(lo), 10)
			list = append(list, ':')
			list = strconv.AppendUint(list, uint64(b.u16(2+2*i)), 10)
			continue
		}
		list = strconv.AppendUint(list, uint64(lo), 10)
	}
	return "multiport", []iptsave.Option{opt(name, invert == 1, string(list))}, nil
}

func decodeComment(_ *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
	s, ok := b.cstr(0, 256)
	if !ok {
		return "", nil, fmt.Errorf("comment not terminated")
	}
	return "comment", []iptsave.Option{opt("--comment", false, s)}, nil
}

// Address types (XT_ADDRTYPE_*), in the order iptables prints them.
var addrTypeNames = []bitName{{1 << 0, "UNSPEC"}, {1 << 1, "UNICAST"}, {1 << 2, "LOCAL"},
	{1 << 3, "BROADCAST"}, {1 << 4, "ANYCAST"}, {1 << 5, "MULTICAST"}, {1 << 6, "BLACKHOLE"},
	{1 << 7, "UNREACHABLE"}, {1 << 8, "PROHIBIT"}, {1 << 9, "THROW"}, {1 << 10, "NAT"},
	{1 << 11, "XRESOLVE"}}

func decodeAddrtype(_ *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
	const invSrc, invDst, ifaceIn, ifaceOut = 1, 2, 4, 8
	src, dst, flags := b.u16(0), b.u16(2), b.u32(4)
	if flags&^0x0f != 0 {
		return "", nil, fmt.Errorf("flags %#x", flags)
	}
	var opts []iptsave.Option
	for _, f := range []struct {
		name  string
		types uint16
		inv   bool
	}{{"--src-type", src, flags&invSrc != 0}, {"--dst-type", dst, flags&invDst != 0}} {
		if f.types == 0 {
			continue
		}
		s, ok := names(uint32(f.types), addrTypeNames)
		if !ok {
			return "", nil, fmt.Errorf("address types %#x", f.types)
		}
		opts = append(opts, opt(f.name, f.inv, s))
	}
	if flags&ifaceIn != 0 {
		opts = append(opts, opt("--limit-iface-in", false))
	}
	if flags&ifaceOut != 0 {
		opts = append(opts, opt("--limit-iface-out", false))
	}
	return "addrtype", opts, nil
}

func decodeIPRange(_ *Decoder, b blob, fam Family) (string, []iptsave.Option, error) {
	const src, dst, srcInv, dstInv = 1, 2, 0x10, 0x20
	flags := b.u8(64)
	if flags&^0x33 != 0 {
		return "", nil, fmt.Errorf("flags %#x", flags)
	}
	var opts []iptsave.Option
	if flags&src != 0 {
		opts = append(opts, opt("--src-range", flags&srcInv != 0, b.addr(0, fam).String()+"-"+b.addr(16, fam).String()))
	}
	if flags&dst != 0 {
		opts = append(opts, opt("--dst-range", flags&dstInv != 0, b.addr(32, fam).String()+"-"+b.addr(48, fam).String()))
	}
	return "iprange", opts, nil
}

func decodeMAC(_ *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
	inv := b.u32(8)
	if inv > 1 {
		return "", nil, fmt.Errorf("invert %d", inv)
	}
	s := fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
	return "mac", []iptsave.Option{opt("--mac-source", inv == 1, s)}, nil
}

func markMatch(module string) func(*Decoder, blob, Family) (string, []iptsave.Option, error) {
	return func(_ *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
		inv := b.u8(8)
		if inv > 1 {
			return "", nil, fmt.Errorf("invert %d", inv)
		}
		return module, []iptsave.Option{opt("--mark", inv == 1, markMask(b.u32(0), b.u32(4)))}, nil
	}
}

func icmpMatch(module, option string) func(*Decoder, blob, Family) (string, []iptsave.Option, error) {
	return func(_ *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
		typ, lo, hi, inv := b.u8(0), b.u8(1), b.u8(2), b.u8(3)
		if inv&^1 != 0 {
			return "", nil, fmt.Errorf("invflags %#x", inv)
		}
		v := strconv.Itoa(int(typ))
		switch {
		case typ == 0xff && lo == 0 && hi == 0xff:
			v = "any"
		case lo == hi:
			v += "/" + strconv.Itoa(int(lo))
		case lo != 0 || hi != 0xff:
			return "", nil, fmt.Errorf("code range %d-%d", lo, hi)
		}
		return module, []iptsave.Option{opt(option, inv == 1, v)}, nil
	}
}

func decodePhysdev(_ *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
	const opIn, opOut, opBridged, opIsIn, opIsOut = 0x01, 0x02, 0x04, 0x08, 0x10
	inv, mask := b.u8(64), b.u8(65)
	if mask&^0x1f != 0 || inv&^0x1f != 0 {
		return "", nil, fmt.Errorf("bitmask %#x invert %#x", mask, inv)
	}
	in, ok1 := b.cstr(0, 16)
	out, ok2 := b.cstr(32, 16)
	if !ok1 || !ok2 {
		return "", nil, fmt.Errorf("interface name not terminated")
	}
	var opts []iptsave.Option
	if mask&opIn != 0 {
		opts = append(opts, opt("--physdev-in", inv&opIn != 0, in))
	}
	if mask&opIsIn != 0 {
		opts = append(opts, opt("--physdev-is-in", inv&opIsIn != 0))
	}
	if mask&opOut != 0 {
		opts = append(opts, opt("--physdev-out", inv&opOut != 0, out))
	}
	if mask&opIsOut != 0 {
		opts = append(opts, opt("--physdev-is-out", inv&opIsOut != 0))
	}
	if mask&opBridged != 0 {
		opts = append(opts, opt("--physdev-is-bridged", inv&opBridged != 0))
	}
	return "physdev", opts, nil
}

func decodeOwner(_ *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
	const uid, gid, socket, suppl = 1, 2, 4, 8
	match, inv := b.u8(16), b.u8(17)
	if match&^0x0f != 0 || inv&^match != 0 {
		return "", nil, fmt.Errorf("match %#x invert %#x", match, inv)
	}
	idRange := func(lo, hi uint32) string {
		if lo == hi {
			return strconv.FormatUint(uint64(lo), 10)
		}
		return strconv.FormatUint(uint64(lo), 10) + "-" + strconv.FormatUint(uint64(hi), 10)
	}
	var opts []iptsave.Option
	if match&uid != 0 {
		opts = append(opts, opt("--uid-owner", inv&uid != 0, idRange(b.u32(0), b.u32(4))))
	}
	if match&gid != 0 {
		opts = append(opts, opt("--gid-owner", inv&gid != 0, idRange(b.u32(8), b.u32(12))))
	}
	if match&suppl != 0 {
		opts = append(opts, opt("--suppl-groups", false))
	}
	if match&socket != 0 {
		opts = append(opts, opt("--socket-exists", inv&socket != 0))
	}
	return "owner", opts, nil
}

// decodeRpfilter reads struct xt_rpfilter_info: one byte of XT_RPFILTER_*
// flags.
func decodeRpfilter(_ *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
	flags := b.u8(0)
	if flags&^0x0f != 0 {
		return "", nil, fmt.Errorf("flags %#x", flags)
	}
	var opts []iptsave.Option
	for i, name := range []string{"--loose", "--validmark", "--accept-local", "--invert"} {
		if flags&(1<<i) != 0 {
			opts = append(opts, opt(name, false))
		}
	}
	return "rpfilter", opts, nil
}
