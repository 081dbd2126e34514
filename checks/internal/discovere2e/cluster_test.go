package discovere2e

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/certtest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/netns"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// TestClusterDeployment: three masters and three replicas, each in its own
// namespace with cluster-announce-ip, TLS on the first three only and
// tls-replication set on one, discovered from one member: on the system's
// 7.x (CLUSTER SHARDS and NODES) and on 6.0 when the cache has it (CLUSTER
// NODES only; the TLS ports then come from CONFIG GET).
func TestClusterDeployment(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "redis-cli")
	t.Run("system", func(t *testing.T) { clusterDeployment(t, redistest.Binary(t), "optional") })
	t.Run("6.0", func(t *testing.T) {
		bin, ok := redistest.Binaries(t)["6.0"]
		if !ok {
			testenv.Skip(t, "no Redis 6.0 in .cache/redis (scripts/setup-redis-versions)")
		}
		clusterDeployment(t, bin, "no") // "optional" came with 6.2
	})
}

func clusterDeployment(t *testing.T, bin, authClients string) {
	start0 := time.Now()
	bins := map[string]string{}
	for _, b := range []string{"redis-auth-check", "redis-tls-check", "redis-exposure-check"} {
		bins[b] = bintest.Build(t, b)
	}
	hosts := []netns.HostSpec{{Name: "sensu", ID: 30}}
	for i := 0; i < 6; i++ {
		hosts = append(hosts, netns.HostSpec{Name: fmt.Sprintf("c%d", i+1), ID: 40 + i})
	}
	tp := netns.New(t, netns.Spec{Hosts: hosts})
	sensu := tp.Host("sensu")
	ca := certtest.NewCA(t, "cluster-ca")
	client := ca.Client(t, "sensu")
	var nodes []*node
	var addrs []string
	for i := 0; i < 6; i++ {
		h := tp.Host(fmt.Sprintf("c%d", i+1))
		ip := h.Addr4().String()
		lines := []string{"cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 2000",
			"cluster-announce-ip " + ip, "requirepass " + password, "masterauth " + password,
			"repl-diskless-sync-delay 0"}
		if i < 3 {
			cert := ca.Server(t, h.Name, certtest.Hosts(ip))
			lines = append(lines, "tls-port 6380", "tls-cert-file "+cert.ChainFile, "tls-key-file "+cert.KeyFile,
				"tls-ca-cert-file "+ca.RootFile, "tls-auth-clients "+authClients)
		}
		if i == 1 {
			lines = append(lines, "tls-replication yes") // the odd one out
		}
		n := startWith(t, bin, h, 6379, false, lines...)
		nodes = append(nodes, n)
		addrs = append(addrs, n.addr())
	}
	waitAll(t, sensu, nodes...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	args := append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "1", "--cluster-yes")
	if out, err := cli(ctx, sensu, addrs[0], args...); err != nil {
		t.Fatalf("cluster create: %v\n%s", err, out)
	}
	waitUntil(t, 15*time.Second, "six members that know each other, replicas online", func() bool {
		for _, n := range nodes {
			out, _ := cli(context.Background(), sensu, n.addr(), "cluster", "nodes")
			if strings.Count(out, "connected") != 6 || strings.Contains(out, "fail") {
				return false
			}
		}
		online := 0
		for _, n := range nodes {
			out, _ := cli(context.Background(), sensu, n.addr(), "role")
			online += strings.Count(out, "192.0.2.")
		}
		return online >= 6 // each master lists its replica, each replica its master
	})
	t.Logf("cluster up in %s", time.Since(start0).Round(time.Millisecond))
	flags := []string{"-H", "192.0.2.40", "-p", "6379", "--discover", "--discover-scope", "192.0.2.0/24"}

	t.Run("auth", func(t *testing.T) {
		r := run(t, sensu, bins["redis-auth-check"], flags...)
		if r.Code != 0 {
			t.Errorf("exit %d, want 0", r.Code)
		}
		if !strings.Contains(r.Stdout, "6 nodes discovered (3 masters, 3 replicas)") {
			t.Error("not six members")
		}
		wantLine(t, r.Stdout, "OK: 192.0.2.45:6379 (replica, cluster of 192.0.2.", "refused")
	})
	t.Run("tls", func(t *testing.T) {
		r := run(t, sensu, bins["redis-tls-check"], append(flags, "-t", "15s", "--ca-cert", ca.RootFile,
			"--cert", client.CertFile, "--key", client.KeyFile)...)
		wantLine(t, r.Stdout, "192.0.2.40:6379 (", "answers PING over TLS")
		wantLine(t, r.Stdout, "CRITICAL: 192.0.2.43:6379 (", "no TLS listener (tls-port 0)")
		wantLine(t, r.Stdout, "WARNING: tls-replication differs across nodes", "yes on 192.0.2.41:6379")
		wantLine(t, r.Stdout, "OK: tls-cluster no on every node")
	})
	t.Run("exposure-trusted", func(t *testing.T) {
		r := run(t, sensu, bins["redis-exposure-check"], "--target", "192.0.2.40:6379", "--discover",
			"--discover-scope", "192.0.2.0/24", "--expect", "reachable", "--attempt-timeout", "1s")
		// Every node's data and bus port, and the TLS port of three.
		if m := regexp.MustCompile(`attempts=(\d+)`).FindStringSubmatch(r.Stdout); m == nil || m[1] != "15" {
			t.Errorf("attempts %v, want 15", m)
		}
		wantLine(t, r.Stdout, "192.0.2.44:16379", "cluster-bus]")
		wantLine(t, r.Stdout, "192.0.2.42:6380", "tls]")
	})
	t.Logf("whole test %s", time.Since(start0).Round(time.Millisecond))
}
