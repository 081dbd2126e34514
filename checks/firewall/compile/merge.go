package compile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
)

// xtAliases maps an iptables module to the xt name nft shows for it
// ("-m state" is implemented by the conntrack match).
var xtAliases = map[string]string{"state": "conntrack"}

// nonTerminalXt are targets whose effect is known without parameters.
var nonTerminalXt = map[string]bool{"LOG": true, "NFLOG": true, "ULOG": true, "TRACE": true,
	"AUDIT": true, "TCPMSS": true, "TOS": true, "DSCP": true, "TTL": true, "HL": true,
	"CLASSIFY": true, "CHECKSUM": true, "SECMARK": true, "CONNSECMARK": true, "IDLETIMER": true,
	"LED": true, "TEE": true, "SET": true}

// mergeXt completes an nft rule that contains xtables-compat expressions
// with the parameters iptables-nft-save prints for the rule at the same
// table, chain and position, after checking that the two describe the
// same rule.
func (t *nftTable) mergeXt(cur *eval.Rule, r *nftjson.Rule, pos int, xtMatches []string, xtTarget, origin string) {
	fail := func(why string) {
		for _, m := range xtMatches {
			cur.Conds = append(cur.Conds, unknown("%s: xt match %s: %s", origin, m, why))
		}
		switch {
		case xtTarget == "":
		case nonTerminalXt[xtTarget]:
		case xtTarget == "MARK" || xtTarget == "CONNMARK":
			cur.Actions = append(cur.Actions, eval.OpaqueMark{Conn: xtTarget == "CONNMARK"})
		default:
			cur.Verdict = eval.Verdict{Kind: eval.Undecided, Reason: fmt.Sprintf("%s: xt target %s: %s", origin, xtTarget, why)}
		}
	}
	if t.tableFam == 0 {
		fail("parameters cannot be recovered for a " + t.family + " table")
		return
	}
	if t.saveErr != nil {
		fail(fmt.Sprintf("parameters are only in iptables-nft-save, which could not be read: %v", t.saveErr))
		return
	}
	if t.save == nil {
		fail("table " + t.name + " is missing from iptables-nft-save")
		return
	}
	t.indexSave()
	saved := t.saved[r.Chain]
	if n := t.counts[r.Chain]; len(saved) != n {
		fail(fmt.Sprintf("iptables-nft-save lists %d rules in chain %s, nft %d: cannot align", len(saved), r.Chain, n))
		return
	}
	sr := saved[pos]
	sorigin := fmt.Sprintf("%s line %d", t.saveSrc, sr.Line)
	ir := t.b.ipt().rule(sr, t.tableFam, t.saveUser, sorigin)
	if why := crossCheck(cur, sr, ir, xtMatches, xtTarget); why != "" {
		fail(fmt.Sprintf("%s and %s disagree (%s)", origin, sorigin, why))
		return
	}
	cur.Conds = append(cur.Conds, ir.conds...)
	if xtTarget != "" {
		cur.Actions = append(cur.Actions, ir.actions...)
		cur.Verdict = ir.rule(sorigin, t.chains).Verdict
	}
}

// indexSave groups the saved rules by chain and lists the saved user
// chains, once per table: a ruleset full of xt expressions would
// otherwise scan the whole table for every one of them.
func (t *nftTable) indexSave() {
	if t.saved != nil {
		return
	}
	t.saved = map[string][]*iptsave.Rule{}
	for _, r := range t.save.Rules {
		t.saved[r.Chain] = append(t.saved[r.Chain], r)
	}
	t.saveUser = map[string]bool{}
	for _, c := range t.save.Chains {
		if c.Policy == "-" {
			t.saveUser[c.Name] = true
		}
	}
}

// crossCheck returns why the nft rule and the saved rule are not the same
// rule, or "".
func crossCheck(cur *eval.Rule, sr *iptsave.Rule, ir iptRule, xtMatches []string, xtTarget string) string {
	var mods []string
	for _, m := range sr.Matches {
		if m.Module == "" {
			continue
		}
		name := m.Module
		if a, ok := xtAliases[name]; ok {
			name = a
		}
		mods = append(mods, name)
	}
	for _, x := range xtMatches {
		i := slices.Index(mods, x)
		if i < 0 {
			return "xt match " + x + " has no -m " + x
		}
		mods = slices.Delete(mods, i, i+1)
	}
	if xtTarget != "" {
		if sr.Target != xtTarget {
			return fmt.Sprintf("xt target %s, saved target %q", xtTarget, sr.Target)
		}
	} else if nc := nftClass(cur); nc != ir.class {
		return fmt.Sprintf("verdict %s, saved %s", nc, ir.class)
	}
	// Every native match nft shows must agree with the saved rule where
	// the saved rule constrains the same field.
	saved := map[string][]string{}
	for _, c := range ir.conds {
		if sig, key, ok := condKey(c); ok {
			saved[sig] = append(saved[sig], key)
		}
	}
	for _, c := range cur.Conds {
		sig, key, ok := condKey(c)
		if !ok || len(saved[sig]) == 0 {
			continue
		}
		if !slices.Contains(saved[sig], key) {
			return "they match " + sig + " differently"
		}
	}
	return ""
}

// nftClass is the verdict class of a compiled nft rule, in the terms of
// iptRule.class.
func nftClass(r *eval.Rule) string {
	if r.Map != nil {
		return "verdict map"
	}
	switch r.Verdict.Kind {
	case eval.Continue:
		return "none"
	case eval.Accept, eval.Drop, eval.Reject, eval.Return:
		return r.Verdict.Kind.String()
	case eval.Jump, eval.Goto:
		return r.Verdict.Kind.String() + " " + r.Verdict.Target.Name
	}
	return "undecided"
}

// condKey gives a comparable form of the conditions both views express:
// sig names the field, key the whole condition.
func condKey(c eval.Cond) (sig, key string, ok bool) {
	switch x := c.(type) {
	case eval.Addr:
		sig = fmt.Sprintf("addr %d %v", x.Field, x.Family)
		var parts []string
		for _, r := range x.Set.Ranges() {
			parts = append(parts, r.String())
		}
		return sig, fmt.Sprintf("%s %v %s", sig, x.Neg, strings.Join(parts, ",")), true
	case eval.Port:
		sig = fmt.Sprintf("port %d", x.Field)
		rs := slices.Clone(x.Ranges)
		slices.SortFunc(rs, func(a, b eval.PortRange) int { return int(a.Lo) - int(b.Lo) })
		return sig, fmt.Sprintf("%s %v %v", sig, x.Neg, rs), true
	case eval.Iface:
		sig = fmt.Sprintf("iface %v", x.Out)
		return sig, fmt.Sprintf("%s %v %v", sig, x.Neg, x.Names), true
	}
	return "", "", false
}
