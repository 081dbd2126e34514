package compile

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
)

// protoNumbers maps protocol names as iptables and nft print them.
var protoNumbers = map[string]uint8{
	"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51,
	"icmpv6": 58, "ipv6-icmp": 58, "icmp6": 58, "sctp": 132, "udplite": 136,
	"dccp": 33, "ipip": 4, "ipv6": 41, "ospf": 89, "vrrp": 112, "l2tp": 115,
	"comp": 108, "pim": 103, "hopopt": 0, "ipv6-route": 43, "ipv6-frag": 44,
	"ipv6-nonxt": 59, "ipv6-opts": 60, "mh": 135, "ipv6-mh": 135,
}

// parseProto parses a protocol name or number.
func parseProto(s string) (uint8, error) {
	s = strings.ToLower(s)
	if n, ok := protoNumbers[s]; ok {
		return n, nil
	}
	n, err := strconv.ParseUint(s, 0, 8)
	if err != nil {
		return 0, fmt.Errorf("unknown protocol %q", s)
	}
	return uint8(n), nil
}

// parsePort parses a port number (service names are not resolved: the
// dumps print numbers).
func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("port %q is not a number", s)
	}
	return uint16(n), nil
}

// parseIptPorts parses "80", "1024:65535", ":1024", "1024:" and comma
// lists of those (multiport).
func parseIptPorts(s string) ([]eval.PortRange, error) {
	var out []eval.PortRange
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, ":")
		if !isRange {
			p, err := parsePort(part)
			if err != nil {
				return nil, err
			}
			out = append(out, eval.PortRange{Lo: p, Hi: p})
			continue
		}
		r := eval.PortRange{Lo: 0, Hi: 65535}
		var err error
		if lo != "" {
			if r.Lo, err = parsePort(lo); err != nil {
				return nil, err
			}
		}
		if hi != "" {
			if r.Hi, err = parsePort(hi); err != nil {
				return nil, err
			}
		}
		if r.Lo > r.Hi {
			r.Lo, r.Hi = r.Hi, r.Lo // iptables swaps an inverted range too
		}
		out = append(out, r)
	}
	return out, nil
}

// parseAddrOrPrefix parses "192.0.2.1", "192.0.2.0/24" or
// "192.0.2.0/255.255.255.0" as a range of the expected family.
func parseAddrOrPrefix(s string, fam eval.Family) (netipx.IPRange, error) {
	addr, bits, hasBits := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return netipx.IPRange{}, fmt.Errorf("bad address %q", s)
	}
	a = a.Unmap()
	if a.Zone() != "" || eval.FamilyOf(a) != fam {
		return netipx.IPRange{}, fmt.Errorf("address %q is not %v", s, fam)
	}
	if !hasBits {
		return netipx.IPRangeFrom(a, a), nil
	}
	n, err := strconv.Atoi(bits)
	if err != nil {
		m, merr := netip.ParseAddr(bits)
		if merr != nil || eval.FamilyOf(m) != fam {
			return netipx.IPRange{}, fmt.Errorf("bad mask in %q", s)
		}
		if n, err = maskLen(m); err != nil {
			return netipx.IPRange{}, fmt.Errorf("%q: %v", s, err)
		}
	}
	p, err := a.Prefix(n)
	if err != nil {
		return netipx.IPRange{}, fmt.Errorf("bad prefix %q", s)
	}
	return netipx.RangeOfPrefix(p), nil
}

// maskLen converts a dotted mask; non-contiguous masks are not a range.
func maskLen(m netip.Addr) (int, error) {
	b := m.AsSlice()
	n, ended := 0, false
	for _, x := range b {
		for i := 7; i >= 0; i-- {
			set := x&(1<<i) != 0
			switch {
			case set && ended:
				return 0, fmt.Errorf("non-contiguous mask %v", m)
			case set:
				n++
			default:
				ended = true
			}
		}
	}
	return n, nil
}

// parseRange parses "a-b".
func parseRange(s string, fam eval.Family) (netipx.IPRange, error) {
	lo, hi, ok := strings.Cut(s, "-")
	if !ok {
		return parseAddrOrPrefix(s, fam)
	}
	a, err1 := netip.ParseAddr(lo)
	b, err2 := netip.ParseAddr(hi)
	if err1 != nil || err2 != nil {
		return netipx.IPRange{}, fmt.Errorf("bad range %q", s)
	}
	a, b = a.Unmap(), b.Unmap()
	if eval.FamilyOf(a) != fam || eval.FamilyOf(b) != fam || b.Less(a) {
		return netipx.IPRange{}, fmt.Errorf("bad range %q for %v", s, fam)
	}
	return netipx.IPRangeFrom(a, b), nil
}

// parseIfName parses an interface name; a trailing "+" (iptables) or "*"
// (nft) makes it a prefix.
func parseIfName(s string) eval.IfName {
	if strings.HasSuffix(s, "+") || strings.HasSuffix(s, "*") {
		return eval.IfName{Name: s[:len(s)-1], Wildcard: true}
	}
	return eval.IfName{Name: s}
}

// parseUint32 parses a mark value (decimal or 0x hex).
func parseUint32(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return 0, fmt.Errorf("bad number %q", s)
	}
	return uint32(n), nil
}

// parseMarkMask parses "value[/mask]".
func parseMarkMask(s string) (v, m uint32, err error) {
	vs, ms, hasMask := strings.Cut(s, "/")
	if v, err = parseUint32(vs); err != nil {
		return 0, 0, err
	}
	m = 0xffffffff
	if hasMask {
		if m, err = parseUint32(ms); err != nil {
			return 0, 0, err
		}
	}
	return v, m, nil
}

// ctStates maps state names (iptables upper case, nft lower case).
var ctStates = map[string]eval.CtState{
	"new": eval.CtNew, "established": eval.CtEstablished, "related": eval.CtRelated,
	"invalid": eval.CtInvalid, "untracked": eval.CtUntracked, "snat": eval.CtSNAT,
	"dnat": eval.CtDNAT,
}

func parseCtStates(names []string) (eval.CtState, error) {
	var s eval.CtState
	for _, n := range names {
		v, ok := ctStates[strings.ToLower(n)]
		if !ok {
			return 0, fmt.Errorf("unknown conntrack state %q", n)
		}
		s |= v
	}
	return s, nil
}

// addrTypes maps addrtype / fib type names.
var addrTypes = map[string]eval.AddrTypes{
	"unspec": eval.TypeUnspec, "unicast": eval.TypeUnicast, "local": eval.TypeLocal,
	"broadcast": eval.TypeBroadcast, "anycast": eval.TypeAnycast, "multicast": eval.TypeMulticast,
	"blackhole": eval.TypeBlackhole, "unreachable": eval.TypeUnreachable,
	"prohibit": eval.TypeProhibit, "throw": eval.TypeThrow, "nat": eval.TypeNat,
	"xresolve": eval.TypeXresolve,
}

func parseAddrTypes(names []string) (eval.AddrTypes, error) {
	var t eval.AddrTypes
	for _, n := range names {
		v, ok := addrTypes[strings.ToLower(n)]
		if !ok {
			return 0, fmt.Errorf("unknown address type %q", n)
		}
		t |= v
	}
	return t, nil
}

// tcpFlagBits maps flag names.
var tcpFlagBits = map[string]uint8{"fin": eval.TCPFin, "syn": eval.TCPSyn, "rst": eval.TCPRst,
	"psh": eval.TCPPsh, "ack": eval.TCPAck, "urg": eval.TCPUrg, "ecn": eval.TCPEce,
	"ece": eval.TCPEce, "cwr": eval.TCPCwr, "none": 0,
	// iptables' ALL is its six classic flags, without ECE and CWR.
	"all": eval.TCPFin | eval.TCPSyn | eval.TCPRst | eval.TCPPsh | eval.TCPAck | eval.TCPUrg}

func parseTCPFlags(list string) (uint8, error) {
	var f uint8
	for _, n := range strings.Split(list, ",") {
		v, ok := tcpFlagBits[strings.ToLower(n)]
		if !ok {
			return 0, fmt.Errorf("unknown TCP flag %q", n)
		}
		f |= v
	}
	return f, nil
}

func unknown(format string, args ...any) eval.Cond {
	return eval.Const{Value: eval.Unknown, Reason: fmt.Sprintf(format, args...)}
}

func constCond(t eval.Tri) eval.Cond { return eval.Const{Value: t} }

// chosenPacket is a match on a field of the first SYN that the client
// shapes as it likes (TTL, DSCP, length, options, extension headers): it
// can make the match hold or fail.
func chosenPacket(what string) eval.Cond {
	return eval.Choice("with a first SYN whose "+what+" %s matches",
		"with a first SYN whose "+what+" %s does not match")
}

// clockKeys are the meta keys of the time of the packet.
var clockKeys = map[string]bool{"meta hour": true, "meta day": true}

// chosenField is a match on a field the client decides: of its first SYN,
// or the moment it sends it (a time window: the client connects inside it
// or outside it, as it likes).
func chosenField(what string) eval.Cond {
	if clockKeys[what] {
		return eval.Choice("at a time when "+what+" %s matches", "at a time when "+what+" %s does not match")
	}
	return chosenPacket(what)
}

// chosenHeader is a match on the presence of an IPv6 extension header or
// an IP or TCP option (or on what is in one): a plain first SYN has none,
// and takes the branch plain says (true: the match holds without one).
func chosenHeader(what string, plain bool) eval.Cond {
	yes, no := "with a first SYN whose "+what+" %s matches", ""
	if plain {
		yes, no = "", "with a first SYN whose "+what+" %s does not match"
	}
	return eval.Choice(yes, no)
}

// chosenHistory is a match on past traffic the client itself can shape:
// a rate limit, a recent list, a connection count, a quota.
func chosenHistory(kind string, over bool) eval.Cond {
	under, above := "while under the "+kind+" of %s", "while over the "+kind+" of %s"
	if over {
		return eval.Choice(above, under)
	}
	return eval.Choice(under, above)
}
