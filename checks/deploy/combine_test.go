package deploy

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

func TestCombine(t *testing.T) {
	m := Node{Addr: netip.MustParseAddr("192.0.2.10"), Port: 6379, Role: RoleMaster, Master: "mymaster", Read: true}
	r := Node{Addr: netip.MustParseAddr("192.0.2.11"), Port: 6379, Role: RoleReplica, Master: "mymaster"}
	d := Deployment{Nodes: []Node{m, r},
		Rejected: []Rejected{{Text: "203.0.113.9", Port: 6379, Role: RoleReplica, Source: "sentinel 192.0.2.20:26379", Reason: "outside --discover-scope"}}}
	res := Combine(d, []NodeVerdict{
		{m, result.Result{Summary: "refuses clients without credentials"}},
		{r, result.Result{State: result.Unknown, Summary: "could not connect"}},
	})
	if res.State != result.Unknown {
		t.Errorf("state %s", res.State)
	}
	var text []string
	for _, f := range res.Findings {
		text = append(text, f.State.String()+" "+f.Text)
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{
		"UNKNOWN 192.0.2.11:6379 (replica of mymaster): could not connect",
		"WARNING not checked: 203.0.113.9:6379 announced by sentinel 192.0.2.20:26379 as a replica: outside --discover-scope",
		"OK 192.0.2.10:6379 (master mymaster): refuses clients without credentials",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in\n%s", want, all)
		}
	}
	if !strings.HasPrefix(res.Summary, "2 nodes discovered (1 master, 1 replica): 1 UNKNOWN, 1 OK; 1 announced") {
		t.Errorf("summary %q", res.Summary)
	}
	if Combine(Deployment{}, nil).State != result.Unknown {
		t.Error("nothing discovered must be UNKNOWN")
	}
}
