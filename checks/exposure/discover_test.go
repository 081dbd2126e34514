package exposure

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/deploy"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

func TestNodeTargets(t *testing.T) {
	d := deploy.Deployment{Nodes: []deploy.Node{
		{Addr: netip.MustParseAddr("192.0.2.10"), Port: 6379, Role: deploy.RoleMaster, Cluster: true,
			Ports: []deploy.Port{{Kind: deploy.PortData, Port: 6379}, {Kind: deploy.PortTLS, Port: 6380}, {Kind: deploy.PortBus, Port: 16379}}},
		{Addr: netip.MustParseAddr("2001:db8::1"), Port: 26379, Role: deploy.RoleSentinel}, // never read: its listed port
	}}
	ts, owner := NodeTargets(d)
	if len(ts) != 4 || len(owner) != 4 {
		t.Fatalf("%+v", ts)
	}
	if ts[2].Port != 16379 || ts[2].Text != "192.0.2.10:6379 (master, cluster) cluster-bus" {
		t.Errorf("%+v", ts[2])
	}
	if ts[3].Port != 26379 || ts[3].Prefix.Bits() != 128 {
		t.Errorf("%+v", ts[3])
	}
}

// Every node's address gets --ports, but for the ports a node already has
// there (its own, or a co-located node's).
func TestHostTargets(t *testing.T) {
	a := netip.MustParseAddr("192.0.2.10")
	d := deploy.Deployment{Nodes: []deploy.Node{
		{Addr: a, Port: 6379, Role: deploy.RoleMaster, Ports: []deploy.Port{{Kind: deploy.PortData, Port: 6379}}},
		{Addr: a, Port: 26379, Role: deploy.RoleSentinel},
		{Addr: netip.MustParseAddr("192.0.2.11"), Port: 6380, Role: deploy.RoleUnknown},
	}}
	known, _ := NodeTargets(d)
	ts, owner := HostTargets(d, known, []int{6379, 16379, 26379})
	var got []string
	for _, tg := range ts {
		got = append(got, tg.Prefix.Addr().String()+":"+strconv.Itoa(tg.Port)+" "+tg.Text)
		if _, ok := owner[tg.Text]; !ok {
			t.Errorf("no owner for %q", tg.Text)
		}
	}
	want := []string{
		"192.0.2.10:16379 192.0.2.10:6379 (master) host, --ports",
		"192.0.2.11:6379 192.0.2.11:6380 (unknown) host, --ports",
		"192.0.2.11:16379 192.0.2.11:6380 (unknown) host, --ports",
		"192.0.2.11:26379 192.0.2.11:6380 (unknown) host, --ports",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestJudgeMembership(t *testing.T) {
	unread := deploy.Node{Addr: netip.MustParseAddr("192.0.2.11"), Port: 6379, Role: deploy.RoleReplica, ReadErr: "dial: refused"}
	read := deploy.Node{Addr: netip.MustParseAddr("192.0.2.10"), Port: 6379, Role: deploy.RoleMaster, Read: true}
	d := deploy.Deployment{Nodes: []deploy.Node{read, unread},
		Rejected: []deploy.Rejected{{Text: "203.0.113.1", Port: 6379, Role: deploy.RoleReplica, Source: "seed", Reason: "outside --discover-scope"}}}
	var r result.Result
	judgeMembership(ExpectReachable, d, &r)
	if r.Worst() != result.Unknown || !strings.Contains(r.Findings[0].Text, "192.0.2.11:6379 (replica): membership not read") {
		t.Errorf("reachable: %+v", r.Findings)
	}
	r = result.Result{}
	judgeMembership(ExpectUnreachable, deploy.Deployment{Nodes: []deploy.Node{unread}}, &r)
	if r.Worst() != result.Warning {
		t.Errorf("unreachable, nothing read: %+v", r.Findings)
	}
	r = result.Result{}
	judgeMembership(ExpectUnreachable, d, &r)
	if r.Worst() != result.Warning || !strings.Contains(r.Findings[len(r.Findings)-1].Text, "not tried: 203.0.113.1:6379") {
		t.Errorf("unreachable, rejected: %+v", r.Findings)
	}
}
