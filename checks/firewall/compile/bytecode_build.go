package compile

import (
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/xt"
)

// useBytecode makes the nf_tables bytecode, when it was consulted, the
// nft ruleset the builder compiles: read back into statements, with its
// xt expressions decoded from their kernel structures (so neither
// iptables-nft-save nor nft's listing is needed).
func (b *builder) useBytecode() {
	d := b.src.NFTBytecode
	if d.Value == nil && d.Err == nil {
		return
	}
	b.src.NFT.Name = d.Name
	if !d.ok() {
		b.src.NFT.Value, b.src.NFT.Err = nil, d.Err
		return
	}
	dec := &xt.Decoder{SetName: b.src.SetNames}
	dc := decompile(d.Value, dec)
	for _, name := range setTargets(d.Value, dec) {
		b.sets.dynamic[name] = true
	}
	// From here the kernel's rules are held only until read back.
	b.src.NFTBytecode.Value = nil
	b.src.NFT.Value, b.src.NFT.Err = dc.rs, nil
	b.bytecode = dc
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
