package compile

import (
	"fmt"
	"strconv"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nfnl"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/xt"
)

// The kernel's bytecode is compiled by reading it back into the
// statements the nft compiler judges (nft.go): each rule's expressions
// run as a register machine whose registers hold what was loaded (a
// header field, a key of meta or ct, a masked field), so that a
// comparison becomes "field OP value" with the value printed from the
// bytes the kernel compares. What the kernel checks stays: an
// "ip6 nexthdr" dependency is a comparison like any other, never folded
// into the transport match that needed it. Whatever is not understood
// becomes an expression or statement the nft compiler turns into an
// unknown naming the rule, never a dropped one.

// bcRule is what the bytecode gives beyond the statements: the xt
// matches and target decoded from their kernel structures.
type bcRule struct {
	matches []*iptsave.Match
	// matchErrs holds, per match, why it was not decoded (nil if it was).
	matchErrs []error
	target    *xt.Target
	targetErr error
	// proto is the transport protocol a "-p" compiled to (an equality on
	// meta l4proto or the IP protocol field), for the modules that need it.
	proto string
}

// decompiled is a bytecode ruleset being read back. Its tables, chains
// and sets are read at once; its rules one at a time, as they arrive
// (read), each let go once compiled, so that neither the kernel's rules
// nor their statements are all held beside the model being built.
type decompiled struct {
	rs *nftjson.Ruleset
	// cur is what the last rule read gives beyond its statements, until
	// the next is read.
	cur bcRule
	m   *machine
	// text is the last rule read as nft would list it (or iptables for
	// xt rules), until the next is read.
	text []byte
	// stmts backs the statements of the last rule read.
	stmts []nftjson.Stmt
	// rule is the last rule read.
	rule nftjson.Rule
	// jsets are the named sets as the nft compiler sees them, to flag
	// those a later rule turns out to update.
	jsets map[setKey]*nftjson.Set
}

// read reads src back into statements and returns it with what else it
// gives, all valid until the next read.
func (d *decompiled) read(src *nfnl.Rule) (*nftjson.Rule, *bcRule) {
	bc := &d.cur
	*bc = bcRule{}
	m := d.m
	// The statements are held only until the next rule is read (the
	// compiler lets go of them first), so one buffer serves every rule.
	m.fam, m.table, m.bc, m.out = src.Family, src.Table, bc, d.stmts[:0]
	stmts := m.run(src.Exprs)
	d.stmts = stmts
	d.rule = nftjson.Rule{Family: src.Family.String(), Table: src.Table, Chain: src.Chain, Handle: int64(src.Handle), Stmts: stmts}
	d.text = appendRuleText(d.text, stmts, bc)
	return &d.rule, bc
}

// updates marks the sets rule r updates from the packet path, before any
// of its lookups is read: their contents depend on traffic already seen.
// It reports whether a rule read before already took one as fixed.
func (d *decompiled) updates(r *nfnl.Rule) (late bool) {
	for _, e := range r.Exprs {
		x, ok := e.(*nfnl.Dynset)
		if !ok {
			continue
		}
		k := setKey{r.Family, r.Table, x.SetName}
		if d.m.sets.updated[k] {
			continue
		}
		d.m.sets.updated[k] = true
		if js := d.jsets[k]; js != nil && !js.HasFlag("dynamic") {
			js.Flags = append(js.Flags, "dynamic")
		}
		late = late || d.m.sets.fixed[k]
	}
	return late
}

// hookNames maps NF_INET_* hook numbers; netdev numbers its own.
var hookNames = []string{"prerouting", "input", "forward", "output", "postrouting", "ingress"}

func hookName(fam nfnl.Family, n uint32) (string, bool) {
	if fam == nfnl.FamilyNetdev {
		switch n {
		case 0:
			return "ingress", true
		case 1:
			return "egress", true
		}
		return "", false
	}
	if int(n) < len(hookNames) {
		return hookNames[n], true
	}
	return "", false
}

// decompile reads rs's tables, chains and sets back (rs.Rules are not
// read: see read). dec decodes xt blobs; updated seeds the sets known to
// be updated by rules.
func decompile(rs *nfnl.Ruleset, dec *xt.Decoder, updated map[setKey]bool) *decompiled {
	out := &decompiled{rs: &nftjson.Ruleset{}, jsets: map[setKey]*nftjson.Set{}}
	for _, t := range rs.Tables {
		out.rs.Tables = append(out.rs.Tables, &nftjson.Table{Family: t.Family.String(), Name: t.Name, Handle: int64(t.Handle)})
	}
	for _, c := range rs.Chains {
		jc := &nftjson.Chain{Family: c.Family.String(), Table: c.Table, Name: c.Name, Handle: int64(c.Handle)}
		if c.HasHook {
			h, ok := hookName(c.Family, c.Hooknum)
			if !ok {
				h = "hook" + strconv.Itoa(int(c.Hooknum))
			}
			jc.Hook, jc.Type, jc.Prio, jc.Devices = h, c.Type, int(c.Priority), c.Devices
			switch {
			case !c.HasPolicy:
				jc.Policy = "accept"
			case c.Policy == 1:
				jc.Policy = "accept"
			case c.Policy == 0:
				jc.Policy = "drop"
			default:
				jc.Policy = "verdict" + strconv.Itoa(int(c.Policy))
			}
		}
		out.rs.Chains = append(out.rs.Chains, jc)
	}
	sets := newSetIndex(rs, updated)
	for _, s := range rs.Sets {
		if s.Flags&nfnl.SetAnonymous != 0 {
			continue
		}
		// Named sets are inlined where rules look them up (their keys
		// read by the lookup's field); the entry left here tells the nft
		// compiler which are filled from the packet path.
		k := setKey{s.Family, s.Table, s.Name}
		js := &nftjson.Set{Family: s.Family.String(), Table: s.Table, Name: s.Name}
		if s.Flags&(nfnl.SetEval|nfnl.SetTimeout) != 0 || sets.updated[k] {
			js.Flags = []string{"dynamic"}
		}
		if s.Flags&nfnl.SetMap != 0 {
			js.Map = []string{"data"}
		}
		out.rs.Sets = append(out.rs.Sets, js)
		out.jsets[k] = js
	}
	// One machine runs every rule: its register file and the register
	// contents it has named are reused (a large ruleset repeats the same
	// few loads thousands of times).
	out.m = &machine{sets: sets, dec: dec, vals: map[valKey]*regVal{},
		rights: map[*regVal]map[string]nftjson.Expr{}}
	return out
}

// updatedSets lists the sets rs's rules update from the packet path.
func updatedSets(rs *nfnl.Ruleset) map[setKey]bool {
	out := map[setKey]bool{}
	for _, r := range rs.Rules {
		for _, e := range r.Exprs {
			if d, ok := e.(*nfnl.Dynset); ok {
				out[setKey{r.Family, r.Table, d.SetName}] = true
			}
		}
	}
	return out
}

// setTargets lists the ipsets the xt SET targets of r fill: their
// contents depend on traffic already seen.
func setTargets(r *nfnl.Rule, dec *xt.Decoder) []string {
	var out []string
	for _, e := range r.Exprs {
		x, ok := e.(*nfnl.Target)
		if !ok || x.TargetName != "SET" {
			continue
		}
		f, ok := xtFamily(r.Family)
		if !ok {
			continue
		}
		t, err := dec.Target(f, x.TargetName, x.Rev, x.Info)
		if err != nil {
			continue
		}
		for _, o := range t.Options {
			if (o.Name == "--add-set" || o.Name == "--del-set") && len(o.Values) > 0 {
				out = append(out, o.Values[0])
			}
		}
	}
	return out
}

// setKey names a set.
type setKey struct {
	fam         nfnl.Family
	table, name string
}

// setIndex finds sets by name and knows which ones rules update.
type setIndex struct {
	byName  map[setKey]*nfnl.Set
	byID    map[setKey]*nfnl.Set
	updated map[setKey]bool
	// fixed are the named sets a lookup read as fixed contents (not
	// updated by any rule read so far).
	fixed map[setKey]bool
}

func newSetIndex(rs *nfnl.Ruleset, updated map[setKey]bool) *setIndex {
	x := &setIndex{byName: map[setKey]*nfnl.Set{}, byID: map[setKey]*nfnl.Set{}, updated: map[setKey]bool{}, fixed: map[setKey]bool{}}
	for k := range updated {
		x.updated[k] = true
	}
	for _, s := range rs.Sets {
		x.byName[setKey{s.Family, s.Table, s.Name}] = s
		if s.ID != 0 {
			x.byID[setKey{s.Family, s.Table, "#" + strconv.FormatUint(uint64(s.ID), 10)}] = s
		}
	}
	return x
}

func (x *setIndex) find(fam nfnl.Family, table, name string, id uint32) *nfnl.Set {
	if s := x.byName[setKey{fam, table, name}]; s != nil {
		return s
	}
	if id != 0 {
		return x.byID[setKey{fam, table, "#" + strconv.FormatUint(uint64(id), 10)}]
	}
	return nil
}

// xtFamily is the family xt structures are laid out for in a table.
func xtFamily(f nfnl.Family) (xt.Family, bool) {
	switch f {
	case nfnl.FamilyIPv4:
		return xt.IPv4, true
	case nfnl.FamilyIPv6:
		return xt.IPv6, true
	}
	return 0, false
}

// errXtFamily: only ip and ip6 tables lay xt structures out by a family
// this package knows.
var errXtFamily = fmt.Errorf("xt expression outside an ip or ip6 table")
