package firewall

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/describe"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/frontend"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Judge compiles the gathered ruleset, evaluates the ports and judges the
// outcome. It is pure: no I/O, the same options and facts always give the
// same result.
func Judge(o Options, f Facts) result.Result {
	if f.Err != nil {
		if errors.Is(f.Err, ErrPrivilege) {
			return result.Unknownf("%v", f.Err)
		}
		return result.Unknownf("reading the firewall: %v", f.Err)
	}
	rs, notes := Build(&f)
	rep := Evaluate(rs, o.ports())
	rep.Notes = append(rep.Notes, notes...)
	rep.UFW = f.UFW
	rep.Dumps = f.dumps()
	if f.UFWErr != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("ufw's configuration could not be read: %v", f.UFWErr))
	}
	rep.Firewalld = f.Firewalld
	if f.FirewalldErr != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("firewalld's configuration could not be read: %v", f.FirewalldErr))
	}
	return JudgeReport(rep, o.Trusted)
}

// JudgeReport compares a report with the trusted networks. It is pure:
// the same report and trust always give the same result.
//
//   - CRITICAL: an untrusted source is accepted (or no rule restricts the
//     port at all);
//   - UNKNOWN: whether some source is accepted depends on what the
//     evaluator does not understand (each reason is listed);
//   - WARNING: a trusted network, or loopback, is not accepted;
//   - OK: only trusted sources are accepted, and all of them are.
func JudgeReport(rep *Report, trusted []netip.Prefix) result.Result {
	var r result.Result
	ufw, fw := rep.explainers()
	var qs []eval.Query
	for _, pr := range rep.Ports {
		judgePort(&r, pr, trusted, ufw, fw, rep.Dumps)
		qs = append(qs, pr.Query)
	}
	for _, e := range []frontend.Explainer{fw, ufw} {
		if e != nil {
			for _, f := range e.Notes(qs) {
				r.Add(state(f), "note: %s", f.Text)
			}
		}
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

func judgePort(r *result.Result, pr PortReport, trusted []netip.Prefix, ufw, fw frontend.Explainer, text ruleText) {
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

	bad := describe.Minus(res.Accepted, trust)
	if !describe.Empty(bad) {
		switch {
		case describe.AllButLoopback(res.Accepted, fam) && len(res.Choices) == 0:
			r.Add(result.Critical, "%v: accepted from %s: no rule restricts it%s%s%s%s%s", q, fam.All(), where(res, trust), via(res), fix(ufw, q, res, trust), fix(fw, q, res, trust), decidedBy(res, bad, text))
		case describe.AllButLoopback(res.Accepted, fam):
			r.Add(result.Critical, "%v: accepted from %s%s%s%s%s%s%s", q, fam.All(), choices(res), where(res, trust), via(res), fix(ufw, q, res, trust), fix(fw, q, res, trust), decidedBy(res, bad, text))
		default:
			r.Add(result.Critical, "%v: accepted from %s%s%s%s%s%s%s", q, describe.Untrusted(bad, fam, trust), choices(res), where(res, trust), via(res), fix(ufw, q, res, trust), fix(fw, q, res, trust), decidedBy(res, bad, text))
		}
	}
	// ufw's view comes with the verdict, as its own summary of the port.
	explain(r, ufw, q)
	if u := describe.Minus(res.Undecided, trust); !describe.Empty(u) {
		r.Add(result.Unknown, "%v: cannot tell whether %s is accepted: %s", q, describe.Ranges(u, fam), strings.Join(res.Reasons, "; "))
	}
	if u := describe.Intersect(res.Undecided, trust); !describe.Empty(u) {
		r.Add(result.Unknown, "%v: cannot tell whether trusted %s is accepted: %s", q, describe.Ranges(u, fam), strings.Join(res.Reasons, "; "))
	}
	if q.To != 0 {
		// A host port published to the Redis port: only exposure
		// matters; trusted clients need not use this way in.
		if describe.Empty(bad) && describe.Empty(res.Undecided) {
			r.Add(result.OK, "%v: no untrusted source accepted%s", q, via(res))
		}
		return
	}
	var mb netipx.IPSetBuilder
	mb.AddSet(trust)
	mb.RemoveSet(res.Accepted)
	mb.RemoveSet(res.Undecided)
	if missing, _ := mb.IPSet(); !describe.Empty(missing) {
		r.Add(result.Warning, "%v: trusted %s not accepted%s%s%s", q, describe.Ranges(missing, fam), admit(ufw, q, missing), admit(fw, q, missing), decidedBy(res, missing, text))
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
		var lb netipx.IPSetBuilder
		lb.Add(la)
		ls, _ := lb.IPSet()
		r.Add(result.Warning, "%v: loopback (%v) not accepted%s", q, la, decidedBy(res, ls, text))
	}
	if describe.Empty(bad) && describe.Empty(res.Undecided) {
		if describe.Empty(res.Accepted) {
			r.Add(result.OK, "%v: no remote source accepted", q)
		} else {
			r.Add(result.OK, "%v: accepted only from trusted %s%s", q, describe.Ranges(res.Accepted, fam), via(res))
		}
	}
	// firewalld's view comes after the kernel's verdict it explains.
	explain(r, fw, q)
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
		if describe.Empty(describe.Minus(c.Accepted, trust)) {
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

// explain adds what a frontend says of q.
func explain(r *result.Result, e frontend.Explainer, q eval.Query) {
	if e == nil {
		return
	}
	for _, f := range e.Port(q) {
		r.Add(state(f), "%s", f.Text)
	}
}

// fix is what a frontend adds to a finding that q is open.
func fix(e frontend.Explainer, q eval.Query, res *eval.Result, trust *netipx.IPSet) string {
	if e == nil {
		return ""
	}
	return e.Fix(q, res, trust)
}

// admit is what a frontend adds to a finding that trusted sources are
// not accepted.
func admit(e frontend.Explainer, q eval.Query, missing *netipx.IPSet) string {
	if e == nil {
		return ""
	}
	return e.Admit(q, missing)
}

func state(f frontend.Finding) result.State {
	if f.Warning {
		return result.Warning
	}
	return result.OK
}
