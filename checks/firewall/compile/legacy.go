package compile

import (
	"fmt"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
)

// legacyHooks gives, per table, the built-in chains, their hooks and the
// priorities x_tables registers them with.
var legacyHooks = map[string]map[string]struct {
	hook eval.Hook
	prio int
}{
	"raw": {"PREROUTING": {eval.Prerouting, -300}, "OUTPUT": {eval.Output, -300}},
	"mangle": {"PREROUTING": {eval.Prerouting, -150}, "INPUT": {eval.Input, -150},
		"FORWARD": {eval.Forward, -150}, "OUTPUT": {eval.Output, -150}, "POSTROUTING": {eval.Postrouting, -150}},
	"nat": {"PREROUTING": {eval.Prerouting, -100}, "INPUT": {eval.Input, 100},
		"OUTPUT": {eval.Output, -100}, "POSTROUTING": {eval.Postrouting, 100}},
	"filter":   {"INPUT": {eval.Input, 0}, "FORWARD": {eval.Forward, 0}, "OUTPUT": {eval.Output, 0}},
	"security": {"INPUT": {eval.Input, 50}, "FORWARD": {eval.Forward, 50}, "OUTPUT": {eval.Output, 50}},
}

// legacy compiles the iptables-legacy tables of one family. The kernel's
// list of tables decides what must be there; a table it lists that we
// could not read makes the family unknown.
func (b *builder) legacy(fam eval.Family, d Dump[iptsave.Dump], names []string, namesErr error) {
	tool := "iptables-legacy-save"
	if fam == eval.IPv6 {
		tool = "ip6tables-legacy-save"
	}
	if namesErr != nil {
		b.opaque(fmt.Sprintf("cannot tell whether iptables-legacy tables exist for %v: %v", fam, namesErr), fam)
		return
	}
	if len(names) == 0 {
		return
	}
	if !d.ok() {
		err := d.Err
		if err == nil {
			err = fmt.Errorf("no dump given")
		}
		b.opaque(fmt.Sprintf("%v has iptables-legacy tables %v but %s could not be read: %v", fam, names, tool, err), fam)
		return
	}
	for _, name := range names {
		t := d.Value.Table(name)
		if t == nil {
			b.opaque(fmt.Sprintf("legacy %v table %s is loaded but missing from %s", fam, name, tool), fam)
			continue
		}
		hooks, ok := legacyHooks[name]
		if !ok {
			b.opaque(fmt.Sprintf("legacy %v table %s is not a known table", fam, name), fam)
			continue
		}
		chains := b.ipt().table(t, fam, d.Name)
		for _, c := range t.Chains {
			h, ok := hooks[c.Name]
			if !ok {
				continue
			}
			b.rs.BaseChains = append(b.rs.BaseChains, &eval.BaseChain{
				Origin:   fmt.Sprintf("%s %s %s (%v)", b.legacyLabel(), name, c.Name, fam),
				Families: []eval.Family{fam},
				Hook:     h.hook,
				Priority: h.prio,
				Policy:   iptPolicy(c.Policy),
				Chain:    chains[c.Name],
				NAT:      name == "nat",
			})
		}
	}
}

func iptPolicy(p string) eval.VerdictKind {
	if p == "ACCEPT" {
		return eval.Accept
	}
	return eval.Drop
}

// compileIptTable compiles every chain of a table and resolves jumps.
func (c *iptCompiler) table(t *iptsave.Table, fam eval.Family, source string) map[string]*eval.Chain {
	chains := make(map[string]*eval.Chain, len(t.Chains))
	user := map[string]bool{}
	count := make(map[string]int, len(t.Chains))
	for _, r := range t.Rules {
		count[r.Chain]++
	}
	for _, ch := range t.Chains {
		chains[ch.Name] = &eval.Chain{Name: ch.Name, Rules: make([]*eval.Rule, 0, count[ch.Name])}
		if ch.Policy == "-" {
			user[ch.Name] = true
		}
	}
	origins := lineOrigins(source, t.Rules)
	// One block holds the table's rules.
	rules := make([]eval.Rule, len(t.Rules))
	for i, r := range t.Rules {
		ir := c.rule(r, fam, user, origins[i])
		ir.fill(&rules[i], origins[i], chains)
		chains[r.Chain].Rules = append(chains[r.Chain].Rules, &rules[i])
	}
	return chains
}

// rule turns a compiled iptables rule into an eval rule, resolving the
// jump target among chains.
func (ir iptRule) rule(origin string, chains map[string]*eval.Chain) *eval.Rule {
	r := &eval.Rule{}
	ir.fill(r, origin, chains)
	return r
}

// fill sets r to the compiled rule.
func (ir iptRule) fill(r *eval.Rule, origin string, chains map[string]*eval.Chain) {
	*r = eval.Rule{Origin: origin, Actions: ir.actions, Verdict: ir.verdict}
	if len(ir.conds) > 0 {
		r.Conds = ir.conds
	}
	if ir.verdict.Kind == eval.Jump || ir.verdict.Kind == eval.Goto {
		r.Verdict.Target = chains[ir.target]
		if r.Verdict.Target == nil {
			r.Verdict = eval.Verdict{Kind: eval.Undecided, Reason: origin + ": jump to missing chain " + ir.target}
		}
	}
}

// legacyLabel names x_tables base chains in messages: the legacy back end
// on a live system, the given file in offline mode.
func (b *builder) legacyLabel() string {
	if b.standalone != "" {
		return b.standalone
	}
	return "iptables-legacy"
}
