package xt

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
)

// Conntrack match flags (XT_CONNTRACK_*).
const (
	ctState     = 1 << 0
	ctProto     = 1 << 1
	ctOrigSrc   = 1 << 2
	ctOrigDst   = 1 << 3
	ctReplSrc   = 1 << 4
	ctReplDst   = 1 << 5
	ctStatus    = 1 << 6
	ctExpires   = 1 << 7
	ctOrigSPort = 1 << 8
	ctOrigDPort = 1 << 9
	ctReplSPort = 1 << 10
	ctReplDPort = 1 << 11
	ctDirection = 1 << 12
	ctAlias     = 1 << 13
	ctAllFlags  = 1<<14 - 1
)

// ctStateNames are the conntrack match's state bits (INVALID, then
// XT_CONNTRACK_STATE_BIT of each ctinfo, SNAT/DNAT/UNTRACKED after
// IP_CT_NUMBER), in the order iptables prints them.
var ctStateNames = []bitName{{1 << 0, "INVALID"}, {1 << 3, "NEW"}, {1 << 2, "RELATED"},
	{1 << 1, "ESTABLISHED"}, {1 << 8, "UNTRACKED"}, {1 << 6, "SNAT"}, {1 << 7, "DNAT"}}

// stateNames are xt_state's bits: its UNTRACKED is 1 << (IP_CT_NUMBER+1).
var stateNames = []bitName{{1 << 0, "INVALID"}, {1 << 3, "NEW"}, {1 << 2, "RELATED"},
	{1 << 1, "ESTABLISHED"}, {1 << 6, "UNTRACKED"}}

// ctStatusNames are the IPS_* bits iptables knows.
var ctStatusNames = []bitName{{1 << 0, "EXPECTED"}, {1 << 1, "SEEN_REPLY"}, {1 << 2, "ASSURED"},
	{1 << 3, "CONFIRMED"}}

func decodeState(_ *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
	s, ok := names(b.u32(0), stateNames)
	if !ok || s == "" {
		return "", nil, fmt.Errorf("state mask %#x", b.u32(0))
	}
	return "state", []iptsave.Option{opt("--state", false, s)}, nil
}

// decodeHelper decodes xt_helper_info: an int invert, then the name.
func decodeHelper(_ *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
	inv := b.u32(0)
	name, ok := b.cstr(4, 30)
	if !ok || inv > 1 {
		return "", nil, fmt.Errorf("invert %d, name terminated %v", inv, ok)
	}
	return "helper", []iptsave.Option{opt("--helper", inv == 1, name)}, nil
}

// conntrackRev decodes xt_conntrack_mtinfo1/2/3: the same layout up to
// match_flags; the state and status masks are one byte in revision 1,
// two after; revision 3 adds the high ends of the port ranges.
func conntrackRev(rev int) func(*Decoder, blob, Family) (string, []iptsave.Option, error) {
	return func(_ *Decoder, b blob, fam Family) (string, []iptsave.Option, error) {
		flags, inv := b.u16(146), b.u16(148)
		if flags&^ctAllFlags != 0 || inv&^ctAllFlags != 0 {
			return "", nil, fmt.Errorf("match flags %#x invert flags %#x", flags, inv)
		}
		var state, status uint32
		if rev == 1 {
			state, status = uint32(b.u8(150)), uint32(b.u8(151))
		} else {
			state, status = uint32(b.u16(150)), uint32(b.u16(152))
		}
		module := "conntrack"
		var opts []iptsave.Option
		neg := func(f uint16) bool { return inv&f != 0 }
		if flags&ctState != 0 {
			s, ok := names(state, ctStateNames)
			if !ok {
				return "", nil, fmt.Errorf("state mask %#x", state)
			}
			if flags&ctAlias != 0 {
				// "-m state" loaded as conntrack: iptables prints it as state.
				module = "state"
				opts = append(opts, opt("--state", neg(ctState), s))
			} else {
				opts = append(opts, opt("--ctstate", neg(ctState), s))
			}
		}
		if flags&ctProto != 0 {
			opts = append(opts, opt("--ctproto", neg(ctProto), strconv.Itoa(int(b.u16(136)))))
		}
		for _, a := range []struct {
			flag uint16
			name string
			off  int
		}{{ctOrigSrc, "--ctorigsrc", 0}, {ctOrigDst, "--ctorigdst", 32},
			{ctReplSrc, "--ctreplsrc", 64}, {ctReplDst, "--ctrepldst", 96}} {
			if flags&a.flag != 0 {
				opts = append(opts, opt(a.name, neg(a.flag), ctAddr(b, a.off, fam)))
			}
		}
		for i, p := range []struct {
			flag uint16
			name string
		}{{ctOrigSPort, "--ctorigsrcport"}, {ctOrigDPort, "--ctorigdstport"},
			{ctReplSPort, "--ctreplsrcport"}, {ctReplDPort, "--ctrepldstport"}} {
			if flags&p.flag == 0 {
				continue
			}
			// Host order in every revision: the kernel compares them
			// with ntohs of the tuple.
			lo := b.u16(138 + 2*i)
			hi := lo
			if rev == 3 {
				hi = b.u16(154 + 2*i)
			}
			opts = append(opts, opt(p.name, neg(p.flag), portRange(lo, hi)))
		}
		if flags&ctStatus != 0 {
			s, ok := names(status, ctStatusNames)
			if !ok {
				return "", nil, fmt.Errorf("status mask %#x", status)
			}
			if s == "" {
				s = "NONE"
			}
			opts = append(opts, opt("--ctstatus", neg(ctStatus), s))
		}
		if flags&ctExpires != 0 {
			lo, hi := b.u32(128), b.u32(132)
			v := strconv.FormatUint(uint64(lo), 10)
			if hi != lo {
				v += ":" + strconv.FormatUint(uint64(hi), 10)
			}
			opts = append(opts, opt("--ctexpire", neg(ctExpires), v))
		}
		if flags&ctDirection != 0 {
			d := "ORIGINAL"
			if inv&ctDirection != 0 {
				d = "REPLY"
			}
			opts = append(opts, opt("--ctdir", false, d))
		}
		return module, opts, nil
	}
}

// ctAddr prints an address and its mask (the mask follows at +16).
func ctAddr(b blob, off int, fam Family) string {
	a, m := b.addr(off, fam), b.addr(off+16, fam)
	// iptables prints the address masked.
	as, ms := a.AsSlice(), m.AsSlice()
	for i := range as {
		as[i] &= ms[i]
	}
	masked, _ := netip.AddrFromSlice(as)
	return addrMask(masked, m)
}
