package xt

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
)

// ipset flags of struct xt_set_info (enum ip_set_kopt) and of the v3/v4
// structures' flags (enum ipset_cmd_flags).
const (
	setInvMatch      = 1 << 0
	setReturnNomatch = 1 << 7
	setMaxDim        = 6
	invalidSetID     = 65535

	flagSkipCounters    = 1 << 3
	flagSkipSubcounters = 1 << 4
	flagMatchCounters   = 1 << 5
	flagReturnNomatch   = 1 << 7
)

// setInfo reads a struct xt_set_info at off: the set's name and its
// "src,dst" directions; ok is false when the slot is unused.
func (d *Decoder) setInfo(b blob, off int) (name, dirs string, flags uint8, ok bool, err error) {
	index, dim := b.u16(off), int(b.u8(off+2))
	flags = b.u8(off + 3)
	if index == invalidSetID {
		return "", "", flags, false, nil
	}
	if dim < 1 || dim > setMaxDim {
		return "", "", 0, false, fmt.Errorf("dimension %d", dim)
	}
	if d.SetName == nil {
		return "", "", 0, false, fmt.Errorf("ipset index %d: set names are not available", index)
	}
	if name, err = d.SetName(index); err != nil {
		return "", "", 0, false, fmt.Errorf("ipset index %d: %w", index, err)
	}
	var ds []string
	for i := 1; i <= dim; i++ {
		if flags&(1<<i) != 0 {
			ds = append(ds, "src")
		} else {
			ds = append(ds, "dst")
		}
	}
	return name, strings.Join(ds, ","), flags, true, nil
}

// setRev decodes xt_set_info_match_v1 (revisions 1 and 2) and v3/v4
// (counters; v3 puts the operator before the value, v4 after).
func setRev(rev int) func(*Decoder, blob, Family) (string, []iptsave.Option, error) {
	return func(d *Decoder, b blob, _ Family) (string, []iptsave.Option, error) {
		name, dirs, kflags, ok, err := d.setInfo(b, 0)
		if err != nil {
			return "", nil, err
		}
		if !ok {
			return "", nil, fmt.Errorf("no set")
		}
		allowed := uint8(setInvMatch | 0x7e)
		if rev == 2 {
			allowed |= setReturnNomatch
		}
		if kflags&^allowed != 0 {
			return "", nil, fmt.Errorf("set flags %#x", kflags)
		}
		opts := []iptsave.Option{opt("--match-set", kflags&setInvMatch != 0, name, dirs)}
		if rev == 2 && kflags&setReturnNomatch != 0 {
			opts = append(opts, opt("--return-nomatch", false))
		}
		if rev < 3 {
			return "set", opts, nil
		}
		flags := b.u32(40)
		if flags&^uint32(flagSkipCounters|flagSkipSubcounters|flagMatchCounters|flagReturnNomatch) != 0 {
			return "", nil, fmt.Errorf("flags %#x", flags)
		}
		if flags&flagReturnNomatch != 0 {
			opts = append(opts, opt("--return-nomatch", false))
		}
		if flags&flagSkipCounters != 0 {
			opts = append(opts, opt("--update-counters", true))
		}
		if flags&flagSkipSubcounters != 0 {
			opts = append(opts, opt("--update-subcounters", true))
		}
		for _, c := range []struct {
			off  int
			what string
		}{{8, "packets"}, {24, "bytes"}} {
			op, val := b.u8(c.off), b.u64(c.off+8)
			if rev == 4 {
				val, op = b.u64(c.off), b.u8(c.off+8)
			}
			v := strconv.FormatUint(val, 10)
			switch op {
			case 0:
			case 1:
				opts = append(opts, opt("--"+c.what+"-eq", false, v))
			case 2:
				opts = append(opts, opt("--"+c.what+"-eq", true, v))
			case 3:
				opts = append(opts, opt("--"+c.what+"-lt", false, v))
			case 4:
				opts = append(opts, opt("--"+c.what+"-gt", false, v))
			default:
				return "", nil, fmt.Errorf("%s counter operator %d", c.what, op)
			}
		}
		return "set", opts, nil
	}
}

// SetIndexes lists the ipset indexes a set match or SET target refers to,
// for resolving their names where the sets live (the reading host)
// before decoding.
func SetIndexes(kind, name string, rev uint32, info []byte) []uint16 {
	var offs []int
	switch {
	case kind == "match" && name == "set" && rev >= 1 && rev <= 4 && len(info) >= 4:
		offs = []int{0}
	case kind == "target" && name == "SET" && rev >= 1 && rev <= 3 && len(info) >= 8:
		offs = []int{0, 4}
		if rev == 3 && len(info) >= 12 {
			offs = append(offs, 8)
		}
	}
	var out []uint16
	for _, o := range offs {
		if i := blob(info).u16(o); i != invalidSetID {
			out = append(out, i)
		}
	}
	return out
}
