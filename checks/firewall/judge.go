package firewall

import (
	"fmt"
	"net/netip"
	"strings"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// maxListed caps how many ranges one finding names.
const maxListed = 8

// Judge compares a report with the trusted networks. It is pure: the
// same report and trust always give the same result.
//
//   - CRITICAL: an untrusted source is accepted (or no rule restricts the
//     port at all);
//   - UNKNOWN: whether some source is accepted depends on what the
//     evaluator does not understand (each reason is listed);
//   - WARNING: a trusted network, or loopback, is not accepted;
//   - OK: only trusted sources are accepted, and all of them are.
func Judge(rep *Report, trusted []netip.Prefix) result.Result {
	var r result.Result
	for _, pr := range rep.Ports {
		judgePort(&r, pr, trusted, rep.UFW, rep.Firewalld)
	}
	judgeFirewalld(&r, rep)
	if rep.UFW != nil && !rep.UFW.Enabled {
		r.Add(result.OK, "note: ufw is inactive (ENABLED=no in ufw.conf): its rules are not in the kernel's ruleset")
	}
	for _, n := range rep.Notes {
		r.Add(result.OK, "note: %s", n)
	}
	exposed := 0
	for _, f := range r.Findings {
		if f.State == result.Critical {
			exposed++
		}
	}
	r.Metric("exposed_port_families", float64(exposed), "")
	r.Metric("rules", float64(rep.Rules), "")
	r.Finalize()
	return r
}

func judgePort(r *result.Result, pr PortReport, trusted []netip.Prefix, ufw *UFW, fw *Firewalld) {
	q := pr.Query
	if pr.Err != nil {
		r.Add(result.Unknown, "%v: not evaluated: %v", q, pr.Err)
		return
	}
	res := pr.Result
	fam := q.Family
	loop := fam.Loopback()
	var tb netipx.IPSetBuilder
	for _, p := range trusted {
		if eval.FamilyOf(p.Addr()) == fam {
			tb.AddPrefix(p.Masked())
		}
	}
	tb.RemovePrefix(loop) // judged separately, as the host's own traffic
	trust, _ := tb.IPSet()

	bad := minus(res.Accepted, trust)
	if !empty(bad) {
		switch {
		case isAllButLoopback(res.Accepted, fam) && len(res.Choices) == 0:
			r.Add(result.Critical, "%v: accepted from %s: no rule restricts it%s%s%s%s", q, fam.All(), where(res, trust), via(res), ufwBut(ufw, q, res, trust), firewalldBut(fw, q, res, trust))
		case isAllButLoopback(res.Accepted, fam):
			r.Add(result.Critical, "%v: accepted from %s%s%s%s%s%s", q, fam.All(), choices(res), where(res, trust), via(res), ufwBut(ufw, q, res, trust), firewalldBut(fw, q, res, trust))
		default:
			r.Add(result.Critical, "%v: accepted from %s%s%s%s%s%s", q, describeSet(bad, fam, trust), choices(res), where(res, trust), via(res), ufwBut(ufw, q, res, trust), firewalldBut(fw, q, res, trust))
		}
	}
	if ufw != nil && ufw.Enabled && q.To == 0 {
		r.Add(result.OK, "ufw: %s", ufwSays(ufw, q))
	}
	if u := minus(res.Undecided, trust); !empty(u) {
		r.Add(result.Unknown, "%v: cannot tell whether %s is accepted: %s", q, listRanges(u, fam), strings.Join(res.Reasons, "; "))
	}
	if u := intersect(res.Undecided, trust); !empty(u) {
		r.Add(result.Unknown, "%v: cannot tell whether trusted %s is accepted: %s", q, listRanges(u, fam), strings.Join(res.Reasons, "; "))
	}
	if q.To != 0 {
		// A host port published to the Redis port: only exposure
		// matters; trusted clients need not use this way in.
		if empty(bad) && empty(res.Undecided) {
			r.Add(result.OK, "%v: no untrusted source accepted%s", q, via(res))
		}
		return
	}
	var mb netipx.IPSetBuilder
	mb.AddSet(trust)
	mb.RemoveSet(res.Accepted)
	mb.RemoveSet(res.Undecided)
	if missing, _ := mb.IPSet(); !empty(missing) {
		r.Add(result.Warning, "%v: trusted %s not accepted", q, listRanges(missing, fam))
	}
	// Loopback: the canonical address must get through on lo.
	la := loop.Addr()
	if fam == eval.IPv4 {
		la = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	switch {
	case res.LoopbackAccepted.Contains(la):
	case res.LoopbackUndecided.Contains(la):
		r.Add(result.Unknown, "%v: cannot tell whether loopback (%v) is accepted: %s", q, la, strings.Join(res.Reasons, "; "))
	default:
		r.Add(result.Warning, "%v: loopback (%v) not accepted", q, la)
	}
	if empty(bad) && empty(res.Undecided) {
		if empty(res.Accepted) {
			r.Add(result.OK, "%v: no remote source accepted", q)
		} else {
			r.Add(result.OK, "%v: accepted only from trusted %s%s", q, listRanges(res.Accepted, fam), via(res))
		}
	}
	// firewalld's view comes after the kernel's verdict it explains.
	if fw != nil {
		r.Add(result.OK, "%s", firewalldSays(fw, q))
		if d := firewalldDriftSays(fw, q); d != "" {
			r.Add(result.Warning, "%s", d)
		}
	}
}

// maxChoices caps how many client choices one finding names.
const maxChoices = 3

// choices says what the client had to choose to get in, when it had to:
// the shape of its first SYN or the history of its own traffic.
func choices(res *eval.Result) string {
	if len(res.Choices) == 0 {
		return ""
	}
	c := res.Choices
	more := ""
	if len(c) > maxChoices {
		more = fmt.Sprintf("; and %d more", len(c)-maxChoices)
		c = c[:maxChoices]
	}
	return " (gets in " + strings.Join(c, "; ") + more + ")"
}

// via says how accepted connections got through when a DNAT was involved.
func via(res *eval.Result) string {
	var parts []string
	for _, d := range res.Via {
		if d.Nat != nil {
			parts = append(parts, d.String())
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, "; ")
}

// where qualifies an exposure that holds only for some interfaces,
// destinations or source ports.
func where(res *eval.Result, trust *netipx.IPSet) string {
	if res.ContextCount <= 1 {
		return ""
	}
	var parts []string
	n := 0
	for _, c := range res.Contexts {
		if empty(minus(c.Accepted, trust)) {
			continue
		}
		n++
		if len(parts) < 3 {
			parts = append(parts, describeContext(c.Context))
		}
	}
	if n == res.ContextCount {
		return ""
	}
	s := fmt.Sprintf(" (only for %d of %d interface/destination/source-port classes: %s", n, res.ContextCount, strings.Join(parts, "; "))
	if n > len(parts) {
		s += "; …"
	}
	return s + ")"
}

func describeContext(c eval.Context) string {
	var p []string
	p = append(p, "input "+c.IIfDesc)
	if pr, ok := c.Dst.Prefix(); !ok || pr.Bits() != 0 {
		p = append(p, "to "+rangeString(c.Dst))
	}
	if c.SPort.Lo != 0 || c.SPort.Hi != 65535 {
		p = append(p, "source port "+c.SPort.String())
	}
	return strings.Join(p, ", ")
}

func rangeString(r netipx.IPRange) string {
	if p, ok := r.Prefix(); ok {
		return p.String()
	}
	return r.String()
}

// listRanges names a set as prefixes (or ranges when shorter), capped.
func listRanges(s *netipx.IPSet, fam eval.Family) string {
	var items []string
	for _, r := range s.Ranges() {
		ps := r.Prefixes()
		if len(ps) <= 2 {
			for _, p := range ps {
				items = append(items, p.String())
			}
		} else {
			items = append(items, r.String())
		}
	}
	if len(items) > maxListed {
		return strings.Join(items[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(items)-maxListed)
	}
	return strings.Join(items, ", ")
}

// describeSet names a set of untrusted sources directly, or by what it
// leaves out when that is shorter ("::/0 except trusted networks and
// 2001:db8:ffff::/48").
func describeSet(s *netipx.IPSet, fam eval.Family, trust *netipx.IPSet) string {
	var b netipx.IPSetBuilder
	b.AddPrefix(fam.All())
	b.RemoveSet(s)
	b.RemovePrefix(fam.Loopback())
	b.RemoveSet(trust)
	rest, _ := b.IPSet()
	if len(rest.Ranges())+1 >= len(s.Ranges()) {
		return listRanges(s, fam)
	}
	switch {
	case empty(rest):
		return fmt.Sprintf("%s except trusted networks", fam.All())
	case empty(trust):
		return fmt.Sprintf("%s except %s", fam.All(), listRanges(rest, fam))
	}
	return fmt.Sprintf("%s except trusted networks and %s", fam.All(), listRanges(rest, fam))
}

// isAllButLoopback reports whether s is the whole family bar loopback.
func isAllButLoopback(s *netipx.IPSet, fam eval.Family) bool {
	var b netipx.IPSetBuilder
	b.AddSet(s)
	b.AddPrefix(fam.Loopback())
	all, _ := b.IPSet()
	return all.ContainsPrefix(fam.All())
}

func minus(a, b *netipx.IPSet) *netipx.IPSet {
	var x netipx.IPSetBuilder
	x.AddSet(a)
	x.RemoveSet(b)
	s, _ := x.IPSet()
	return s
}

func intersect(a, b *netipx.IPSet) *netipx.IPSet {
	var x netipx.IPSetBuilder
	x.AddSet(a)
	x.Intersect(b)
	s, _ := x.IPSet()
	return s
}

func empty(s *netipx.IPSet) bool { return s == nil || len(s.Ranges()) == 0 }

// judgeFirewalld adds what firewalld's configuration says as a whole:
// where it was read from, its drift, what it could not resolve.
func judgeFirewalld(r *result.Result, rep *Report) {
	fw := rep.Firewalld
	if fw == nil {
		return
	}
	if !fw.Runtime {
		r.Add(result.OK, "note: firewalld's runtime state is not available (%v): explained by its permanent configuration, which may differ from what runs", fw.RuntimeErr)
	}
	if fw.PermanentErr != nil {
		r.Add(result.OK, "note: firewalld's permanent configuration could not be read (%v): drift not checked", fw.PermanentErr)
	}
	if len(fw.Drift) > 0 {
		r.Add(result.OK, "note: firewalld runtime/permanent drift: %s", strings.Join(firstN(fw.Drift, maxListed), "; "))
	}
	if fw.StrictForwardPorts != "" && !versionAtLeast(fw.Version, 2, 3) && fw.Version != "" {
		r.Add(result.OK, "note: firewalld.conf sets StrictForwardPorts=%s, which firewalld %s ignores (it needs 2.3)", fw.StrictForwardPorts, fw.Version)
	}
	var notes []string
	notes = append(notes, fw.Notes...)
	for _, pr := range rep.Ports {
		if pr.Query.To == 0 {
			_, n := fw.paths(pr.Query)
			notes = append(notes, n...)
		}
	}
	for _, n := range dedupe(notes) {
		r.Add(result.OK, "note: firewalld: %s", n)
	}
}
