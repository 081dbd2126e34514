package xt

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
)

// The matches here decide on traffic already seen (or on the clock). The
// compiler leaves their outcome to the client, bar the direction of
// hashlimit and connlimit; they are decoded for the rule's text and so
// that a blob that does not fit is not taken for one that does.

// rateUnits are iptables' rate units, longest period first.
var rateUnits = []struct {
	name string
	secs uint64
}{{"day", 24 * 60 * 60}, {"hour", 60 * 60}, {"min", 60}, {"second", 1}}

// rate prints a period (scale units per packet) as iptables' print_rate:
// the longest unit that keeps the count exact enough.
func rate(period, scale uint64) string {
	if period == 0 {
		return "inf"
	}
	i := 1
	for ; i < len(rateUnits); i++ {
		mult := rateUnits[i].secs * scale
		if period > mult || mult/period < mult%period {
			break
		}
	}
	u := rateUnits[i-1]
	name := u.name
	if name == "second" {
		name = "sec"
	}
	return strconv.FormatUint(u.secs*scale/period, 10) + "/" + name
}

func decodeLimit(_ *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
	const scale, defaultBurst = 10000, 5
	opts := []iptsave.Option{opt("--limit", false, rate(uint64(b.u32(0)), scale))}
	if burst := b.u32(4); burst != defaultBurst {
		opts = append(opts, opt("--limit-burst", false, strconv.FormatUint(uint64(burst), 10)))
	}
	return "limit", opts, nil
}

// Hashlimit modes (XT_HASHLIMIT_*).
const (
	hlDIP, hlDPT, hlSIP, hlSPT = 1 << 0, 1 << 1, 1 << 2, 1 << 3
	hlInvert, hlBytes          = 1 << 4, 1 << 5
	hlRateMatch                = 1 << 6
)

var hashModeNames = []bitName{{hlSIP, "srcip"}, {hlSPT, "srcport"}, {hlDIP, "dstip"}, {hlDPT, "dstport"}}

// hashlimitRev decodes xt_hashlimit_mtinfo1/2/3.
func hashlimitRev(rev int) func(*Decoder, blob, Family) (string, []iptsave.Option, error) {
	return func(_ *Decoder, b blob, fam Family) (string, []iptsave.Option, error) {
		var name string
		var ok bool
		var avg, burst uint64
		var mode uint32
		var srcmask, dstmask uint8
		scale := uint64(10000)
		if rev == 1 {
			name, ok = b.cstr(0, 16)
			mode, avg, burst = b.u32(16), uint64(b.u32(20)), uint64(b.u32(24))
			srcmask, dstmask = b.u8(44), b.u8(45)
		} else {
			// NAME_MAX (255) bytes of name, then the u64s at 256.
			name, ok = b.cstr(0, 255)
			avg, burst, mode = b.u64(256), b.u64(264), b.u32(272)
			scale = 1000000
			if rev == 2 {
				srcmask, dstmask = b.u8(292), b.u8(293)
			} else {
				srcmask, dstmask = b.u8(296), b.u8(297)
			}
		}
		if !ok {
			return "", nil, fmt.Errorf("name not terminated")
		}
		allowed := uint32(hlDIP | hlDPT | hlSIP | hlSPT | hlInvert | hlBytes)
		if rev == 3 {
			allowed |= hlRateMatch
		}
		if mode&^allowed != 0 {
			return "", nil, fmt.Errorf("mode %#x", mode)
		}
		dir := "--hashlimit-upto"
		if mode&hlInvert != 0 {
			dir = "--hashlimit-above"
		}
		r := rate(avg, scale)
		if mode&hlBytes != 0 {
			r = strconv.FormatUint(avg, 10) + "b"
		}
		opts := []iptsave.Option{opt(dir, false, r)}
		if mode&hlBytes == 0 {
			opts = append(opts, opt("--hashlimit-burst", false, strconv.FormatUint(burst, 10)))
		}
		if m, _ := names(mode, hashModeNames); m != "" {
			opts = append(opts, opt("--hashlimit-mode", false, m))
		}
		full := uint8(32)
		if fam == IPv6 {
			full = 128
		}
		if srcmask != full && rev > 0 {
			opts = append(opts, opt("--hashlimit-srcmask", false, strconv.Itoa(int(srcmask))))
		}
		if dstmask != full && rev > 0 {
			opts = append(opts, opt("--hashlimit-dstmask", false, strconv.Itoa(int(dstmask))))
		}
		if mode&hlRateMatch != 0 {
			opts = append(opts, opt("--hashlimit-rate-match", false))
		}
		opts = append(opts, opt("--hashlimit-name", false, name))
		return "hashlimit", opts, nil
	}
}

// recentRev decodes xt_recent_mtinfo (revision 0) and _v1 (with a mask).
func recentRev(rev int) func(*Decoder, blob, Family) (string, []iptsave.Option, error) {
	return func(_ *Decoder, b blob, fam Family) (string, []iptsave.Option, error) {
		const check, set, update, remove, ttl, reap = 1, 2, 4, 8, 16, 32
		seconds, hits, cs, inv := b.u32(0), b.u32(4), b.u8(8), b.u8(9)
		name, ok := b.cstr(10, 200)
		side := b.u8(210)
		if !ok || cs&^0x3f != 0 || inv > 1 || side > 1 {
			return "", nil, fmt.Errorf("check_set %#x invert %d side %d", cs, inv, side)
		}
		var opts []iptsave.Option
		for _, a := range []struct {
			bit  uint8
			name string
		}{{set, "--set"}, {check, "--rcheck"}, {update, "--update"}, {remove, "--remove"}} {
			if cs&a.bit != 0 {
				opts = append(opts, opt(a.name, inv == 1))
			}
		}
		if seconds != 0 {
			opts = append(opts, opt("--seconds", false, strconv.FormatUint(uint64(seconds), 10)))
		}
		if cs&reap != 0 {
			opts = append(opts, opt("--reap", false))
		}
		if hits != 0 {
			opts = append(opts, opt("--hitcount", false, strconv.FormatUint(uint64(hits), 10)))
		}
		if cs&ttl != 0 {
			opts = append(opts, opt("--rttl", false))
		}
		opts = append(opts, opt("--name", false, name))
		if rev == 1 {
			opts = append(opts, opt("--mask", false, b.addr(212, fam).String()))
		}
		if side == 0 {
			opts = append(opts, opt("--rsource", false))
		} else {
			opts = append(opts, opt("--rdest", false))
		}
		return "recent", opts, nil
	}
}

func decodeConnlimit(_ *Decoder, b blob, fam Family) (string, []iptsave.Option, error) {
	const invert, daddr = 1, 2
	limit, flags := b.u32(16), b.u32(20)
	if flags&^3 != 0 {
		return "", nil, fmt.Errorf("flags %#x", flags)
	}
	bits, ok := prefixLen(b.addr(0, fam))
	if !ok {
		return "", nil, fmt.Errorf("mask %v not a prefix", b.addr(0, fam))
	}
	// The kernel matches when the count is over the limit; inverted, up
	// to it.
	dir := "--connlimit-above"
	if flags&invert != 0 {
		dir = "--connlimit-upto"
	}
	opts := []iptsave.Option{
		opt(dir, false, strconv.FormatUint(uint64(limit), 10)),
		opt("--connlimit-mask", false, strconv.Itoa(bits)),
	}
	if flags&daddr != 0 {
		opts = append(opts, opt("--connlimit-daddr", false))
	} else {
		opts = append(opts, opt("--connlimit-saddr", false))
	}
	return "connlimit", opts, nil
}

var weekdayNames = []bitName{{1 << 1, "Mon"}, {1 << 2, "Tue"}, {1 << 3, "Wed"}, {1 << 4, "Thu"},
	{1 << 5, "Fri"}, {1 << 6, "Sat"}, {1 << 7, "Sun"}}

func decodeTime(_ *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
	const localTZ, contiguous = 1, 2
	dstart, dstop, tstart, tstop := b.u32(0), b.u32(4), b.u32(8), b.u32(12)
	monthdays, weekdays, flags := b.u32(16), b.u8(20), b.u8(21)
	if flags&^3 != 0 || tstart >= 86400 || tstop >= 86400 {
		return "", nil, fmt.Errorf("flags %#x, times %d-%d", flags, tstart, tstop)
	}
	clock := func(s uint32) string {
		return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	var opts []iptsave.Option
	if tstart != 0 || tstop != 86399 {
		opts = append(opts, opt("--timestart", false, clock(tstart)), opt("--timestop", false, clock(tstop)))
	}
	if monthdays != 0xfffffffe {
		var ds []string
		for i := 1; i <= 31; i++ {
			if monthdays&(1<<i) != 0 {
				ds = append(ds, strconv.Itoa(i))
			}
		}
		opts = append(opts, opt("--monthdays", false, strings.Join(ds, ",")))
	}
	if weekdays != 0xfe {
		w, _ := names(uint32(weekdays), weekdayNames)
		opts = append(opts, opt("--weekdays", false, w))
	}
	if dstart != 0 {
		opts = append(opts, opt("--datestart", false, utcDate(dstart)))
	}
	if dstop != 0xffffffff {
		opts = append(opts, opt("--datestop", false, utcDate(dstop)))
	}
	if flags&localTZ != 0 {
		opts = append(opts, opt("--kerneltz", false))
	}
	if flags&contiguous != 0 {
		opts = append(opts, opt("--contiguous", false))
	}
	return "time", opts, nil
}

// utcDate prints seconds since the epoch as iptables' --datestart.
func utcDate(s uint32) string {
	return time.Unix(int64(s), 0).UTC().Format("2006-01-02T15:04:05")
}
