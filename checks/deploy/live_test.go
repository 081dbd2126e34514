package deploy

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
)

// TestDiscoverLoopbackSentinel walks a real master, replica and Sentinel
// on loopback from the Sentinel alone.
func TestDiscoverLoopbackSentinel(t *testing.T) {
	master := redistest.Start(t, redistest.Spec{})
	replica := redistest.Start(t, redistest.Spec{Config: []string{fmt.Sprintf("replicaof 127.0.0.1 %d", master.Port)}})
	sentinel := redistest.Start(t, redistest.Spec{Sentinel: true, Config: []string{
		fmt.Sprintf("sentinel monitor mymaster 127.0.0.1 %d 1", master.Port)}})
	seed := HostPort{"127.0.0.1", sentinel.Port}
	cfg := Config{Seeds: []HostPort{seed}, Scope: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	var d Deployment
	// Sentinel learns of the replica from the master's INFO: poll, bounded.
	for i := 0; i < 40; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		d = Discover(ctx, cfg)
		cancel()
		if len(d.Nodes) == 3 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	roles := map[string]Role{}
	for _, n := range d.Nodes {
		roles[strconv.Itoa(n.Port)] = n.Role
		if !n.Read {
			t.Errorf("%s not read: %s", n.Label(), n.ReadErr)
		}
	}
	want := map[string]Role{strconv.Itoa(master.Port): RoleMaster, strconv.Itoa(replica.Port): RoleReplica,
		strconv.Itoa(sentinel.Port): RoleSentinel}
	for p, r := range want {
		if roles[p] != r {
			t.Errorf("port %s: role %q, want %q (nodes %+v, rejected %+v, problems %v)", p, roles[p], r, d.Nodes, d.Rejected, d.Problems)
		}
	}
	for _, n := range d.Nodes {
		if n.Role == RoleSentinel && n.PortOf(PortSentinel) != sentinel.Port {
			t.Errorf("sentinel ports %v", n.Ports)
		}
		if n.Role == RoleMaster && n.PortOf(PortData) != master.Port {
			t.Errorf("master ports %v", n.Ports)
		}
	}

	// Out of scope: listed, never read.
	cfg.Scope = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d = Discover(ctx, cfg)
	if len(d.Nodes) != 1 || len(d.Rejected) != 2 {
		t.Fatalf("with a foreign scope: nodes %+v, rejected %+v", d.Nodes, d.Rejected)
	}
	for _, r := range d.Rejected {
		if r.Reason != "outside --discover-scope" {
			t.Errorf("rejected %+v", r)
		}
	}
}

// TestDiscoverUnreachableSeed: a seed that is down is a node not read.
func TestDiscoverUnreachableSeed(t *testing.T) {
	port := redistest.FreePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	d := Discover(ctx, Config{Seeds: []HostPort{{"127.0.0.1", port}}, Scope: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	if len(d.Nodes) != 1 || d.Nodes[0].Read || d.Nodes[0].ReadErr == "" || !d.Incomplete() {
		t.Fatalf("%+v", d)
	}
}
