package firewalld

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/cidr"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/describe"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
)

// maxTrustedRules caps the rich rules one finding adds for trusted
// networks a removal would otherwise lock out.
const maxTrustedRules = 4

// removal is one element to take out of a zone, and why it is named.
type removal struct {
	zone, binding string
	elem          element
	why           string
	// set is what the element let in, before any change.
	set *netipx.IPSet
}

// option is the firewall-cmd option that removes the element.
func (r removal) option() string {
	switch r.elem.kind {
	case "rich-rule":
		return "--remove-rich-rule='" + r.elem.value + "'"
	case "target":
		return "--set-target=default"
	}
	return "--remove-" + r.elem.kind + "=" + r.elem.value
}

// closes names what in firewalld lets bad in to q's port and the
// firewall-cmd commands that shut it out while keep, the trusted sources
// firewalld admits today, stay admitted. Runtime-only elements are
// removed at runtime alone; the rest in the permanent configuration, then
// reloaded. Each plan is checked on a copy of the zones changed as the
// commands would change them (after the reload: the permanent ones).
func (fw *Config) closes(q eval.Query, bad, keep, trust *netipx.IPSet) string {
	base, permanent := fw, true
	rems := removals(fw, q, bad)
	if fw.Runtime && fw.Permanent != nil {
		permanent = false
		for _, r := range rems {
			if r.elem.kind == "target" || fw.Permanent.has(r.zone, r.elem) {
				permanent = true
			}
		}
		if permanent {
			// After the reload the permanent zones run: plan on them.
			base = fw.Permanent
			rems = removals(base, q, bad)
		}
	}
	var named []string
	for _, r := range rems {
		named = append(named, fmt.Sprintf("zone %s (%s) by %s", r.zone, r.binding, r.why))
	}
	final := base.clone()
	for _, r := range rems {
		final.remove(r.zone, r.elem)
	}
	// A trusted network an element let in gets a rich rule of its own in
	// the zone the element leaves.
	lost := describe.Minus(keep, final.Allowed(q))
	var adds []string
	for _, p := range lost.Prefixes() {
		if len(adds) == maxTrustedRules {
			break
		}
		for _, r := range rems {
			if !r.set.Contains(p.Addr()) {
				continue
			}
			rule := trustedRule(q, p)
			final.Zones[r.zone].Rules = append(final.Zones[r.zone].Rules, rule)
			adds = append(adds, "--zone="+r.zone+" --add-rich-rule='"+rule.String()+"'")
			break
		}
	}
	who := "firewalld lets in " + describe.Untrusted(bad, q.Family, trust)
	if len(named) > 0 {
		who += " through " + strings.Join(describe.FirstN(named, describe.MaxListed), ", ")
	}
	after := final.Allowed(q)
	if !describe.Empty(describe.Intersect(after, bad)) || !describe.Empty(describe.Minus(lost, after)) {
		return who + ": no sequence of firewall-cmd commands found that closes it"
	}
	prefix := "firewall-cmd "
	if permanent {
		prefix += "--permanent "
	}
	var cmds []string
	for _, a := range adds {
		cmds = append(cmds, prefix+a)
	}
	for _, r := range rems {
		cmds = append(cmds, prefix+"--zone="+r.zone+" "+r.option())
	}
	if permanent {
		cmds = append(cmds, "firewall-cmd --reload")
	}
	s := who + ": run `" + strings.Join(cmds, "`; then `") + "`"
	switch {
	case !permanent:
		s += " (runtime only: the permanent configuration does not have it)"
	case fw.Runtime && len(fw.Drift) > 0:
		s += " (the reload also undoes the runtime-only changes of the drift note)"
	}
	if n := len(lost.Prefixes()) - len(adds); n > 0 {
		s += fmt.Sprintf(" (and the same rich rule for %d more trusted ranges first)", n)
	}
	return s
}

// removals are the elements that let bad in, found on a copy of the
// zones: taking one out may hand its sources to another element that
// lets them in too, which is named as well.
func removals(fw *Config, q eval.Query, bad *netipx.IPSet) []removal {
	var out []removal
	seen := map[string]bool{}
	c := fw.clone()
	for range 8 {
		paths, _ := c.paths(q)
		more := false
		for _, p := range paths {
			for _, h := range p.hits {
				if describe.Empty(describe.Intersect(h.set, bad)) {
					continue
				}
				for _, r := range zoneRemovals(p, h, q, bad) {
					k := r.zone + "\x00" + r.elem.kind + "\x00" + r.elem.value
					if seen[k] {
						continue
					}
					seen[k] = true
					out = append(out, r)
					c.remove(r.zone, r.elem)
					more = true
				}
			}
		}
		if !more {
			break
		}
	}
	return out
}

// zoneRemovals is what to take out for one accepting element: the
// element, or for a zone of target ACCEPT bound to sources, the bindings
// of the untrusted sources (the zone's target is left to the zones meant
// to accept everything).
func zoneRemovals(p fwPath, h elemHit, q eval.Query, bad *netipx.IPSet) []removal {
	z := p.zone
	binding := bindingOf(p, q)
	if h.elem.kind != "target" || p.kind != "sources" {
		return []removal{{zone: z.Name, binding: binding, elem: h.elem, why: h.why, set: h.set}}
	}
	var out []removal
	for _, s := range z.Sources {
		pr, err := cidr.Parse(s)
		if err != nil || eval.FamilyOf(pr.Addr()) != q.Family {
			continue
		}
		if bad.OverlapsPrefix(pr) {
			var b netipx.IPSetBuilder
			b.AddPrefix(pr)
			set, _ := b.IPSet()
			out = append(out, removal{zone: z.Name, binding: "source " + s, elem: element{"source", s}, why: "target ACCEPT", set: set})
		}
	}
	return out
}

// bindingOf says how sources reach a path's zone.
func bindingOf(p fwPath, q eval.Query) string {
	switch p.kind {
	case "sources":
		return "sources " + describe.Ranges(p.pop, q.Family)
	case "interfaces":
		return "interfaces " + strings.Join(p.zone.Interfaces, ", ")
	}
	return "default zone"
}

// refuseVerb is "refuses" for one zone named, "refuse" for more.
func refuseVerb(named []string) string {
	if len(named) == 1 {
		return "refuses"
	}
	return "refuse"
}

// itOr names part of a set, or the whole as "it".
func itOr(part, whole *netipx.IPSet, fam eval.Family) string {
	if part.Equal(whole) {
		return "it"
	}
	return describe.Ranges(part, fam)
}

// trustedRule accepts a trusted network to the port.
func trustedRule(q eval.Query, p netip.Prefix) RichRule {
	addr := p.String()
	if p.IsSingleIP() {
		addr = p.Addr().String()
	}
	return RichRule{Family: famKey(q.Family), Source: RichAddr{Kind: "address", Value: addr},
		Element: "port", Port: strconv.Itoa(int(q.Port)), Proto: "tcp", Action: "accept"}
}

// clone copies the zones deeply enough to change them.
func (fw *Config) clone() *Config {
	c := *fw
	c.Zones = make(map[string]*Zone, len(fw.Zones))
	for n, z := range fw.Zones {
		zc := *z
		zc.Sources = append([]string(nil), z.Sources...)
		zc.Services = append([]string(nil), z.Services...)
		zc.Ports = append([]Port(nil), z.Ports...)
		zc.Protocols = append([]string(nil), z.Protocols...)
		zc.SourcePorts = append([]Port(nil), z.SourcePorts...)
		zc.ForwardPorts = append([]Forward(nil), z.ForwardPorts...)
		zc.Rules = append([]RichRule(nil), z.Rules...)
		c.Zones[n] = &zc
	}
	return &c
}

// values lists a zone's elements of a kind as firewall-cmd names them.
func (z *Zone) values(kind string) []string {
	switch kind {
	case "service":
		return z.Services
	case "port":
		return strs(z.Ports)
	case "protocol":
		return z.Protocols
	case "source-port":
		return strs(z.SourcePorts)
	case "source":
		return z.Sources
	case "forward-port":
		return strs(z.ForwardPorts)
	case "rich-rule":
		out := make([]string, len(z.Rules))
		for i, r := range z.Rules {
			out[i] = r.String()
		}
		return out
	case "target":
		return []string{z.Target}
	}
	return nil
}

// has reports whether zone holds the element.
func (fw *Config) has(zone string, e element) bool {
	z, ok := fw.Zones[zone]
	return ok && contains(z.values(e.kind), e.value)
}

// remove takes the element out of the zone, as firewall-cmd would.
func (fw *Config) remove(zone string, e element) {
	z, ok := fw.Zones[zone]
	if !ok {
		return
	}
	drop := func(n int, keep func(int) bool) []int {
		var idx []int
		for i := 0; i < n; i++ {
			if keep(i) {
				idx = append(idx, i)
			}
		}
		return idx
	}
	switch e.kind {
	case "target":
		z.Target = "default"
	case "service":
		z.Services = without(z.Services, e.value)
	case "protocol":
		z.Protocols = without(z.Protocols, e.value)
	case "source":
		z.Sources = without(z.Sources, e.value)
	case "port":
		z.Ports = pick(z.Ports, drop(len(z.Ports), func(i int) bool { return z.Ports[i].String() != e.value }))
	case "source-port":
		z.SourcePorts = pick(z.SourcePorts, drop(len(z.SourcePorts), func(i int) bool { return z.SourcePorts[i].String() != e.value }))
	case "forward-port":
		z.ForwardPorts = pick(z.ForwardPorts, drop(len(z.ForwardPorts), func(i int) bool { return z.ForwardPorts[i].String() != e.value }))
	case "rich-rule":
		z.Rules = pick(z.Rules, drop(len(z.Rules), func(i int) bool { return z.Rules[i].String() != e.value }))
	}
}

func without(list []string, s string) []string {
	var out []string
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

func pick[T any](xs []T, idx []int) []T {
	out := make([]T, 0, len(idx))
	for _, i := range idx {
		out = append(out, xs[i])
	}
	return out
}

// forwarded names a zone's forward-port that publishes q's port when the
// kernel delivered through a DNAT, with the command that removes it.
func (fw *Config) forwarded(q eval.Query, res *eval.Result) string {
	nat := false
	for _, d := range res.Via {
		nat = nat || d.Nat != nil
	}
	if !nat {
		return ""
	}
	var named, cmds []string
	permanent := !fw.Runtime || fw.Permanent == nil
	for _, n := range sortedZones(fw) {
		z := fw.Zones[n]
		for _, f := range z.ForwardPorts {
			if !(Port{f.Port, f.Proto}).covers(q.Port) {
				continue
			}
			named = append(named, fmt.Sprintf("zone %s forward-port %s", n, f))
			opt := "--zone=" + n + " --remove-forward-port=" + f.String()
			if fw.Permanent != nil && fw.Permanent.has(n, element{"forward-port", f.String()}) {
				permanent = true
			}
			cmds = append(cmds, opt)
		}
	}
	if len(named) == 0 {
		return ""
	}
	prefix := "firewall-cmd "
	if permanent {
		prefix += "--permanent "
	}
	for i := range cmds {
		cmds[i] = prefix + cmds[i]
	}
	if permanent {
		cmds = append(cmds, "firewall-cmd --reload")
	}
	return fmt.Sprintf("firewalld publishes port %d through %s: run `%s`", q.Port, strings.Join(named, ", "), strings.Join(cmds, "`; then `"))
}

func sortedZones(fw *Config) []string {
	names := make([]string, 0, len(fw.Zones))
	for n := range fw.Zones {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Admit completes a WARNING finding that trusted sources are not
// accepted: the zone they fall into refuses the port, and a rich rule
// there lets them in (in the zone bound to their source, else in the
// default zone and every zone bound to an interface, as they may come in
// on any). The rules go into the permanent zones and are reloaded; the
// plan is checked on the permanent zones with the rules added.
func (fw *Config) Admit(q eval.Query, missing *netipx.IPSet) string {
	if fw == nil || q.To != 0 {
		return ""
	}
	refused := describe.Minus(missing, fw.Allowed(q))
	if describe.Empty(refused) {
		return fmt.Sprintf("; firewalld's zones allow %s: the kernel refuses it outside them", describe.Ranges(missing, q.Family))
	}
	base := fw
	if fw.Runtime && fw.Permanent != nil {
		base = fw.Permanent
	}
	paths, _ := base.paths(q)
	final := base.clone()
	var named, cmds []string
	seen := map[string]bool{}
	n := 0
	for _, p := range refused.Prefixes() {
		if n == maxTrustedRules {
			break
		}
		n++
		rule := trustedRule(q, p)
		for _, path := range paths {
			if path.kind == "sources" && !path.pop.Contains(p.Addr()) {
				continue
			}
			z := path.zone.Name
			if !seen[z] {
				seen[z] = true
				named = append(named, fmt.Sprintf("zone %s (%s)", z, bindingOf(path, q)))
			}
			final.Zones[z].Rules = append(final.Zones[z].Rules, rule)
			cmds = append(cmds, "firewall-cmd --permanent --zone="+z+" --add-rich-rule='"+rule.String()+"'")
			if path.kind == "sources" {
				break
			}
		}
	}
	who := "firewalld's " + strings.Join(named, ", ") + " " + refuseVerb(named) + " " + itOr(refused, missing, q.Family)
	if len(cmds) == 0 || !describe.Empty(describe.Minus(refused, final.Allowed(q))) {
		return "; " + who + ": no firewall-cmd rich rule found that admits it"
	}
	cmds = append(cmds, "firewall-cmd --reload")
	s := "; " + who + ": run `" + strings.Join(cmds, "`; then `") + "`"
	if fw.Runtime && len(fw.Drift) > 0 {
		s += " (the reload also undoes the runtime-only changes of the drift note)"
	}
	if k := len(refused.Prefixes()) - n; k > 0 {
		s += fmt.Sprintf(" (and the same for %d more ranges)", k)
	}
	return s
}
