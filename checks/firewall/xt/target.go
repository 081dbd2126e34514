package xt

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
)

type targetDecoder struct {
	size   int
	decode func(d *Decoder, b blob, fam Family) (name string, opts []iptsave.Option, err error)
}

// targets lists the decoders by target name and revision. REJECT's and
// the NAT targets' layouts depend on the family.
var targets = map[string]map[uint32]targetDecoder{
	"REJECT":     {0: {4, decodeReject}},
	"LOG":        {0: {32, decodeLog}},
	"DNAT":       {0: {20, natCompat("DNAT")}, 1: {40, natRange("DNAT", false)}, 2: {44, natRange("DNAT", true)}},
	"SNAT":       {0: {20, natCompat("SNAT")}, 1: {40, natRange("SNAT", false)}, 2: {44, natRange("SNAT", true)}},
	"REDIRECT":   {0: {20, natCompat("REDIRECT")}},
	"MASQUERADE": {0: {20, natCompat("MASQUERADE")}},
	"SET":        {1: {8, setTarget(1)}, 2: {16, setTarget(2)}, 3: {20, setTarget(3)}},
	"CT":         {0: {40, ctTarget(0)}, 1: {72, ctTarget(1)}, 2: {72, ctTarget(2)}},
	"NOTRACK":    {0: {0, func(*Decoder, blob, Family) (string, []iptsave.Option, error) { return "NOTRACK", nil, nil }}},
	"MARK":       {2: {8, decodeMarkTarget}},
	"CONNMARK":   {1: {13, connmarkTarget(1)}, 2: {15, connmarkTarget(2)}},
}

// natV6Size is nf_nat_range's size: the IPv6 REDIRECT and MASQUERADE
// (revision 0) use it instead of the IPv4 compat structure.
const natV6Size = 40

// verdictFree are targets whose effect on the verdict does not depend on
// their options: they log, count, rewrite fields no match here reads, or
// copy the packet, and the rule goes on.
var verdictFree = map[string]bool{"NFLOG": true, "ULOG": true, "TRACE": true, "AUDIT": true,
	"TCPMSS": true, "TOS": true, "DSCP": true, "TTL": true, "HL": true, "CLASSIFY": true,
	"CHECKSUM": true, "SECMARK": true, "CONNSECMARK": true, "IDLETIMER": true, "LED": true, "TEE": true}

// Target decodes a target expression. A target whose options do not
// change the verdict (NFLOG, TCPMSS, ...) is returned by name with
// OptionsOmitted set. When it cannot decode, the error says why and the
// target returned names it with one option marked Guessed, which the
// compiler takes as "not understood".
func (d *Decoder) Target(fam Family, name string, rev uint32, info []byte) (Target, error) {
	fail := func(why string) (Target, error) {
		return Target{Name: name, Options: []iptsave.Option{{
				Name:    fmt.Sprintf("(revision %d, %d bytes, not decoded)", rev, len(info)),
				Guessed: true,
			}}}, &Error{Kind: "target", Name: name, Rev: rev, Len: len(info),
				Why: why}
	}
	revs, ok := targets[name]
	if !ok {
		if verdictFree[name] {
			return Target{Name: name, OptionsOmitted: true}, nil
		}
		return fail("target not known")
	}
	td, ok := revs[rev]
	if !ok {
		return fail("revision not known")
	}
	size := td.size
	if fam == IPv6 && rev == 0 && (name == "REDIRECT" || name == "MASQUERADE") {
		size = natV6Size
	}
	if !sizeOK(info, size) {
		return fail(fmt.Sprintf("expected %d bytes", align(size)))
	}
	tname, opts, err := td.decode(d, blob(info), fam)
	if err != nil {
		return fail(err.Error())
	}
	return Target{Name: tname, Options: opts}, nil
}

var rejectV4 = []string{"icmp-net-unreachable", "icmp-host-unreachable", "icmp-proto-unreachable",
	"icmp-port-unreachable", "icmp-echo-reply", "icmp-net-prohibited", "icmp-host-prohibited",
	"tcp-reset", "icmp-admin-prohibited"}

var rejectV6 = []string{"icmp6-no-route", "icmp6-adm-prohibited", "icmp6-not-neighbour",
	"icmp6-addr-unreachable", "icmp6-port-unreachable", "icmp6-echo-reply", "tcp-reset",
	"icmp6-policy-fail", "icmp6-reject-route"}

func decodeReject(_ *Decoder, b blob, fam Family) (string, []iptsave.Option, error) {
	with := b.u32(0)
	table := rejectV4
	if fam == IPv6 {
		table = rejectV6
	}
	if int(with) >= len(table) {
		return "", nil, fmt.Errorf("reject type %d", with)
	}
	return "REJECT", []iptsave.Option{opt("--reject-with", false, table[with])}, nil
}

func decodeLog(_ *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
	level, flags := b.u8(0), b.u8(1)
	prefix, ok := b.cstr(2, 30)
	if !ok || level > 7 || flags&^0x3f != 0 {
		return "", nil, fmt.Errorf("level %d flags %#x", level, flags)
	}
	var opts []iptsave.Option
	if prefix != "" {
		opts = append(opts, opt("--log-prefix", false, prefix))
	}
	if level != 4 {
		opts = append(opts, opt("--log-level", false, strconv.Itoa(int(level))))
	}
	for _, f := range []struct {
		bit  uint8
		name string
	}{{0x01, "--log-tcp-sequence"}, {0x02, "--log-tcp-options"}, {0x04, "--log-ip-options"},
		{0x08, "--log-uid"}, {0x20, "--log-macdecode"}} {
		if flags&f.bit != 0 {
			opts = append(opts, opt(f.name, false))
		}
	}
	return "LOG", opts, nil
}

// NAT range flags (NF_NAT_RANGE_*).
const (
	natMapIPs        = 1 << 0
	natProtoSpec     = 1 << 1
	natRandom        = 1 << 2
	natPersistent    = 1 << 3
	natRandomFully   = 1 << 4
	natProtoOffset   = 1 << 5
	natNetmap        = 1 << 6
	natKnownFlags    = 1<<7 - 1
	natPortsOnlyMask = natProtoSpec | natRandom | natRandomFully
)

// natRange is the decoded nf_nat_range(2).
type natRangeV struct {
	flags          uint32
	minIP, maxIP   netip.Addr
	minP, maxP, bp uint16
}

// natCompat decodes revision 0: nf_nat_ipv4_multi_range_compat for IPv4,
// nf_nat_range for the IPv6 REDIRECT and MASQUERADE.
func natCompat(name string) func(*Decoder, blob, Family) (string, []iptsave.Option, error) {
	return func(d *Decoder, b blob, fam Family) (string, []iptsave.Option, error) {
		if fam == IPv6 {
			if name == "DNAT" || name == "SNAT" {
				return "", nil, fmt.Errorf("revision 0 is IPv4 only")
			}
			return natRange(name, false)(d, b, fam)
		}
		if n := b.u32(0); n != 1 {
			return "", nil, fmt.Errorf("%d ranges", n)
		}
		r := natRangeV{flags: b.u32(4), minIP: b.addr(8, IPv4), maxIP: b.addr(12, IPv4),
			minP: b.be16(16), maxP: b.be16(18)}
		return natOptions(name, r, fam)
	}
}

func natRange(name string, v2 bool) func(*Decoder, blob, Family) (string, []iptsave.Option, error) {
	return func(_ *Decoder, b blob, fam Family) (string, []iptsave.Option, error) {
		r := natRangeV{flags: b.u32(0), minIP: b.addr(4, fam), maxIP: b.addr(20, fam),
			minP: b.be16(36), maxP: b.be16(38)}
		if v2 {
			r.bp = b.be16(40)
		}
		return natOptions(name, r, fam)
	}
}

// natOptions prints a range as iptables-save does.
func natOptions(name string, r natRangeV, fam Family) (string, []iptsave.Option, error) {
	if r.flags&^natKnownFlags != 0 || r.flags&natNetmap != 0 {
		return "", nil, fmt.Errorf("range flags %#x", r.flags)
	}
	ports := ""
	if r.flags&natProtoSpec != 0 {
		ports = strconv.Itoa(int(r.minP))
		if r.maxP != r.minP {
			ports += "-" + strconv.Itoa(int(r.maxP))
		}
		if r.flags&natProtoOffset != 0 {
			ports += "/" + strconv.Itoa(int(r.bp))
		}
	}
	var opts []iptsave.Option
	switch name {
	case "REDIRECT", "MASQUERADE":
		if r.flags&natMapIPs != 0 {
			return "", nil, fmt.Errorf("%s with addresses", name)
		}
		if ports != "" {
			opts = append(opts, opt("--to-ports", false, ports))
		}
	default:
		var to strings.Builder
		if r.flags&natMapIPs != 0 {
			a := r.minIP.String()
			if r.maxIP != r.minIP {
				a += "-" + r.maxIP.String()
			}
			if fam == IPv6 && ports != "" {
				a = "[" + a + "]"
			}
			to.WriteString(a)
		}
		if ports != "" {
			to.WriteString(":" + ports)
		}
		if to.Len() == 0 {
			return "", nil, fmt.Errorf("%s without addresses or ports", name)
		}
		o := "--to-destination"
		if name == "SNAT" {
			o = "--to-source"
		}
		opts = append(opts, opt(o, false, to.String()))
	}
	if r.flags&natRandom != 0 {
		opts = append(opts, opt("--random", false))
	}
	if r.flags&natRandomFully != 0 {
		opts = append(opts, opt("--random-fully", false))
	}
	if r.flags&natPersistent != 0 {
		opts = append(opts, opt("--persistent", false))
	}
	return name, opts, nil
}

// setTarget decodes xt_set_info_target_v1/v2/v3.
func setTarget(rev int) func(*Decoder, blob, Family) (string, []iptsave.Option, error) {
	return func(d *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
		var opts []iptsave.Option
		for _, s := range []struct {
			off  int
			name string
		}{{0, "--add-set"}, {4, "--del-set"}} {
			name, dirs, _, ok, err := d.setInfo(b, s.off)
			if err != nil {
				return "", nil, err
			}
			if ok {
				opts = append(opts, opt(s.name, false, name, dirs))
			}
		}
		if rev == 3 {
			if _, _, _, ok, _ := d.setInfo(b, 8); ok {
				return "", nil, fmt.Errorf("--map-set not decoded")
			}
		}
		if rev >= 2 {
			flagsOff, timeoutOff := 8, 12
			if rev == 3 {
				flagsOff, timeoutOff = 12, 16
			}
			flags, timeout := b.u32(flagsOff), b.u32(timeoutOff)
			if flags&^1 != 0 {
				return "", nil, fmt.Errorf("flags %#x", flags)
			}
			if flags&1 != 0 {
				opts = append(opts, opt("--exist", false))
			}
			if timeout != 0xffffffff {
				opts = append(opts, opt("--timeout", false, strconv.FormatUint(uint64(timeout), 10)))
			}
		}
		if len(opts) == 0 {
			return "", nil, fmt.Errorf("no set")
		}
		return "SET", opts, nil
	}
}

var ctEventNames = []bitName{{1 << 0, "new"}, {1 << 1, "related"}, {1 << 2, "destroy"},
	{1 << 3, "reply"}, {1 << 4, "assured"}, {1 << 5, "protoinfo"}, {1 << 6, "helper"},
	{1 << 7, "mark"}, {1 << 8, "natseqinfo"}, {1 << 9, "secmark"}}

// ctTarget decodes xt_ct_target_info (revision 0) and _v1 (1, 2).
func ctTarget(rev int) func(*Decoder, blob, Family) (string, []iptsave.Option, error) {
	return func(_ *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
		const notrack, alias, dirOrig, dirRepl, zoneMark = 1, 2, 4, 8, 16
		flags, zone, events, expEvents := b.u16(0), b.u16(2), b.u32(4), b.u32(8)
		helper, ok := b.cstr(12, 16)
		timeout := ""
		if rev > 0 {
			var ok2 bool
			timeout, ok2 = b.cstr(28, 32)
			ok = ok && ok2
		}
		if !ok || flags&^0x1f != 0 || flags&zoneMark != 0 {
			return "", nil, fmt.Errorf("flags %#x", flags)
		}
		if flags&notrack != 0 {
			if flags&alias != 0 {
				return "NOTRACK", nil, nil
			}
			return "CT", []iptsave.Option{opt("--notrack", false)}, nil
		}
		var opts []iptsave.Option
		if helper != "" {
			opts = append(opts, opt("--helper", false, helper))
		}
		if timeout != "" {
			opts = append(opts, opt("--timeout", false, timeout))
		}
		if events != 0 {
			s, ok := names(events, ctEventNames)
			if !ok {
				return "", nil, fmt.Errorf("events %#x", events)
			}
			opts = append(opts, opt("--ctevents", false, s))
		}
		if expEvents != 0 {
			if expEvents != 1 {
				return "", nil, fmt.Errorf("expectation events %#x", expEvents)
			}
			opts = append(opts, opt("--expevents", false, "new"))
		}
		if zone != 0 {
			z := "--zone"
			switch flags & (dirOrig | dirRepl) {
			case dirOrig:
				z = "--zone-orig"
			case dirRepl:
				z = "--zone-reply"
			}
			opts = append(opts, opt(z, false, strconv.Itoa(int(zone))))
		}
		return "CT", opts, nil
	}
}

func decodeMarkTarget(_ *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
	return "MARK", []iptsave.Option{opt("--set-xmark", false, hex32(b.u32(0))+"/"+hex32(b.u32(4)))}, nil
}

// connmarkTarget decodes xt_connmark_tginfo1 and, without a shift, 2
// (which puts the mode after the shift fields).
func connmarkTarget(rev int) func(*Decoder, blob, Family) (string, []iptsave.Option, error) {
	return func(_ *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
		ctmark, ctmask, nfmask, mode := b.u32(0), b.u32(4), b.u32(8), b.u8(12)
		if rev == 2 {
			if b.u8(12) != 0 || b.u8(13) != 0 {
				return "", nil, fmt.Errorf("mark shift")
			}
			mode = b.u8(14)
		}
		return connmarkOptions(ctmark, ctmask, nfmask, mode)
	}
}

func connmarkOptions(ctmark, ctmask, nfmask uint32, mode uint8) (string, []iptsave.Option, error) {
	switch mode {
	case 0:
		return "CONNMARK", []iptsave.Option{opt("--set-xmark", false, hex32(ctmark)+"/"+hex32(ctmask))}, nil
	case 1, 2:
		o := "--save-mark"
		if mode == 2 {
			o = "--restore-mark"
		}
		return "CONNMARK", []iptsave.Option{opt(o, false), opt("--nfmask", false, hex32(nfmask)),
			opt("--ctmask", false, hex32(ctmask))}, nil
	}
	return "", nil, fmt.Errorf("mode %d", mode)
}
