package firewalld

import (
	"fmt"
	"strings"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/describe"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/frontend"
)

// The frontend.Explainer of firewalld.
var _ frontend.Explainer = (*Config)(nil)

// Fix completes a CRITICAL finding when the kernel accepts sources that
// firewalld's zones do not.
func (fw *Config) Fix(q eval.Query, res *eval.Result, trust *netipx.IPSet) string {
	return but(fw, q, res, trust)
}

// Port is firewalld's view of a port after the kernel's verdict it
// explains, and a WARNING when a reload would change it. A host port
// published to the Redis port is forwarded, not judged by the zones.
func (fw *Config) Port(q eval.Query) []frontend.Finding {
	if q.To != 0 {
		return nil
	}
	out := []frontend.Finding{{Text: says(fw, q)}}
	if d := driftSays(fw, q); d != "" {
		out = append(out, frontend.Finding{Warning: true, Text: d})
	}
	return out
}

// Notes says what firewalld's configuration says as a whole: where it was
// read from, its drift, what it could not resolve for the queries.
func (fw *Config) Notes(qs []eval.Query) []frontend.Finding {
	var out []frontend.Finding
	add := func(format string, args ...any) {
		out = append(out, frontend.Finding{Text: fmt.Sprintf(format, args...)})
	}
	if !fw.Runtime {
		add("firewalld's runtime state is not available (%v): explained by its permanent configuration, which may differ from what runs", fw.RuntimeErr)
	}
	if fw.PermanentErr != nil {
		add("firewalld's permanent configuration could not be read (%v): drift not checked", fw.PermanentErr)
	}
	if len(fw.Drift) > 0 {
		add("firewalld runtime/permanent drift: %s", strings.Join(describe.FirstN(fw.Drift, describe.MaxListed), "; "))
	}
	if fw.StrictForwardPorts != "" && !versionAtLeast(fw.Version, 2, 3) && fw.Version != "" {
		add("firewalld.conf sets StrictForwardPorts=%s, which firewalld %s ignores (it needs 2.3)", fw.StrictForwardPorts, fw.Version)
	}
	notes := append([]string(nil), fw.Remarks...)
	for _, q := range qs {
		if q.To == 0 {
			_, n := fw.paths(q)
			notes = append(notes, n...)
		}
	}
	for _, n := range describe.Dedupe(notes) {
		add("firewalld: %s", n)
	}
	return out
}
