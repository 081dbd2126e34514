package nfnl

import (
	"encoding/binary"
	"strconv"
	"strings"
)

// Rendering follows libnftnl 1.2's snprintf functions (src/expr/*.c),
// which `nft --debug=netlink` prints: "[ NAME BODY]" per expression, the
// body a sequence of space-terminated words. Data values print as 32-bit
// words in host order (libnftnl copies the bytes into a uint32 array).

// Bytecode renders the rule's expressions one per line, as
// `nft --debug=netlink list ruleset` prints them under the rule's header
// (without the two spaces of indentation).
func (r *Rule) Bytecode() string {
	w := &words{}
	for i, e := range r.Exprs {
		if i > 0 {
			w.WriteByte('\n')
		}
		w.expr(e)
	}
	return w.String()
}

// Header is the rule's header line in the same listing:
// "FAMILY TABLE CHAIN HANDLE [POSITION]".
// The position, the handle of the rule before it, follows when the
// kernel sent it (every rule but a chain's first).
func (r *Rule) Header() string {
	h := r.Family.String() + " " + r.Table + " " + r.Chain + " " + strconv.FormatUint(r.Handle, 10)
	if r.Position != 0 {
		h += " " + strconv.FormatUint(r.Position, 10)
	}
	return h
}

// Render renders one expression as libnftnl does: "[ cmp eq reg 1 0x00000006 ]".
func Render(e Expr) string {
	w := &words{}
	w.expr(e)
	return w.String()
}

func (w *words) expr(e Expr) {
	w.f("[ %s ", e.Name())
	body(w, e)
	w.s("]")
}

type words struct{ strings.Builder }

func (w *words) s(s string) { w.WriteString(s) }

// f writes format as C's printf would, for the verbs of libnftnl's
// formats: %d (a number: unsigned, or signed for an int32), %x (in hex),
// %s and %%. The arguments do not escape: formatting allocates nothing.
func (w *words) f(format string, args ...any) {
	for {
		i := strings.IndexByte(format, '%')
		if i < 0 || i+1 == len(format) {
			w.s(format)
			return
		}
		w.s(format[:i])
		verb := format[i+1]
		format = format[i+2:]
		if verb == '%' {
			w.WriteByte('%')
			continue
		}
		if len(args) == 0 {
			w.s("%!" + string(verb) + "(missing)")
			continue
		}
		w.arg(verb, args[0])
		args = args[1:]
	}
}

func (w *words) arg(verb byte, a any) {
	base := 10
	if verb == 'x' {
		base = 16
	}
	var b [20]byte
	switch v := a.(type) {
	case string:
		w.s(v)
	case uint8:
		w.Write(strconv.AppendUint(b[:0], uint64(v), base))
	case uint16:
		w.Write(strconv.AppendUint(b[:0], uint64(v), base))
	case uint32:
		w.Write(strconv.AppendUint(b[:0], uint64(v), base))
	case uint64:
		w.Write(strconv.AppendUint(b[:0], v, base))
	case int32:
		w.Write(strconv.AppendInt(b[:0], int64(v), base))
	default:
		w.s("%!" + string(verb) + "(unsupported)")
	}
}

// data prints a value as libnftnl's nftnl_data_reg_value_snprintf_default.
func (w *words) data(p []byte) { w.hexWords(p, "0x") }

// words prints a value without the 0x prefix (DATA_F_NOPFX).
func (w *words) words(p []byte) { w.hexWords(p, "") }

// hexWords prints p as host-order 32-bit words, each "%08x " after prefix.
func (w *words) hexWords(p []byte, prefix string) {
	for i := 0; i < len(p); i += 4 {
		var word [4]byte
		copy(word[:], p[i:])
		var b [8]byte
		v := strconv.AppendUint(b[:0], uint64(binary.NativeEndian.Uint32(word[:])), 16)
		w.s(prefix)
		w.s("00000000"[len(v):])
		w.Write(v)
		w.s(" ")
	}
}

func (w *words) verdict(v *Verdict) {
	w.f("%s ", verdictName(v.Code))
	if v.Chain != "" {
		w.f("-> %s ", v.Chain)
	}
}

func verdictName(c int32) string {
	switch c {
	case VerdictAccept:
		return "accept"
	case VerdictDrop:
		return "drop"
	case VerdictStolen:
		return "stolen"
	case VerdictQueue:
		return "queue"
	case VerdictRepeat:
		return "repeat"
	case VerdictStop:
		return "stop"
	case VerdictReturn:
		return "return"
	case VerdictJump:
		return "jump"
	case VerdictGoto:
		return "goto"
	case VerdictContinue:
		return "continue"
	case VerdictBreak:
		return "break"
	}
	return "unknown"
}

func has(attrs uint32, n uint) bool { return attrs&(1<<n) != 0 }

func pick(names []string, i uint32) string {
	if int(i) < len(names) && names[i] != "" {
		return names[i]
	}
	return "unknown"
}

var (
	payloadBases = []string{"link", "network", "transport", "inner"}
	cmpOps       = []string{"eq", "neq", "lt", "lte", "gt", "gte"}
	metaKeys     = []string{"len", "protocol", "priority", "mark", "iif", "oif", "iifname", "oifname",
		"iiftype", "oiftype", "skuid", "skgid", "nftrace", "rtclassid", "secmark", "nfproto", "l4proto",
		"bri_iifname", "bri_oifname", "pkttype", "cpu", "iifgroup", "oifgroup", "cgroup", "prandom",
		"secpath", "iifkind", "oifkind", "bri_iifpvid", "bri_iifvproto", "time", "day", "hour", "sdif",
		"sdifname"}
	// libnftnl 1.2 maps NFT_CT_ID (23) to "unknown" (its bound is NFT_CT_MAX).
	ctKeys = []string{"state", "direction", "status", "mark", "secmark", "expiration", "helper",
		"l3protocol", "src", "dst", "protocol", "proto_src", "proto_dst", "label", "packets", "bytes",
		"avgpkt", "zone", "event", "src_ip", "dst_ip", "src_ip6", "dst_ip6"}
	rtKeys     = []string{"classid", "nexthop4", "nexthop6", "tcpmss", "ipsec"}
	socketKeys = []string{"transparent", "mark", "wildcard", "cgroupv2"}
	fibResults = []string{"(null)", "oif", "oifname", "type"}
	dynsetOps  = []string{"add", "update", "delete"}
	rangeOps   = []string{"eq", "neq"}
	xfrmKeys   = []string{"(null)", "daddr4", "daddr6", "saddr4", "saddr6", "reqid", "spi"}
	xfrmDirs   = []string{"in", "out"}
	logFlags   = []flagName{{0x01, "tcpseq"}, {0x02, "tcpopt"}, {0x04, "ipopt"}, {0x08, "uid"}, {0x20, "macdecode"}}
	fibFlags   = []flagName{{1, "saddr"}, {2, "daddr"}, {4, "mark"}, {8, "iif"}, {16, "oif"}}
)

type flagName struct {
	bit  uint32
	name string
}

func familyName(f uint32) string {
	switch Family(f) {
	case FamilyInet, FamilyIPv4, FamilyARP, FamilyNetdev, FamilyBridge, FamilyIPv6:
		return Family(f).String()
	}
	return "unknown"
}

func limitUnit(u uint64) string {
	switch u {
	case 1:
		return "second"
	case 60:
		return "minute"
	case 3600:
		return "hour"
	case 86400:
		return "day"
	case 604800:
		return "week"
	}
	return "error"
}

func body(w *words, e Expr) {
	switch e := e.(type) {
	case *Payload:
		base := pick(payloadBases, e.Base)
		if e.SReg != 0 {
			w.f("write reg %d => %db @ %s header + %d csum_type %d csum_off %d csum_flags 0x%x ",
				e.SReg, e.Len, base, e.Offset, e.CsumType, e.CsumOffset, e.CsumFlags)
			return
		}
		w.f("load %db @ %s header + %d => reg %d ", e.Len, base, e.Offset, e.DReg)
	case *Cmp:
		w.f("%s reg %d ", pick(cmpOps, e.Op), e.SReg)
		w.data(e.Data)
	case *Bitwise:
		switch e.Op {
		case BitwiseBool:
			w.f("reg %d = ( reg %d & ", e.DReg, e.SReg)
			w.data(e.Mask)
			w.s(") ^ ")
			w.data(e.Xor)
		case BitwiseLshift, BitwiseRshift:
			op := "<<"
			if e.Op == BitwiseRshift {
				op = ">>"
			}
			w.f("reg %d = ( reg %d %s ", e.DReg, e.SReg, op)
			w.data(e.Data)
			w.s(") ")
		}
	case *Range:
		w.f("%s reg %d ", pick(rangeOps, e.Op), e.SReg)
		w.data(e.From)
		w.data(e.To)
	case *Lookup:
		w.f("reg %d set %s ", e.SReg, e.SetName)
		if has(e.Attrs, 3) {
			w.f("dreg %d ", e.DReg)
		}
		if has(e.Attrs, 5) {
			w.f("0x%x ", e.Flags)
		}
	case *Meta:
		key := "unknown"
		if e.Key < uint32(len(metaKeys)) {
			key = metaKeys[e.Key]
		}
		if has(e.Attrs, 3) {
			w.f("set %s with reg %d ", key, e.SReg)
		} else if has(e.Attrs, 1) {
			w.f("load %s => reg %d ", key, e.DReg)
		}
	case *Ct:
		key := pick(ctKeys, e.Key)
		if has(e.Attrs, 4) {
			w.f("set %s with reg %d ", key, e.SReg)
		}
		if has(e.Attrs, 1) {
			w.f("load %s => reg %d ", key, e.DReg)
		}
		if has(e.Attrs, 3) {
			dir := "unknown"
			switch e.Dir {
			case 0:
				dir = "original"
			case 1:
				dir = "reply"
			}
			w.f(", dir %s ", dir)
		}
	case *Immediate:
		w.f("reg %d ", e.DReg)
		if e.Verdict != nil {
			w.verdict(e.Verdict)
		} else if e.Data != nil {
			w.data(e.Data)
		}
	case *Match:
		w.f("name %s rev %d ", e.MatchName, e.Rev)
	case *Target:
		w.f("name %s rev %d ", e.TargetName, e.Rev)
	case *Counter:
		w.f("pkts %d bytes %d ", e.Packets, e.Bytes)
	case *Log:
		if has(e.Attrs, 2) {
			w.f("prefix %s ", e.Prefix)
		}
		if has(e.Attrs, 1) {
			w.f("group %d snaplen %d qthreshold %d ", e.Group, e.Snaplen, e.QThreshold)
			return
		}
		if has(e.Attrs, 5) {
			w.f("level %d ", e.Level)
		}
		if has(e.Attrs, 6) {
			for _, f := range logFlags {
				if e.Flags&f.bit != 0 {
					w.f("%s ", f.name)
				}
			}
		}
	case *Limit:
		typ := "packets"
		if e.Type == LimitBytes {
			typ = "bytes"
		}
		w.f("rate %d/%s burst %d type %s flags 0x%x ", e.Rate, limitUnit(e.Unit), e.Burst, typ, e.Flags)
	case *Quota:
		w.f("bytes %d consumed %d flags %d ", e.Bytes, e.Consumed, e.Flags)
	case *Connlimit:
		w.f("count %d flags %x ", e.Count, e.Flags)
	case *Last:
		if e.Set == 0 {
			w.s("never ")
		} else {
			w.f("%d ", e.Msecs)
		}
	case *Reject:
		w.f("type %d code %d ", e.Type, e.Code)
	case *Nat:
		typ := "unknown"
		switch e.Type {
		case NatSnat:
			typ = "snat"
		case NatDnat:
			typ = "dnat"
		}
		w.f("%s %s ", typ, familyName(e.Family))
		regs(w, e.Attrs, 3, "addr_min reg ", e.RegAddrMin)
		regs(w, e.Attrs, 4, "addr_max reg ", e.RegAddrMax)
		regs(w, e.Attrs, 5, "proto_min reg ", e.RegProtoMin)
		regs(w, e.Attrs, 6, "proto_max reg ", e.RegProtoMax)
		flags(w, e.Attrs, 7, e.Flags)
	case *Masq:
		regs(w, e.Attrs, 2, "proto_min reg ", e.RegProtoMin)
		regs(w, e.Attrs, 3, "proto_max reg ", e.RegProtoMax)
		flags(w, e.Attrs, 1, e.Flags)
	case *Redir:
		regs(w, e.Attrs, 1, "proto_min reg ", e.RegProtoMin)
		regs(w, e.Attrs, 2, "proto_max reg ", e.RegProtoMax)
		flags(w, e.Attrs, 3, e.Flags)
	case *Dynset:
		w.f("%s reg_key %d set %s ", pick(dynsetOps, e.Op), e.SRegKey, e.SetName)
		regs(w, e.Attrs, 5, "sreg_data ", e.SRegData)
		if has(e.Attrs, 6) {
			w.f("timeout %dms ", e.Timeout)
		}
		for _, x := range e.Exprs {
			w.f("expr [ %s ", x.Name())
			body(w, x)
			w.s("] ")
		}
	case *Objref:
		if has(e.Attrs, 3) {
			w.f("sreg %d set %s ", e.SReg, e.SetName)
		} else {
			w.f("type %d name %s ", e.Type, e.ObjName)
		}
	case *Exthdr:
		op := ""
		switch e.Op {
		case ExthdrOpTCPOpt:
			op = " tcpopt"
		case ExthdrOpIPv6:
			op = " ipv6"
		case ExthdrOpIPv4:
			op = " ipv4"
		}
		switch {
		case has(e.Attrs, 1):
			w.f("load%s %db @ %d + %d", op, e.Len, e.Type, e.Offset)
			if e.Flags&ExthdrPresent != 0 {
				w.s(" present")
			}
			w.f(" => reg %d ", e.DReg)
		case has(e.Attrs, 7):
			w.f("write%s reg %d => %db @ %d + %d ", op, e.SReg, e.Len, e.Type, e.Offset)
		case e.Op == ExthdrOpTCPOpt && e.Len == 0:
			w.f("reset tcpopt %d ", e.Type)
		default:
			w.f("op %d len %d type %d offset %d ", e.Op, e.Len, e.Type, e.Offset)
		}
	case *Fib:
		const present = 1 << 5
		fl := e.Flags &^ present
		for _, t := range fibFlags {
			if fl&t.bit != 0 {
				w.f("%s ", t.name)
				fl &^= t.bit
				if fl != 0 {
					w.s(". ")
				}
			}
		}
		if fl != 0 {
			w.f("unknown 0x%x", fl)
		}
		w.s(pick(fibResults, e.Result))
		if e.Flags&present != 0 {
			w.s(" present")
		}
		w.f(" => reg %d ", int32(e.DReg))
	case *Rt:
		w.f("load %s => reg %d ", pick(rtKeys, e.Key), e.DReg)
	case *Socket:
		if has(e.Attrs, 2) {
			w.f("load %s => reg %d ", pick(socketKeys, e.Key), e.DReg)
		} else if has(e.Attrs, 3) {
			w.f("level %d ", e.Level)
		}
	case *Numgen:
		var typ string
		switch e.Type {
		case 0:
			typ = "inc"
		case 1:
			typ = "random"
		default:
			return
		}
		w.f("reg %d = %s mod %d ", e.DReg, typ, e.Modulus)
		if e.Offset != 0 {
			w.f("offset %d ", e.Offset)
		}
	case *Hash:
		if e.Type == 1 {
			w.f("reg %d = symhash() %% mod %d ", e.DReg, e.Modulus)
		} else {
			w.f("reg %d = jhash(reg %d, %d, 0x%x) %% mod %d ", e.DReg, e.SReg, e.Len, e.Seed, e.Modulus)
		}
		if e.Offset != 0 {
			w.f("offset %d ", e.Offset)
		}
	case *Queue:
		if has(e.Attrs, 1) {
			w.f("num %d", e.Num)
			total := uint16(e.Num + e.Total - 1)
			if e.Total != 0 && total != e.Num {
				w.f("-%d", total)
			}
			w.s(" ")
		}
		regs(w, e.Attrs, 4, "sreg_qnum ", e.SRegQnum)
		if has(e.Attrs, 3) {
			if e.Flags&1 != 0 {
				w.s("bypass ")
			}
			if e.Flags&2 != 0 {
				w.s("fanout ")
			}
		}
	case *Dup:
		regs(w, e.Attrs, 1, "sreg_addr ", e.SRegAddr)
		regs(w, e.Attrs, 2, "sreg_dev ", e.SRegDev)
	case *Fwd:
		regs(w, e.Attrs, 1, "sreg_dev ", e.SRegDev)
		regs(w, e.Attrs, 2, "sreg_addr ", e.SRegAddr)
		regs(w, e.Attrs, 3, "nfproto ", e.NFProto)
	case *Tproxy:
		if e.Family != 0 {
			w.f("%s ", familyName(e.Family))
		}
		regs(w, e.Attrs, 2, "addr reg ", e.RegAddr)
		regs(w, e.Attrs, 3, "port reg ", e.RegPort)
	case *Synproxy:
		if has(e.Attrs, 1) && has(e.Attrs, 2) {
			w.f("mss %d wscale %d ", e.MSS, e.Wscale)
		}
	case *Byteorder:
		op := "unknown"
		switch e.Op {
		case 0:
			op = "ntoh"
		case 1:
			op = "hton"
		}
		w.f("reg %d = %s(reg %d, %d, %d) ", e.DReg, op, e.SReg, e.Size, e.Len)
	case *Notrack:
	case *Xfrm:
		if has(e.Attrs, 1) {
			w.f("load %s %d %s => reg %d ", pick(xfrmDirs, uint32(e.Dir)), e.SPNum, pick(xfrmKeys, e.Key), e.DReg)
		}
	case *Osf:
		regs(w, e.Attrs, 1, "dreg ", e.DReg)
	case *Unknown:
		// No libnftnl format to follow: the raw attributes, so two
		// readings still compare.
		if len(e.Raw) > 0 {
			w.f("raw %s ", strconv.Quote(string(e.Raw)))
		}
	}
}

// regs prints "LABELv " when the attribute numbered n was sent.
func regs(w *words, attrs uint32, n uint, label string, v uint32) {
	if has(attrs, n) {
		w.f("%s%d ", label, v)
	}
}

func flags(w *words, attrs uint32, n uint, v uint32) {
	if has(attrs, n) {
		w.f("flags 0x%x ", v)
	}
}

// ElementsBytecode renders the set's elements one per line, as
// `nft --debug=netlink list ruleset` prints them under "FAMILY TABLE
// @NAME" (without the leading tab): libnftnl's set element format.
func (s *Set) ElementsBytecode() []string {
	out := make([]string, 0, len(s.Elements))
	for i := range s.Elements {
		out = append(out, s.Elements[i].bytecode())
	}
	return out
}

func (e *Elem) bytecode() string {
	w := &words{}
	w.s("element ")
	w.words(e.Key)
	if e.KeyEnd != nil {
		w.s(" - ")
		w.words(e.KeyEnd)
	}
	w.s(" : ")
	if e.Verdict != nil {
		w.verdict(e.Verdict)
	} else {
		w.words(e.Data)
	}
	w.f("%d [end]", e.Flags)
	if len(e.UserData) > 0 {
		w.s("  userdata = { ")
		w.escaped(e.UserData)
		w.s(" }")
	}
	return w.String()
}

// UserDataLine is the line nft prints under a rule with user data
// ("userdata = { \x00\x03hi\x00 }"); empty when there is none.
func (r *Rule) UserDataLine() string {
	if len(r.UserData) == 0 {
		return ""
	}
	w := &words{}
	w.s("userdata = { ")
	w.escaped(r.UserData)
	w.s(" }")
	return w.String()
}

// escaped prints bytes as C's isprint and "\x%02hhx" do.
func (w *words) escaped(p []byte) {
	const hexdigits = "0123456789abcdef"
	for _, c := range p {
		if c >= 0x20 && c < 0x7f {
			w.WriteByte(c)
			continue
		}
		w.s(`\x`)
		w.WriteByte(hexdigits[c>>4])
		w.WriteByte(hexdigits[c&15])
	}
}
