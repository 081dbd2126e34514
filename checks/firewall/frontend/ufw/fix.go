package ufw

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/describe"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
)

// maxTrustedCommands caps the allow commands one finding gives for the
// trusted networks a change would otherwise lock out.
const maxTrustedCommands = 4

// Fix completes a CRITICAL finding with what ufw says of the untrusted
// sources the kernel accepts: the ufw rule (as `ufw status numbered`
// numbers and prints it) or the default policy that lets them in, with the
// ufw commands that close the port to them and keep it open to the
// trusted networks ufw admits today; or that the kernel accepts them
// outside ufw's rules, where no ufw command helps.
func (u *Config) Fix(q eval.Query, res *eval.Result, trust *netipx.IPSet) string {
	if u == nil || !u.Enabled {
		return ""
	}
	bad := describe.Minus(res.Accepted, trust)
	if describe.Empty(bad) {
		return ""
	}
	if q.To != 0 {
		return fmt.Sprintf("; the kernel accepts %s to published port %d outside ufw (its input rules do not see forwarded connections): no ufw command closes it, the rule that accepts it does",
			describe.Untrusted(bad, q.Family, trust), q.Port)
	}
	allowed := admits(u.Rules, u.InputPolicy, q)
	var parts []string
	if in := describe.Intersect(bad, allowed); !describe.Empty(in) {
		keep := describe.Intersect(describe.Intersect(res.Accepted, trust), allowed)
		parts = append(parts, u.plan(q, in, keep, trust))
	}
	if out := describe.Minus(bad, allowed); !describe.Empty(out) {
		who := "nowhere"
		if !describe.Empty(allowed) {
			who = describe.Ranges(allowed, q.Family)
		}
		parts = append(parts, fmt.Sprintf("the kernel accepts %s outside ufw (ufw allows %d only from %s): no ufw command closes it, the rule that accepts it does",
			describe.Untrusted(out, q.Family, trust), q.Port, who))
	}
	return "; " + strings.Join(parts, "; ")
}

// plan names what in ufw lets bad in and the commands that shut it out
// while keep, the trusted sources ufw admits today, stay admitted. Each
// step is checked on a copy of the rules changed as the commands would
// change them.
func (u *Config) plan(q eval.Query, bad, keep, trust *netipx.IPSet) string {
	var named []string
	var deletes []string
	deleted := map[string]bool{}
	policy := false
	rules := u.Rules
	// Deleting a rule hands its sources to the next rule that matches
	// them, which may let them in too: repeat until none does.
	for range 8 {
		hits, rest := decide(rules, q)
		more := false
		for _, h := range hits {
			r := rules[h.rule]
			if (r.Action != "allow" && r.Action != "limit") || describe.Empty(describe.Intersect(h.set, bad)) {
				continue
			}
			named = append(named, fmt.Sprintf("[%d] `%s`", r.Number, r.Tuple.Status()))
			c := r.Tuple.Command()
			if !deleted[c] {
				deleted[c] = true
				deletes = append(deletes, "ufw delete "+c)
			}
			more = true
		}
		if u.InputPolicy == "ACCEPT" && !describe.Empty(describe.Intersect(rest, bad)) {
			policy = true
		}
		if !more {
			break
		}
		rules = without(rules, deleted)
	}
	var subjects []string
	switch {
	case len(named) == 1:
		subjects = append(subjects, "ufw rule "+named[0])
	case len(named) > 1:
		subjects = append(subjects, "ufw rules "+strings.Join(named, ", "))
	}
	if policy {
		subjects = append(subjects, "ufw's default incoming policy (allow)")
	}
	verb := " let in "
	if len(subjects) == 1 && len(named) < 2 {
		verb = " lets in "
	}
	who := strings.Join(subjects, " and ") + verb
	who += describe.Untrusted(bad, q.Family, trust)

	port := strconv.Itoa(int(q.Port))
	var deny []Rule
	var denyCmd []string
	if policy {
		deny = []Rule{inputRule("deny", q.Family, q.Family.All(), q.Port)}
		denyCmd = []string{"ufw deny " + port + "/tcp"}
	}
	// The trusted sources the change would lock out get a rule of their
	// own: appended, or ahead of every rule when one before it would still
	// refuse them.
	after := append(append([]Rule(nil), rules...), deny...)
	lost := describe.Minus(keep, admits(after, u.InputPolicy, q))
	var allows []Rule
	var allowCmd []string
	add := "allow"
	for _, p := range lost.Prefixes() {
		if len(allows) == maxTrustedCommands {
			break
		}
		allows = append(allows, inputRule("allow", q.Family, p, q.Port))
	}
	if len(allows) > 0 {
		after = append(append(append([]Rule(nil), rules...), allows...), deny...)
		if !describe.Empty(describe.Minus(lost, admits(after, u.InputPolicy, q))) {
			add = "prepend allow"
			after = append(append(append([]Rule(nil), allows...), rules...), deny...)
		}
		for _, r := range allows {
			allowCmd = append(allowCmd, "ufw "+add+" from "+hostOrPrefix(r.Src)+" to any port "+port+" proto tcp")
		}
	}
	left := describe.Intersect(admits(after, u.InputPolicy, q), bad)
	if !describe.Empty(left) || !describe.Empty(describe.Minus(lost, admits(after, u.InputPolicy, q))) {
		return who + ": no sequence of ufw commands found that closes it"
	}
	cmds := append(append(allowCmd, deletes...), denyCmd...)
	s := who + ": run `" + strings.Join(cmds, "`; then `") + "`"
	// A delete removes the other family's tuple of the same rule too:
	// say so, as that family's trusted networks are its own finding's.
	var also []string
	for _, r := range u.Rules {
		if r.Family != q.Family && deleted[r.Tuple.Command()] {
			also = append(also, fmt.Sprintf("[%d] `%s`", r.Number, r.Tuple.Status()))
		}
	}
	if len(also) > 0 {
		s += " (this also deletes " + strings.Join(describe.FirstN(also, describe.MaxListed), ", ") + ")"
	}
	if n := len(lost.Prefixes()) - len(allows); n > 0 {
		s += fmt.Sprintf(" (and the same allow for %d more trusted ranges first)", n)
	}
	return s
}

// without is rules less those the delete commands remove: ufw deletes
// every tuple the command's text names (both families of an "Anywhere"
// rule, all the tuples of an application rule).
func without(rules []Rule, deleted map[string]bool) []Rule {
	var out []Rule
	for _, r := range rules {
		if !deleted[r.Tuple.Command()] {
			out = append(out, r)
		}
	}
	return out
}

// inputRule is the rule a command adds: ACTION tcp to any port PORT from src.
func inputRule(action string, fam eval.Family, src netip.Prefix, port uint16) Rule {
	p := strconv.Itoa(int(port))
	return Rule{Action: action, Proto: "tcp", Ports: []eval.PortRange{{Lo: port, Hi: port}}, Family: fam, Src: src,
		Tuple: Tuple{Action: action, Proto: "tcp", DPort: p, Dst: fam.All().String(), SPort: "any", Src: src.String(), Direction: "in", V6: fam == eval.IPv6}}
}

// hostOrPrefix writes a single address as ufw stores it, without /32.
func hostOrPrefix(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// Admit completes a WARNING finding that trusted sources are not
// accepted: the ufw rule or default policy that refuses them and the
// allow that lets them in, put ahead of every rule when one before it
// would still refuse them; or that ufw allows them and the kernel refuses
// them outside ufw.
func (u *Config) Admit(q eval.Query, missing *netipx.IPSet) string {
	if u == nil || !u.Enabled || q.To != 0 {
		return ""
	}
	allowed := admits(u.Rules, u.InputPolicy, q)
	refused := describe.Minus(missing, allowed)
	if describe.Empty(refused) {
		return fmt.Sprintf("; ufw allows %s: the kernel refuses it outside ufw", describe.Ranges(missing, q.Family))
	}
	hits, rest := decide(u.Rules, q)
	var named []string
	for _, h := range hits {
		r := u.Rules[h.rule]
		if r.Action != "allow" && r.Action != "limit" && !describe.Empty(describe.Intersect(h.set, refused)) {
			named = append(named, fmt.Sprintf("[%d] `%s`", r.Number, r.Tuple.Status()))
		}
	}
	var subjects []string
	switch {
	case len(named) == 1:
		subjects = append(subjects, "ufw rule "+named[0])
	case len(named) > 1:
		subjects = append(subjects, "ufw rules "+strings.Join(named, ", "))
	}
	if !describe.Empty(describe.Intersect(rest, refused)) {
		subjects = append(subjects, fmt.Sprintf("ufw's default incoming policy (%s)", strings.ToLower(u.InputPolicy)))
	}
	verb := " refuse "
	if len(subjects) == 1 && len(named) < 2 {
		verb = " refuses "
	}
	who := strings.Join(subjects, " and ") + verb + "it"
	if !refused.Equal(missing) {
		who = strings.Join(subjects, " and ") + verb + describe.Ranges(refused, q.Family)
	}
	var allows []Rule
	for _, p := range refused.Prefixes() {
		if len(allows) == maxTrustedCommands {
			break
		}
		allows = append(allows, inputRule("allow", q.Family, p, q.Port))
	}
	add := "allow"
	after := append(append([]Rule(nil), u.Rules...), allows...)
	if !describe.Empty(describe.Intersect(describe.Minus(refused, admits(after, u.InputPolicy, q)), covered(allows))) {
		add = "prepend allow" // first match: nothing refuses them first
	}
	var cmds []string
	for _, r := range allows {
		cmds = append(cmds, "ufw "+add+" from "+hostOrPrefix(r.Src)+" to any port "+strconv.Itoa(int(q.Port))+" proto tcp")
	}
	s := who + ": run `" + strings.Join(cmds, "`; then `") + "`"
	if n := len(refused.Prefixes()) - len(allows); n > 0 {
		s += fmt.Sprintf(" (and the same for %d more ranges)", n)
	}
	return "; " + s
}

// covered is the sources of rules.
func covered(rules []Rule) *netipx.IPSet {
	var b netipx.IPSetBuilder
	for _, r := range rules {
		b.AddPrefix(r.Src)
	}
	s, _ := b.IPSet()
	return s
}
