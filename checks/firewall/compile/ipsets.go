package compile

import (
	"fmt"
	"slices"
	"strings"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/ipset"
)

// ipsets holds the ipset sets compiled to address sets, or why a set
// cannot be used.
type ipsets struct {
	readErr error
	sets    map[string]*ipsetEntry
	// dynamic names sets that rules modify (-j SET): their membership
	// depends on traffic already seen.
	dynamic map[string]bool
	// fixed names the sets a condition read as fixed contents (not
	// modified by any rule known then).
	fixed map[string]bool
}

type ipsetEntry struct {
	fam     eval.Family
	members *netipx.IPSet
	// list names the member sets of a list:set.
	list []string
	err  error
}

func compileIPSets(d Dump[ipset.Dump]) *ipsets {
	s := &ipsets{sets: map[string]*ipsetEntry{}, dynamic: map[string]bool{}, fixed: map[string]bool{}}
	if !d.ok() {
		s.readErr = d.Err
		if s.readErr == nil {
			s.readErr = fmt.Errorf("no ipset dump given")
		}
		return s
	}
	for _, set := range d.Value.Sets {
		s.sets[set.Name] = compileIPSet(set)
	}
	return s
}

// compileIPSet builds the effective members of a single-dimension address
// set. hash:net looks up the most specific entry, and a nomatch entry
// there means "not a member": adding entries from the shortest prefix to
// the longest reproduces that.
func compileIPSet(s *ipset.Set) *ipsetEntry {
	e := &ipsetEntry{fam: eval.IPv4}
	if s.Family == "inet6" {
		e.fam = eval.IPv6
	}
	if s.Type == "list:set" {
		for _, en := range s.Entries {
			e.list = append(e.list, en.Value)
		}
		return e
	}
	switch s.Type {
	case "hash:ip", "hash:net", "bitmap:ip":
	default:
		e.err = fmt.Errorf("ipset %s of type %s is not modelled", s.Name, s.Type)
		return e
	}
	type item struct {
		r       netipx.IPRange
		bits    int
		nomatch bool
	}
	var items []item
	for _, en := range s.Entries {
		v := en.Value
		if strings.Contains(v, "-") {
			// hash:net and bitmap:ip accept ranges; the kernel stores them
			// as the covering prefixes.
			r, err := parseRange(v, e.fam)
			if err != nil {
				e.err = fmt.Errorf("ipset %s line %d: %v", s.Name, en.Line, err)
				return e
			}
			for _, p := range r.Prefixes() {
				items = append(items, item{netipx.RangeOfPrefix(p), p.Bits(), en.NoMatch})
			}
			continue
		}
		r, err := parseAddrOrPrefix(v, e.fam)
		if err != nil {
			e.err = fmt.Errorf("ipset %s line %d: %v", s.Name, en.Line, err)
			return e
		}
		bits := 128
		if p, ok := r.Prefix(); ok {
			bits = p.Bits()
		}
		items = append(items, item{r, bits, en.NoMatch})
	}
	for _, o := range s.Options {
		if o.Name == "netmask" {
			e.err = fmt.Errorf("ipset %s uses netmask, not modelled", s.Name)
			return e
		}
	}
	slices.SortStableFunc(items, func(a, b item) int { return a.bits - b.bits })
	var b netipx.IPSetBuilder
	for _, it := range items {
		if it.nomatch {
			b.RemoveRange(it.r)
		} else {
			b.AddRange(it.r)
		}
	}
	m, err := b.IPSet()
	if err != nil {
		e.err = err
		return e
	}
	e.members = m
	return e
}

// cond returns the condition "-m set [!] --match-set NAME DIRS" for fam.
func (s *ipsets) cond(name, dirs string, neg bool, fam eval.Family, depth int) eval.Cond {
	if s.readErr != nil {
		return unknown("set %s: ipset contents unavailable (%v)", name, s.readErr)
	}
	if s.dynamic[name] {
		return unknown("set %s is filled by rules from past traffic (-j SET)", name)
	}
	s.fixed[name] = true
	e, ok := s.sets[name]
	if !ok {
		return unknown("set %s is missing from ipset save", name)
	}
	if e.err != nil {
		return unknown("%v", e.err)
	}
	if e.list != nil {
		if depth > 4 {
			return unknown("set %s: list:set nested too deep", name)
		}
		var or eval.Or
		for _, m := range e.list {
			or = append(or, s.cond(m, dirs, false, fam, depth+1))
		}
		if neg {
			return eval.Not{C: or}
		}
		return or
	}
	field := eval.Src
	switch strings.Split(dirs, ",")[0] {
	case "src":
	case "dst":
		field = eval.Dst
	default:
		return unknown("set %s: direction %q not understood", name, dirs)
	}
	if e.fam != fam {
		// The kernel never matches a set of the other family.
		return constCond(eval.False)
	}
	return eval.Addr{Field: field, Family: fam, Set: e.members, Neg: neg}
}
