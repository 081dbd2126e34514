package firewalld

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/cidr"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/describe"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
)

// Config is firewalld's configuration: the running daemon's state when
// it answers on D-Bus, its zone XML otherwise. The kernel's ruleset stays
// the truth; this only explains it in firewalld's terms.
type Config struct {
	// Runtime is set when the zones come from the running daemon.
	Runtime bool
	// RuntimeErr says why the runtime state is not available.
	RuntimeErr error
	// Version is the daemon's version ("" when not known).
	Version     string
	DefaultZone string
	Zones       map[string]*Zone
	// Services are the definitions the zones refer to.
	Services map[string]*Service
	// StrictForwardPorts is the firewalld.conf value ("" when absent).
	StrictForwardPorts string
	// Permanent is the XML configuration when Runtime is set, for drift;
	// nil when it could not be read (PermanentErr).
	Permanent    *Config
	PermanentErr error
	// Drift lists the differences between runtime and permanent zones.
	Drift []string
	// Remarks say what could not be read or resolved.
	Remarks []string
}

// Zone is one zone, in the terms of zone XML and getZoneSettings2.
type Zone struct {
	Name string
	// Target is "default", "ACCEPT", "DROP" or "%%REJECT%%".
	Target       string
	Sources      []string // addresses, prefixes, "ipset:NAME" or MAC addresses
	Interfaces   []string
	Services     []string
	Ports        []Port
	Protocols    []string
	SourcePorts  []Port
	ForwardPorts []Forward
	Rules        []RichRule
}

// Port is a port or range ("6379", "6000-6010") and protocol.
type Port struct{ Port, Proto string }

func (p Port) String() string { return p.Port + "/" + p.Proto }

// Forward is a zone's forward-port (a DNAT in nat PREROUTING).
type Forward struct{ Port, Proto, ToPort, ToAddr string }

func (f Forward) String() string {
	s := "port=" + f.Port + ":proto=" + f.Proto
	if f.ToPort != "" {
		s += ":toport=" + f.ToPort
	}
	if f.ToAddr != "" {
		s += ":toaddr=" + f.ToAddr
	}
	return s
}

// Service is a service definition (redis, redis-sentinel, …).
type Service struct {
	Name      string
	Ports     []Port
	Protocols []string
	// Destination restricts the service to an address per family
	// ("ipv4", "ipv6"); a service with only one family's destination
	// applies to that family alone.
	Destination map[string]string
	Includes    []string
}

// portRange parses "6379" or "6000-6010".
func portRange(s string) (lo, hi uint16, err error) {
	a, b, isRange := strings.Cut(strings.TrimSpace(s), "-")
	x, err1 := strconv.ParseUint(a, 10, 16)
	y := x
	var err2 error
	if isRange {
		y, err2 = strconv.ParseUint(b, 10, 16)
	}
	if err1 != nil || err2 != nil || y < x {
		return 0, 0, fmt.Errorf("port %q", s)
	}
	return uint16(x), uint16(y), nil
}

func (p Port) covers(port uint16) bool {
	if p.Proto != "tcp" {
		return false
	}
	lo, hi, err := portRange(p.Port)
	return err == nil && port >= lo && port <= hi
}

// serviceCovers reports whether a service (with its includes) opens the
// TCP port to the family, and whether only for some destination.
func (fw *Config) serviceCovers(name string, fam eval.Family, port uint16, depth int) (covers, specific bool, err error) {
	s, ok := fw.Services[name]
	if !ok {
		return false, false, fmt.Errorf("service %s: no definition found", name)
	}
	if depth > 8 {
		return false, false, fmt.Errorf("service %s: includes nested too deeply", name)
	}
	if len(s.Destination) > 0 {
		if _, ok := s.Destination[famKey(fam)]; !ok {
			return false, false, nil // restricted to the other family
		}
		specific = true
	}
	for _, p := range s.Ports {
		if p.covers(port) {
			return true, specific, nil
		}
	}
	for _, pr := range s.Protocols {
		if pr == "tcp" {
			return true, specific, nil
		}
	}
	for _, inc := range s.Includes {
		c, sp, err := fw.serviceCovers(inc, fam, port, depth+1)
		if err != nil || c {
			return c, specific || sp, err
		}
	}
	return false, false, nil
}

func famKey(f eval.Family) string {
	if f == eval.IPv6 {
		return "ipv6"
	}
	return "ipv4"
}

// fwStep is one decision inside a zone, in the order firewalld's chains
// apply them: first match wins.
type fwStep struct {
	src    *netipx.IPSet // nil: every source
	action string        // accept, reject, drop
	why    string
	// elem is the zone's element that makes the decision.
	elem element
}

// element is what a zone holds that decides a port, as firewall-cmd
// names it: "service" redis, "port" 6379/tcp, "protocol" tcp,
// "source-port" 6379/tcp, "rich-rule" its text, "target" ACCEPT.
type element struct{ kind, value string }

// zoneSteps lists the zone's decisions about a TCP port of a family, in
// the order of the zone's nftables chains (firewalld 1.x): rich rules
// with a negative priority, then deny rich rules, then what the zone
// allows (rich accepts, services, ports, protocols, source ports), then
// rich rules with a positive priority; the target decides the rest.
// specific reports a decision limited to a destination or source port,
// counted as if it applied everywhere.
func (fw *Config) zoneSteps(z *Zone, q eval.Query) (steps []fwStep, specific bool, notes []string) {
	rules := append([]RichRule(nil), z.Rules...)
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].Priority < rules[j].Priority })
	rich := func(keep func(RichRule) bool) {
		for _, r := range rules {
			if !keep(r) {
				continue
			}
			st, ok, sp, note := fw.richStep(r, q)
			if note != "" {
				notes = append(notes, fmt.Sprintf("zone %s: %s", z.Name, note))
			}
			if ok {
				specific = specific || sp
				steps = append(steps, st)
			}
		}
	}
	rich(func(r RichRule) bool { return r.Priority < 0 })
	rich(func(r RichRule) bool { return r.Priority == 0 && (r.Action == "reject" || r.Action == "drop") })
	rich(func(r RichRule) bool { return r.Priority == 0 && r.Action == "accept" })
	for _, name := range z.Services {
		c, sp, err := fw.serviceCovers(name, q.Family, q.Port, 0)
		if err != nil {
			notes = append(notes, fmt.Sprintf("zone %s: %v", z.Name, err))
		}
		if c {
			specific = specific || sp
			steps = append(steps, fwStep{action: "accept", why: "service " + name, elem: element{"service", name}})
		}
	}
	for _, p := range z.Ports {
		if p.covers(q.Port) {
			steps = append(steps, fwStep{action: "accept", why: "port " + p.String(), elem: element{"port", p.String()}})
		}
	}
	for _, pr := range z.Protocols {
		if pr == "tcp" {
			steps = append(steps, fwStep{action: "accept", why: "protocol tcp", elem: element{"protocol", pr}})
		}
	}
	for _, p := range z.SourcePorts {
		if p.Proto == "tcp" {
			specific = true
			steps = append(steps, fwStep{action: "accept", why: "source port " + p.String(), elem: element{"source-port", p.String()}})
		}
	}
	rich(func(r RichRule) bool { return r.Priority > 0 })
	return steps, specific, notes
}

// richStep turns a rich rule into a step when it decides the port.
func (fw *Config) richStep(r RichRule, q eval.Query) (st fwStep, ok, specific bool, note string) {
	if r.Action != "accept" && r.Action != "reject" && r.Action != "drop" {
		return st, false, false, "" // log, audit, mark: not terminal
	}
	if r.Family != "" && r.Family != famKey(q.Family) {
		return st, false, false, ""
	}
	switch r.Element {
	case "":
	case "service":
		c, sp, err := fw.serviceCovers(r.Name, q.Family, q.Port, 0)
		if err != nil {
			return st, false, false, err.Error()
		}
		if !c {
			return st, false, false, ""
		}
		specific = sp
	case "port":
		if !(Port{r.Port, r.Proto}).covers(q.Port) {
			return st, false, false, ""
		}
	case "protocol":
		if r.Value != "tcp" && r.Value != "6" {
			return st, false, false, ""
		}
	case "source-port":
		if r.Proto != "tcp" {
			return st, false, false, ""
		}
		specific = true
	default:
		return st, false, false, "" // icmp, masquerade, forward-port
	}
	st = fwStep{action: r.Action, why: "rich rule `" + r.String() + "`", elem: element{"rich-rule", r.String()}}
	if r.Source.Kind != "" {
		if r.Source.Kind != "address" {
			return st, false, false, fmt.Sprintf("rich rule `%s`: a %s source is not resolved", r, r.Source.Kind)
		}
		p, err := cidr.Parse(r.Source.Value)
		if err != nil {
			return st, false, false, fmt.Sprintf("rich rule `%s`: bad source", r)
		}
		if eval.FamilyOf(p.Addr()) != q.Family {
			return st, false, false, ""
		}
		var b netipx.IPSetBuilder
		if r.Source.Invert {
			b.AddPrefix(q.Family.All())
			b.RemovePrefix(p)
		} else {
			b.AddPrefix(p)
		}
		st.src, _ = b.IPSet()
	}
	if r.Destination.Kind != "" {
		if p, err := cidr.Parse(r.Destination.Value); err == nil && r.Destination.Kind == "address" && eval.FamilyOf(p.Addr()) != q.Family {
			return st, false, false, ""
		}
		specific = true
	}
	return st, true, specific || r.Limit, ""
}

// fwPath is one way a new connection is classified into a zone.
type fwPath struct {
	zone *Zone
	// kind is "sources", "interfaces" or "default".
	kind     string
	pop, acc *netipx.IPSet
	why      []string
	specific bool
	// hits are the sources each accepting element let in.
	hits []elemHit
}

// elemHit is what one element of a zone accepted.
type elemHit struct {
	elem element
	why  string
	set  *netipx.IPSet
}

// paths classifies the family's sources as firewalld does: source
// bindings first (in zone-name order, as firewalld 1.x sorts its
// dispatch rules), then interfaces, then the default zone. Loopback is
// left out: firewalld accepts lo before any zone.
func (fw *Config) paths(q eval.Query) (out []fwPath, notes []string) {
	var rest netipx.IPSetBuilder
	rest.AddPrefix(q.Family.All())
	rest.RemovePrefix(q.Family.Loopback())
	names := make([]string, 0, len(fw.Zones))
	for n := range fw.Zones {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		z := fw.Zones[n]
		var pb netipx.IPSetBuilder
		for _, s := range z.Sources {
			p, err := cidr.Parse(s)
			if err != nil {
				notes = append(notes, fmt.Sprintf("zone %s: source %s is not resolved (ipset or MAC)", n, s))
				continue
			}
			if eval.FamilyOf(p.Addr()) == q.Family {
				pb.AddPrefix(p)
			}
		}
		cur, _ := rest.IPSet()
		pb.Intersect(cur)
		pop, _ := pb.IPSet()
		if describe.Empty(pop) {
			continue
		}
		rest.RemoveSet(pop)
		out = append(out, fwPath{zone: z, kind: "sources", pop: pop})
	}
	others, _ := rest.IPSet()
	for _, n := range names {
		if z := fw.Zones[n]; len(z.Interfaces) > 0 && n != fw.DefaultZone {
			out = append(out, fwPath{zone: z, kind: "interfaces", pop: others})
		}
	}
	if z, ok := fw.Zones[fw.DefaultZone]; ok {
		out = append(out, fwPath{zone: z, kind: "default", pop: others})
	} else {
		notes = append(notes, fmt.Sprintf("default zone %q is not defined", fw.DefaultZone))
	}
	for i := range out {
		p := &out[i]
		steps, sp, n := fw.zoneSteps(p.zone, q)
		notes = append(notes, n...)
		p.specific = sp
		var left, acc netipx.IPSetBuilder
		left.AddSet(p.pop)
		for _, st := range steps {
			cur, _ := left.IPSet()
			var hb netipx.IPSetBuilder
			hb.AddSet(cur)
			if st.src != nil {
				hb.Intersect(st.src)
			}
			hit, _ := hb.IPSet()
			if describe.Empty(hit) {
				continue
			}
			if st.action == "accept" {
				acc.AddSet(hit)
				p.why = append(p.why, st.why)
				p.hits = append(p.hits, elemHit{st.elem, st.why, hit})
			}
			left.RemoveSet(hit)
		}
		if p.zone.Target == "ACCEPT" {
			cur, _ := left.IPSet()
			acc.AddSet(cur)
			if !describe.Empty(cur) {
				p.why = append(p.why, "target ACCEPT")
				p.hits = append(p.hits, elemHit{element{"target", "ACCEPT"}, "target ACCEPT", cur})
			}
		}
		p.acc, _ = acc.IPSet()
	}
	return out, describe.Dedupe(notes)
}

// Allowed is what firewalld admits to the port on some interface.
func (fw *Config) Allowed(q eval.Query) *netipx.IPSet {
	paths, _ := fw.paths(q)
	var b netipx.IPSetBuilder
	for _, p := range paths {
		b.AddSet(p.acc)
	}
	s, _ := b.IPSet()
	return s
}

// AllowedOn is what firewalld admits to the port from connections
// arriving on one interface: source bindings, else the interface's zone,
// else the default zone.
func (fw *Config) AllowedOn(q eval.Query, iface string) *netipx.IPSet {
	paths, _ := fw.paths(q)
	var b netipx.IPSetBuilder
	bound := false
	for _, p := range paths {
		if p.kind == "interfaces" && contains(p.zone.Interfaces, iface) {
			bound = true
		}
	}
	for _, p := range paths {
		switch {
		case p.kind == "sources",
			p.kind == "interfaces" && contains(p.zone.Interfaces, iface),
			p.kind == "default" && !bound:
			b.AddSet(p.acc)
		}
	}
	s, _ := b.IPSet()
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// targetVerb says what a zone's target does with what nothing allowed.
func targetVerb(t string) string {
	switch t {
	case "ACCEPT":
		return "accepts"
	case "DROP":
		return "drops"
	}
	return "rejects" // default and %%REJECT%%
}

// label names where the configuration came from.
func (fw *Config) label() string {
	if fw.Runtime {
		return "firewalld"
	}
	return "firewalld (permanent configuration)"
}

// says is firewalld's view of a port in its own terms: "zone
// redis (sources 198.51.100.30/32) allows it (port 6379/tcp); other
// sources fall into zone public (default), which rejects it".
func says(fw *Config, q eval.Query) string {
	paths, _ := fw.paths(q)
	var parts []string
	bound, specific := false, false
	for _, p := range paths {
		specific = specific || p.specific
		z := p.zone
		verdict := targetVerb(z.Target) + " it"
		switch {
		case describe.Empty(p.acc):
		case p.acc.Equal(p.pop):
			verdict = "allows it (" + strings.Join(describe.FirstN(p.why, 2), ", ") + ")"
		default:
			verdict = fmt.Sprintf("allows it from %s (%s) and %s the rest", describe.Ranges(p.acc, q.Family), strings.Join(describe.FirstN(p.why, 2), ", "), targetVerb(z.Target))
		}
		switch p.kind {
		case "sources":
			bound = true
			parts = append(parts, fmt.Sprintf("zone %s (sources %s) %s", z.Name, describe.Ranges(p.pop, q.Family), verdict))
		case "interfaces":
			parts = append(parts, fmt.Sprintf("on %s, zone %s %s", strings.Join(z.Interfaces, ", "), z.Name, verdict))
		default:
			lead := "other sources fall into"
			if !bound {
				lead = fmt.Sprintf("no zone binds %v sources: they fall into", q.Family)
			}
			if len(z.Interfaces) > 0 || hasInterfacePath(paths) {
				lead += " (on other interfaces)"
			}
			parts = append(parts, fmt.Sprintf("%s zone %s (default), which %s", lead, z.Name, verdict))
		}
	}
	s := fmt.Sprintf("%s: %v: %s", fw.label(), q, strings.Join(parts, "; "))
	if specific {
		s += "; some rules are limited to a destination or source port, counted as if they were not"
	}
	return s
}

func hasInterfacePath(ps []fwPath) bool {
	for _, p := range ps {
		if p.kind == "interfaces" {
			return true
		}
	}
	return false
}

// but completes a CRITICAL finding with what firewalld says of the
// untrusted sources the kernel accepts: the zones and elements that let
// them in with the firewall-cmd commands that close the port to them, and
// what the kernel accepts beyond firewalld's zones ("firewalld allows
// 6379/tcp only from X, but the kernel also accepts …").
func but(fw *Config, q eval.Query, res *eval.Result, trust *netipx.IPSet) string {
	if fw == nil {
		return ""
	}
	bad := describe.Minus(res.Accepted, trust)
	if describe.Empty(bad) {
		return ""
	}
	port := q.Port
	if q.To != 0 {
		port = q.To
	}
	pq := eval.Query{Family: q.Family, Port: port}
	allowed := fw.Allowed(pq)
	var parts []string
	if in := describe.Intersect(bad, allowed); q.To == 0 && !describe.Empty(in) {
		keep := describe.Intersect(describe.Intersect(res.Accepted, trust), allowed)
		parts = append(parts, fw.closes(pq, in, keep, trust))
	}
	if s := fw.forwarded(q, res); s != "" {
		parts = append(parts, s)
	}
	extra := describe.Minus(res.Accepted, allowed)
	if !describe.Empty(describe.Minus(extra, trust)) {
		who := "nowhere"
		if !describe.Empty(allowed) {
			who = describe.Ranges(allowed, q.Family)
		}
		s := fmt.Sprintf("firewalld allows %d/tcp only from %s, but the kernel also accepts %s", port, who, describe.Untrusted(extra, q.Family, trust))
		dnat := false
		for _, d := range res.Via {
			if d.Nat != nil && !strings.EqualFold(fw.StrictForwardPorts, "yes") {
				dnat = true
				s += " (firewalld accepts DNAT'd connections ahead of every zone with `ct status dnat accept`; StrictForwardPorts=yes"
				if v := fw.Version; v != "" && !versionAtLeast(v, 2, 3) {
					s += ", which needs firewalld ≥ 2.3 (this is " + v + "),"
				}
				s += " stops that for published ports)"
				break
			}
		}
		switch {
		case dnat:
		case !fw.Runtime:
			s += " beyond its permanent zones: if the running firewalld holds more, `firewall-cmd --reload` drops it; else the rule that accepts it is outside firewalld"
		default:
			s += " outside its zones: no firewall-cmd command closes it, the rule that accepts it does"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, "; ")
}

// versionAtLeast compares a "MAJOR.MINOR[.PATCH]" version.
func versionAtLeast(v string, major, minor int) bool {
	f := strings.SplitN(v, ".", 3)
	a, err1 := strconv.Atoi(f[0])
	b := 0
	var err2 error
	if len(f) > 1 {
		b, err2 = strconv.Atoi(f[1])
	}
	if err1 != nil || err2 != nil {
		return false
	}
	return a > major || (a == major && b >= minor)
}

// driftSays compares the runtime and permanent views of a
// port: a reload or restart changes what is accepted when they differ.
func driftSays(fw *Config, q eval.Query) string {
	if fw == nil || !fw.Runtime || fw.Permanent == nil {
		return ""
	}
	run, perm := fw.Allowed(q), fw.Permanent.Allowed(q)
	if run.Equal(perm) {
		return ""
	}
	name := func(s *netipx.IPSet) string {
		if describe.Empty(s) {
			return "nowhere"
		}
		if describe.AllButLoopback(s, q.Family) {
			return "anywhere"
		}
		return describe.Untrusted(s, q.Family, nil)
	}
	return fmt.Sprintf("%v: firewalld's runtime and permanent configurations differ: the running zones allow it from %s, the permanent ones from %s (a reload or restart changes this; see the drift note)",
		q, name(run), name(perm))
}

// errOffline marks the runtime state as not read in offline mode.
var errOffline = errors.New("offline mode")
