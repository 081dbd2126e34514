package tlscheck

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/deploy"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

func TestJudgeTLSLinks(t *testing.T) {
	node := func(ip string, cluster bool, cfg map[string]string) deploy.Node {
		return deploy.Node{Addr: netip.MustParseAddr(ip), Port: 6379, Role: deploy.RoleMaster, Cluster: cluster, Config: cfg}
	}
	got := JudgeTLSLinks([]deploy.Node{
		node("192.0.2.1", true, map[string]string{"tls-replication": "yes", "tls-cluster": "yes"}),
		node("192.0.2.2", true, map[string]string{"tls-replication": "no", "tls-cluster": "yes"}),
		node("192.0.2.3", true, map[string]string{}), // CONFIG refused: not counted
		{Addr: netip.MustParseAddr("192.0.2.9"), Port: 26379, Role: deploy.RoleSentinel},
	})
	if len(got) != 2 {
		t.Fatalf("%+v", got)
	}
	if got[0].State != result.Warning || !strings.Contains(got[0].Text, "no on 192.0.2.2:6379; yes on 192.0.2.1:6379") {
		t.Errorf("%+v", got[0])
	}
	if got[1].State != result.OK || !strings.Contains(got[1].Text, "tls-cluster yes") {
		t.Errorf("%+v", got[1])
	}
	// Not a cluster: tls-cluster is not compared.
	if got := JudgeTLSLinks([]deploy.Node{node("192.0.2.1", false, map[string]string{"tls-cluster": "no"})}); len(got) != 0 {
		t.Errorf("%+v", got)
	}
}
