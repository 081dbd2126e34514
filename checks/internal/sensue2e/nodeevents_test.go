package sensue2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
)

// TestNodeEvents: redis-auth-check --discover --node-events, run by a real
// agent, files one event per discovered node under a proxy entity through
// the agent's own events API, besides its summary event on the agent.
func TestNodeEvents(t *testing.T) {
	dir := os.Getenv(DirEnv)
	if dir == "" {
		t.Skipf("skipped: $%s is not set (the directory of sensu-backend, sensu-agent and sensuctl; .ci/run sets it)", DirEnv)
	}
	start := time.Now()
	bin := bintest.Build(t, "redis-auth-check")
	master := redistest.Start(t, redistest.Spec{Config: []string{"requirepass pw", "repl-diskless-sync-delay 0"}})
	replica := redistest.Start(t, redistest.Spec{Config: []string{"requirepass pw", "masterauth pw",
		fmt.Sprintf("replicaof 127.0.0.1 %d", master.Port)}})

	c := newCluster(t, dir)
	api := freePort(t)
	c.start("monitor", nil, filepath.Join(c.bin, "sensu-agent"), "start", "--backend-url", c.agentWS, "--name", "monitor",
		"--subscriptions", "nodes", "--deregister", "--cache-dir", filepath.Join(c.dir, "monitor"),
		"--disable-sockets", "--statsd-disable", "--api-host", "127.0.0.1", "--api-port", strconv.Itoa(api),
		"--log-level", "warn", "--keepalive-interval", "5")
	waitEntities(t, c, "monitor")
	cmd := fmt.Sprintf("REDIS_PASSWORD=pw %s --host 127.0.0.1 --port %d --discover --discover-scope 127.0.0.0/8 --node-events http://127.0.0.1:%d/events",
		bin, master.Port, api)
	create(t, c, map[string]any{"type": "CheckConfig", "api_version": "core/v2", "metadata": map[string]any{"name": "redis-auth-deployment"},
		"spec": map[string]any{"command": cmd, "subscriptions": []string{"nodes"}, "interval": 600, "timeout": 20, "publish": false, "stdin": true}})
	// The replica must be online at the master (ROLE lists it) before the run.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(master.Log(), "Synchronization with replica") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	since := time.Now().Unix()
	c.ctl("check", "execute", "redis-auth-deployment")

	sum := c.waitEvent("monitor", "redis-auth-deployment", since, 60*time.Second)
	if sum.Check.Status != 0 || !strings.Contains(sum.Check.Output, "2 nodes discovered (1 master, 1 replica)") {
		t.Errorf("summary event: status %d\n%s", sum.Check.Status, sum.Check.Output)
	}
	for _, n := range []struct {
		port int
		role string
	}{{master.Port, "(master)"}, {replica.Port, "(replica of 127.0.0.1:" + strconv.Itoa(master.Port) + ")"}} {
		entity := "redis-127.0.0.1-" + strconv.Itoa(n.port)
		// With stdin: true, node events file under the definition's name.
		e := c.waitEvent(entity, "redis-auth-deployment", since, 30*time.Second)
		if e.Entity.Metadata.Name != entity || e.Check.Status != 0 ||
			!strings.HasPrefix(e.Check.Output, "redis-auth-check OK: 127.0.0.1:"+strconv.Itoa(n.port)+" "+n.role) {
			t.Errorf("node event %s: entity %s, status %d\n%s", entity, e.Entity.Metadata.Name, e.Check.Status, e.Check.Output)
		}
		out := c.ctl("entity", "info", entity, "--format", "json")
		if !strings.Contains(out, `"entity_class": "proxy"`) && !strings.Contains(out, `"entity_class":"proxy"`) {
			t.Errorf("entity %s is not a proxy entity:\n%s", entity, tail(out, 600))
		}
	}
	t.Logf("took %s", time.Since(start).Round(time.Second))
}
