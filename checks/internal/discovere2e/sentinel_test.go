package discovere2e

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/certtest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/netns"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

const scope = "192.0.2.0/25"

// TestSentinelDeployment: one master, replicas (one with TLS, one down,
// one announcing an address outside the scope), three Sentinels (one
// without requirepass, one without auth-pass), one Sentinel exposed to
// an untrusted network; then a replica joins and the next run checks it.
func TestSentinelDeployment(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "nft", "redis-cli")
	start0 := time.Now()
	bins := map[string]string{}
	for _, b := range []string{"redis-auth-check", "redis-tls-check", "redis-exposure-check"} {
		bins[b] = bintest.Build(t, b)
	}
	hosts := []netns.HostSpec{
		{Name: "router", On: []string{"redis", "untrusted"}, Router: true, ID: 1},
		{Name: "sensu", ID: 30}, {Name: "untrusted", On: []string{"untrusted"}, ID: 66},
		{Name: "m1", ID: 10}, {Name: "r1", ID: 11}, {Name: "r2", ID: 12}, {Name: "r3", ID: 13}, {Name: "r4", ID: 14},
		{Name: "s1", ID: 20}, {Name: "s2", ID: 21}, {Name: "s3", ID: 22},
	}
	t.Logf("binaries at %s", time.Since(start0).Round(time.Millisecond))
	tp := netns.New(t, netns.Spec{Segments: []netns.Segment{{Name: "redis"}, {Name: "untrusted"}}, Hosts: hosts})
	sensu, untrusted := tp.Host("sensu"), tp.Host("untrusted")
	// Only Sentinel s1 is reachable from the untrusted network.
	nftRules(t, tp.Host("router"), `table inet f {
	chain gate {
		type filter hook forward priority 0; policy accept;
		iifname "eth1" ip daddr 192.0.2.20 tcp dport 26379 accept
		iifname "eth1" ct state new drop
	}
}`)
	ca := certtest.NewCA(t, "discover-ca")
	r1cert := ca.Server(t, "r1", certtest.Hosts("192.0.2.11"))
	client := ca.Client(t, "sensu")
	auth := []string{"requirepass " + password, "masterauth " + password}
	replica := func(ip string) []string {
		return append([]string{"replicaof 192.0.2.10 6379", "replica-announce-ip " + ip}, auth...)
	}
	// No diskless-sync delay: ROLE lists a replica only once it is online.
	m1 := start(t, tp.Host("m1"), 6379, false, append(auth, "repl-diskless-sync-delay 0")...)
	r1 := start(t, tp.Host("r1"), 6379, false, append(replica("192.0.2.11"),
		"tls-port 6380", "tls-cert-file "+r1cert.ChainFile, "tls-key-file "+r1cert.KeyFile,
		"tls-ca-cert-file "+ca.RootFile, "tls-auth-clients optional")...)
	r2 := start(t, tp.Host("r2"), 6379, false, replica("192.0.2.12")...)
	// r3 announces an address outside the scope: listed, never probed.
	r3 := start(t, tp.Host("r3"), 6379, false, replica("192.0.2.200")...)
	waitAll(t, sensu, m1, r1, r2, r3)
	t.Logf("data nodes up at %s", time.Since(start0).Round(time.Millisecond))
	waitUntil(t, 10*time.Second, "three replicas online", func() bool {
		out, _ := cli(context.Background(), sensu, m1.addr(), "role")
		return strings.Contains(out, "192.0.2.11") && strings.Contains(out, "192.0.2.12") && strings.Contains(out, "192.0.2.200")
	})
	sentinel := func(ip string, requirepass, authPass bool) []string {
		l := []string{"sentinel announce-ip " + ip, "sentinel monitor mymaster 192.0.2.10 6379 2",
			"sentinel down-after-milliseconds mymaster 1000"}
		if authPass {
			l = append(l, "sentinel auth-pass mymaster "+password)
		}
		if requirepass {
			l = append(l, "requirepass "+password)
		}
		return l
	}
	s1 := start(t, tp.Host("s1"), 26379, true, sentinel("192.0.2.20", true, true)...)
	s2 := start(t, tp.Host("s2"), 26379, true, sentinel("192.0.2.21", false, true)...)
	s3 := start(t, tp.Host("s3"), 26379, true, sentinel("192.0.2.22", true, false)...)
	waitAll(t, sensu, s1, s2, s3)
	t.Logf("sentinels up at %s", time.Since(start0).Round(time.Millisecond))
	waitUntil(t, 15*time.Second, "s1 knows the replicas and s2", func() bool {
		reps, _ := cli(context.Background(), sensu, s1.addr(), "sentinel", "replicas", "mymaster")
		sents, _ := cli(context.Background(), sensu, s1.addr(), "sentinel", "sentinels", "mymaster")
		return strings.Contains(reps, "192.0.2.12") && strings.Contains(reps, "192.0.2.200") && strings.Contains(sents, "192.0.2.21")
	})
	// r2 goes down: Sentinel keeps listing it.
	stop(t, r2)
	t.Logf("deployment up in %s", time.Since(start0).Round(time.Millisecond))

	flags := []string{"-H", "192.0.2.20", "-p", "26379", "--discover", "--discover-scope", scope}

	t.Run("auth", func(t *testing.T) {
		r := run(t, sensu, bins["redis-auth-check"], flags...)
		if r.Code != 2 {
			t.Errorf("exit %d, want 2", r.Code)
		}
		wantLine(t, r.Stdout, "CRITICAL: 192.0.2.21:26379 (sentinel)", "without credentials")
		wantLine(t, r.Stdout, "UNKNOWN: 192.0.2.12:6379 (replica")
		wantLine(t, r.Stdout, "not checked: 192.0.2.200:6379", "outside --discover-scope")
		wantLine(t, r.Stdout, "OK: 192.0.2.10:6379 (master mymaster)", "refused")
		wantLine(t, r.Stdout, "OK: 192.0.2.11:6379 (replica", "refused")
		wantLine(t, r.Stdout, "OK: 192.0.2.20:26379 (sentinel)", "refused")
		if strings.Contains(r.Stdout, "192.0.2.200:6379 (") {
			t.Error("the out-of-scope replica was checked")
		}
	})
	t.Run("auth-pass", func(t *testing.T) {
		// s3 has no auth-pass: it sees the master down and publishes no
		// hello, so only a run seeded with it finds it.
		r := run(t, sensu, bins["redis-auth-check"], "-H", "192.0.2.22", "-p", "26379", "--discover", "--discover-scope", scope)
		wantLine(t, r.Stdout, "CRITICAL: 192.0.2.22:26379 (sentinel)", "sentinel auth-pass mymaster")
		if lineWith(r.Stdout, "192.0.2.11:6379 (replica") == "" { // found through the master's ROLE
			out, _ := cli(context.Background(), sensu, m1.addr(), "role")
			t.Errorf("replica r1 not found through the master; its ROLE:\n%s\nm1:\n%s\nr1:\n%s", out, m1.log(), r1.log())
		}
	})
	t.Run("tls", func(t *testing.T) {
		r := run(t, sensu, bins["redis-tls-check"], append(flags, "-t", "15s", "--ca-cert", ca.RootFile,
			"--cert", client.CertFile, "--key", client.KeyFile)...)
		if r.Code != 2 {
			t.Errorf("exit %d, want 2", r.Code)
		}
		wantLine(t, r.Stdout, "192.0.2.11:6379 (replica", "answers PING over TLS")
		wantLine(t, r.Stdout, "CRITICAL: 192.0.2.11:6379 (replica", "6379")
		wantLine(t, r.Stdout, "CRITICAL: 192.0.2.10:6379 (master mymaster): no TLS listener")
		wantLine(t, r.Stdout, "CRITICAL: 192.0.2.20:26379 (sentinel): Sentinel answers in plaintext")
		wantLine(t, r.Stdout, "UNKNOWN: 192.0.2.12:6379 (replica")
	})
	t.Run("exposure-untrusted", func(t *testing.T) {
		r := run(t, untrusted, bins["redis-exposure-check"], "--target", "192.0.2.20:26379", "--discover",
			"--discover-scope", scope, "--attempt-timeout", "500ms")
		if r.Code != 2 {
			t.Errorf("exit %d, want 2", r.Code)
		}
		wantLine(t, r.Stdout, "CRITICAL: 192.0.2.20:26379 open-auth-required", "(sentinel) sentinel]")
		m := regexp.MustCompile(`filtered=(\d+)`).FindStringSubmatch(r.Stdout)
		if m == nil {
			t.Fatal("no filtered count")
		}
		// m1, r1, r2, s2: every port but s1's is filtered (r1's TLS port
		// is not known from here: CONFIG cannot be read through the filter).
		if n, _ := strconv.Atoi(m[1]); n < 4 {
			t.Errorf("%d filtered attempts, want at least 4", n)
		}
	})

	t.Run("node-joins", func(t *testing.T) {
		r4 := start(t, tp.Host("r4"), 6379, false, replica("192.0.2.14")...)
		waitAll(t, sensu, r4)
		waitUntil(t, 10*time.Second, "r4 online", func() bool {
			out, _ := cli(context.Background(), sensu, m1.addr(), "role")
			return strings.Contains(out, "192.0.2.14")
		})
		events := eventSink(t, sensu)
		r := run(t, sensu, bins["redis-auth-check"], append(flags, "--node-events", events.url)...)
		wantLine(t, r.Stdout, "OK: 192.0.2.14:6379 (replica", "refused")
		got := events.wait(t, 6)
		if got["redis-192.0.2.14-6379"] != 0 || got["redis-192.0.2.12-6379"] != 3 || got["redis-192.0.2.21-26379"] != 2 {
			t.Errorf("node events by entity: %v", got)
		}
	})
	t.Logf("whole test %s", time.Since(start0).Round(time.Millisecond))
}

func nftRules(t *testing.T, h *netns.Host, rules string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := h.Command(ctx, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
}

func stop(t *testing.T, n *node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = cli(ctx, n.h, n.addr(), "shutdown", "nosave")
	waitUntil(t, 5*time.Second, n.addr()+" down", func() bool {
		out, err := cli(ctx, n.h, n.addr(), "ping")
		return err != nil || !strings.Contains(out, "PONG")
	})
}

// sink receives node events as the agent's API would: POST /events.
type sink struct {
	url string
	mu  sync.Mutex
	got map[string]int // proxy entity → status
}

func eventSink(t *testing.T, h *netns.Host) *sink {
	t.Helper()
	ln := h.Listen(t, "tcp", h.Addr4().String()+":0")
	s := &sink{url: "http://" + ln.Addr().String() + "/events", got: map[string]int{}}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			Check struct {
				Status          int    `json:"status"`
				ProxyEntityName string `json:"proxy_entity_name"`
			} `json:"check"`
		}
		if r.URL.Path != "/events" || json.NewDecoder(r.Body).Decode(&ev) != nil {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.got[ev.Check.ProxyEntityName] = ev.Check.Status
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *sink) wait(t *testing.T, n int) map[string]int {
	t.Helper()
	waitUntil(t, 5*time.Second, strconv.Itoa(n)+" node events", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.got) >= n
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.got {
		out[k] = v
	}
	return out
}
