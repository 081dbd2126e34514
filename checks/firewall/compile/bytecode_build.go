package compile

import (
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nfnl"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/xt"
)

// The nf_tables bytecode, when it was consulted, is the nft ruleset the
// builder compiles: read back into statements, with its xt expressions
// decoded from their kernel structures (so neither iptables-nft-save nor
// nft's listing is needed). It is compiled as it is read (Stream) or, a
// whole reading at once, by nftBytecode.

// bytecodeState is a bytecode ruleset being compiled rule by rule.
type bytecodeState struct {
	b   *builder
	dc  *decompiled
	dec *xt.Decoder
	st  *nftState
	// late is set when a rule updates a set (nft or ipset) that a rule
	// read before took as fixed: that rule's reading is wrong, the
	// ruleset must be read again with the set known (seeds).
	late  bool
	seeds seeds
	name  []byte
}

// seeds are the sets known, from a previous reading, to be updated by
// rules: a reading that starts with them reads no lookup of them as
// fixed.
type seeds struct {
	nft   map[setKey]bool
	ipset map[string]bool
}

// bytecodeBegin starts compiling a bytecode reading of tables, chains
// and sets (its rules, if any, are not read: see rule).
func (b *builder) bytecodeBegin(rs *nfnl.Ruleset, names func(uint16) (string, error), sd seeds) *bytecodeState {
	dec := &xt.Decoder{SetName: names}
	bs := &bytecodeState{b: b, dec: dec, seeds: sd}
	for name := range sd.ipset {
		b.sets.dynamic[name] = true
	}
	bs.dc = decompile(rs, dec, sd.nft)
	bs.dc.m.ifNames = ifNames(b.src.Interfaces)
	b.bytecode = bs.dc
	bs.st = b.nftBegin(bs.dc.rs)
	return bs
}

// rule reads one rule back and compiles it, named with its place and
// text (the rule to change); nothing of it is kept but the model.
func (bs *bytecodeState) rule(r *nfnl.Rule) {
	if bs.dc.updates(r) {
		bs.late = true
	}
	for _, name := range setTargets(r, bs.dec) {
		if bs.b.sets.dynamic[name] {
			continue
		}
		bs.b.sets.dynamic[name] = true
		if bs.b.sets.fixed[name] {
			bs.late = true
		}
	}
	jr, bc := bs.dc.read(r)
	bs.b.cur = bc
	bs.name = appendOrigin(bs.name[:0], jr)
	if t := bs.dc.text; len(t) > 0 {
		bs.name = append(append(bs.name, ": "...), t...)
	}
	bs.st.rule(jr, string(bs.name))
	jr.Stmts, bs.b.cur = nil, nil
}

// finish completes the ruleset once every rule is compiled. It reports
// false when a late update makes a second reading necessary; the seeds
// for it are then in bs.seeds.
func (bs *bytecodeState) finish() bool {
	if bs.late {
		sd := seeds{nft: map[setKey]bool{}, ipset: map[string]bool{}}
		for k := range bs.dc.m.sets.updated {
			sd.nft[k] = true
		}
		for name := range bs.b.sets.dynamic {
			sd.ipset[name] = true
		}
		bs.seeds = sd
		return false
	}
	bs.st.finish()
	bs.b.bytecode = nil
	return true
}

// nftBytecode compiles a whole bytecode reading, when one was consulted.
// Every update is known before the first rule is read: one pass.
func (b *builder) nftBytecode() {
	d := b.src.NFTBytecode
	if d.Value == nil && d.Err == nil {
		return
	}
	if !d.ok() {
		b.opaque(fmtUnread(d.Name, d.Err), eval.IPv4, eval.IPv6)
		return
	}
	rs := d.Value
	// The compiler holds the kernel's rules only until read back.
	b.src.NFTBytecode.Value = nil
	dec := &xt.Decoder{SetName: b.src.SetNames}
	sd := seeds{nft: updatedSets(rs), ipset: map[string]bool{}}
	for _, r := range rs.Rules {
		for _, name := range setTargets(r, dec) {
			sd.ipset[name] = true
		}
	}
	bs := b.bytecodeBegin(rs, b.src.SetNames, sd)
	for i, r := range rs.Rules {
		rs.Rules[i] = nil
		bs.rule(r)
	}
	if !bs.finish() {
		// Cannot happen with every update seeded; if it did, no verdict
		// of this reading could be trusted.
		b.opaque("nf_tables ruleset: a set update was found after a lookup of the set had been compiled", eval.IPv4, eval.IPv6)
	}
}

// applyXt compiles the decoded xt matches and target of a rule read from
// bytecode, through the iptables-save compiler.
func (t *nftTable) applyXt(cur *eval.Rule, bc *bcRule, xtTarget string, origin string) {
	for i, m := range bc.matches {
		err := bc.matchErrs[i]
		if m == nil {
			cur.Conds = append(cur.Conds, unknown("%s: %v", origin, err))
			continue
		}
		if err != nil && len(m.Options) == 1 && m.Options[0].Guessed {
			// Modules judged by their kind alone still are; any other
			// reading gives up with this reason.
			m = &iptsave.Match{Module: m.Module, Options: []iptsave.Option{{Name: "(" + err.Error() + ")", Guessed: true}}}
		}
		cur.Conds = append(cur.Conds, t.b.ipt().moduleConds(nil, m, t.tableFam, bc.proto, origin)...)
	}
	if xtTarget == "" {
		return
	}
	if bc.target == nil {
		cur.Verdict = eval.Verdict{Kind: eval.Undecided, Reason: origin + ": " + bc.targetErr.Error()}
		return
	}
	if bc.targetErr != nil {
		cur.Verdict = eval.Verdict{Kind: eval.Undecided, Reason: origin + ": " + bc.targetErr.Error()}
		return
	}
	var ir iptRule
	targetOf(&iptsave.Rule{Target: bc.target.Name, TargetOptions: bc.target.Options}, t.tableFam, nil, origin, &ir)
	cur.Actions = append(cur.Actions, ir.actions...)
	cur.Verdict = ir.rule(origin, t.chains).Verdict
}
