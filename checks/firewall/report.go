package firewall

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/frontend"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/frontend/firewalld"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/frontend/ufw"
)

// Report is the evaluation of every port over both families.
type Report struct {
	Ports []PortReport
	// Notes are remarks from compiling the ruleset.
	Notes []string
	// Rules is the number of rules in the model, for perf data.
	Rules int
	// UFW, when set, explains the results in ufw's terms.
	UFW *ufw.Config
	// Firewalld, when set, explains the results in firewalld's terms.
	Firewalld *firewalld.Config
	// Dumps are the iptables-save dumps read, for the text of the rules
	// findings name by line.
	Dumps ruleText
}

// explainers are the frontends that explain the report, nil when absent
// (a nil pointer in an interface would not be).
func (rep *Report) explainers() (u, fw frontend.Explainer) {
	if rep.UFW != nil {
		u = rep.UFW
	}
	if rep.Firewalld != nil {
		fw = rep.Firewalld
	}
	return u, fw
}

// PortReport is one port and family. Err is set when the evaluation
// could not run (the ruleset is too complex to evaluate exactly).
type PortReport struct {
	Query  eval.Query
	Result *eval.Result
	Err    error
}

// Evaluate computes the report for the given ports.
func Evaluate(rs *eval.Ruleset, ports []uint16) *Report {
	rep := &Report{Rules: countRules(rs)}
	for _, p := range ports {
		for _, fam := range []eval.Family{eval.IPv4, eval.IPv6} {
			rep.Ports = append(rep.Ports, PortReport{Query: eval.Query{Family: fam, Port: p}})
			// Host ports a DNAT or REDIRECT sends on to the Redis port.
			for _, x := range rs.NatPorts(fam, p) {
				rep.Ports = append(rep.Ports, PortReport{Query: eval.Query{Family: fam, Port: x, To: p}})
			}
		}
	}
	// The queries only read the model: they are answered on every core,
	// each into its own place.
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(rep.Ports)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(rep.Ports); i = int(next.Add(1) - 1) {
				pr := &rep.Ports[i]
				pr.Result, pr.Err = eval.Evaluate(rs, pr.Query, eval.DefaultOptions)
			}
		})
	}
	wg.Wait()
	return rep
}

func countRules(rs *eval.Ruleset) int {
	seen := map[*eval.Chain]bool{}
	n := 0
	var visit func(c *eval.Chain)
	visit = func(c *eval.Chain) {
		if c == nil || seen[c] {
			return
		}
		seen[c] = true
		n += len(c.Rules)
		for _, r := range c.Rules {
			visit(r.Verdict.Target)
			if r.Map != nil {
				for _, e := range r.Map.Entries {
					visit(e.Verdict.Target)
				}
			}
		}
	}
	for _, b := range rs.BaseChains {
		visit(b.Chain)
	}
	return n
}
