package deploy

import (
	"fmt"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// NodeVerdict is one node's result as a check judged it.
type NodeVerdict struct {
	Node   Node
	Result result.Result
}

// State is the node's verdict: its result's state, raised to its worst
// finding.
func (v NodeVerdict) State() result.State {
	r := v.full()
	return r.State
}

// full is the node's result with the walk's word on it: a node that could
// not be read is UNKNOWN at least, since whom it knows is unknown and
// members may hide behind it.
func (v NodeVerdict) full() result.Result {
	r := v.Result
	r.Findings = append([]result.Finding(nil), r.Findings...)
	if !v.Node.Read {
		r.Add(result.Unknown, "not read, its peers unknown: %s", v.Node.ReadErr)
	}
	r.Finalize()
	return r
}

// Output is the node's verdict as one Sensu event output: the summary
// line, then its findings.
func (v NodeVerdict) Output(check string) string {
	r := v.full()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s: %s\n", check, r.State, v.Node.Label(), r.Summary)
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%s: %s\n", f.State, f.Text)
	}
	return b.String()
}

// Combine folds the per-node verdicts and the walk's own findings into the
// check's one result: every finding names its node, the worst state wins,
// and the walk's gaps are findings of their own:
//   - a node that could not be read is the check's business (each check
//     judges it, UNKNOWN at least);
//   - an announced address the walk did not follow (outside the scope, a
//     host name, over the node cap) is a WARNING: a member left unchecked;
//   - a walk cut short (deadline, node cap) is UNKNOWN: members may be
//     missing.
func Combine(d Deployment, vs []NodeVerdict) result.Result {
	var r result.Result
	counts := map[result.State]int{}
	for _, v := range vs {
		vr := v.full()
		counts[vr.State]++
		// A check's findings often start with the address it dialled:
		// the node's label replaces it.
		for _, f := range vr.Findings {
			r.Add(f.State, "%s: %s", v.Node.Label(), strings.TrimPrefix(f.Text, v.Node.Key()+": "))
		}
		if len(v.Result.Findings) == 0 {
			r.Add(vr.State, "%s: %s", v.Node.Label(), strings.TrimPrefix(vr.Summary, v.Node.Key()+": "))
		}
	}
	for _, x := range d.Rejected {
		r.Add(result.Warning, "not checked: %s announced by %s as a %s: %s", HostPort{clip(x.Text), x.Port}, x.Source, x.Role, x.Reason)
	}
	for _, p := range d.Problems {
		r.Add(result.Unknown, "discovery incomplete: %s", p)
	}
	r.Finalize()
	parts := []string{}
	for _, s := range []result.State{result.Critical, result.Unknown, result.Warning, result.OK} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	r.Summary = fmt.Sprintf("%d nodes discovered (%s): %s", len(vs), roleCounts(d), strings.Join(parts, ", "))
	if len(d.Rejected) > 0 {
		r.Summary += fmt.Sprintf("; %d announced addresses not checked", len(d.Rejected))
	}
	if len(vs) == 0 {
		r.State = result.Unknown
	}
	r.Metric("nodes", float64(len(vs)), "")
	r.Metric("nodes_not_checked", float64(len(d.Rejected)), "")
	return r
}

func roleCounts(d Deployment) string {
	n := map[Role]int{}
	for _, x := range d.Nodes {
		n[x.Role]++
	}
	var parts []string
	for _, r := range []Role{RoleMaster, RoleReplica, RoleSentinel, RoleUnknown} {
		if n[r] > 0 {
			name := string(r) + "s"
			if n[r] == 1 {
				name = string(r)
			}
			parts = append(parts, fmt.Sprintf("%d %s", n[r], name))
		}
	}
	return strings.Join(parts, ", ")
}
