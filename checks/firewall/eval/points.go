package eval

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"

	"go4.org/netipx"
)

// Points collects the boundaries at which some condition may change value.
// Between two consecutive boundaries every condition is constant, so one
// representative per piece decides the whole piece.
type Points struct {
	src, dst [2][]netip.Addr
	sport    []uint16
	ifaces   []IfName
}

func famIndex(f Family) int {
	if f == IPv6 {
		return 1
	}
	return 0
}

func (pt *Points) addRange(field AddrField, fam Family, r netipx.IPRange) {
	l := &pt.src[famIndex(fam)]
	if field == Dst {
		l = &pt.dst[famIndex(fam)]
	}
	*l = append(*l, r.From())
	if n := r.To().Next(); n.IsValid() {
		*l = append(*l, n)
	}
}

func (pt *Points) addSPort(r PortRange) {
	pt.sport = append(pt.sport, r.Lo)
	if r.Hi < 65535 {
		pt.sport = append(pt.sport, r.Hi+1)
	}
}

func (pt *Points) addIface(n IfName) { pt.ifaces = append(pt.ifaces, n) }

// addRule registers everything a rule mentions.
func (pt *Points) addRule(r *Rule) {
	for _, c := range r.Conds {
		c.addPoints(pt)
	}
	if r.Map != nil {
		for _, e := range r.Map.Entries {
			e.Cond.addPoints(pt)
		}
	}
}

// addrPieces returns the sorted start of every piece of the family's
// address space.
func addrPieces(bounds []netip.Addr, fam Family) []netip.Addr {
	// Sorting plain integers is several times faster than sorting with
	// netip.Addr.Compare, and a large ruleset has tens of thousands of
	// bounds per query.
	keys := make([]addrKey, 0, len(bounds)+1)
	keys = append(keys, keyOf(fam.All().Addr()))
	for _, a := range bounds {
		if FamilyOf(a) == fam {
			keys = append(keys, keyOf(a))
		}
	}
	slices.SortFunc(keys, addrKey.compare)
	keys = slices.Compact(keys)
	out := make([]netip.Addr, len(keys))
	for i, k := range keys {
		out[i] = k.addr(fam)
	}
	return out
}

// addrKey is an address of a known family as a 128-bit integer.
type addrKey struct{ hi, lo uint64 }

func keyOf(a netip.Addr) addrKey {
	b := a.As16()
	return addrKey{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func (k addrKey) addr(fam Family) netip.Addr {
	if fam == IPv4 {
		return netip.AddrFrom4([4]byte{byte(k.lo >> 24), byte(k.lo >> 16), byte(k.lo >> 8), byte(k.lo)})
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], k.hi)
	binary.BigEndian.PutUint64(b[8:], k.lo)
	return netip.AddrFrom16(b)
}

func (k addrKey) compare(o addrKey) int {
	switch {
	case k.hi != o.hi:
		return cmp.Compare(k.hi, o.hi)
	case k.lo != o.lo:
		return cmp.Compare(k.lo, o.lo)
	}
	return 0
}

// pieceRange is the i-th piece given the sorted starts.
func pieceRange(starts []netip.Addr, i int, fam Family) netipx.IPRange {
	last := netipx.RangeOfPrefix(fam.All()).To()
	if i+1 < len(starts) {
		last = starts[i+1].Prev()
	}
	return netipx.IPRangeFrom(starts[i], last)
}

// portPieces returns the sorted start of every source-port piece.
func portPieces(bounds []uint16) []uint16 {
	out := append([]uint16{0}, bounds...)
	slices.Sort(out)
	return slices.Compact(out)
}

func portPiece(starts []uint16, i int) PortRange {
	hi := uint16(65535)
	if i+1 < len(starts) {
		hi = starts[i+1] - 1
	}
	return PortRange{starts[i], hi}
}

// otherIface stands for every interface no rule names; it cannot collide
// with a real name (the kernel forbids NUL in interface names).
const otherIface = "\x00"

// ifaceClass is one representative input interface and how to describe
// the class it stands for.
type ifaceClass struct {
	rep, desc string
}

// ifaceClasses returns one representative per class of input interface
// names the rules distinguish, lo excluded (the host's own traffic is
// evaluated separately).
func ifaceClasses(names []IfName) []ifaceClass {
	seen := map[string]bool{}
	var out []ifaceClass
	add := func(rep, desc string) {
		if rep == "lo" || seen[rep] {
			return
		}
		seen[rep] = true
		out = append(out, ifaceClass{rep, desc})
	}
	for _, n := range names {
		if n.Wildcard {
			// "/" is forbidden in interface names, so the representative
			// equals no exact name a rule could mention.
			add(n.Name+"/", "interfaces "+n.Name+"* not named by another rule")
		} else {
			add(n.Name, n.Name)
		}
	}
	slices.SortFunc(out, func(a, b ifaceClass) int {
		switch {
		case a.rep < b.rep:
			return -1
		case a.rep > b.rep:
			return 1
		}
		return 0
	})
	add(otherIface, "any interface no rule names")
	return out
}
