package exposure

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/certtest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// These tests need no privileges: real servers and listeners on loopback.

func tlsConfig(t *testing.T, authClients string) []string {
	ca := certtest.NewCA(t, "exposure test CA")
	leaf := ca.Both(t, "redis.example", certtest.Hosts("redis.example", "localhost", "127.0.0.1", "::1", "192.0.2.10", "2001:db8:1::a"))
	return []string{"port 0", "tls-port {{PORT}}", "tls-cert-file " + leaf.CertFile, "tls-key-file " + leaf.KeyFile,
		"tls-ca-cert-file " + ca.RootFile, "tls-auth-clients " + authClients}
}

// listen serves each connection with fn on a loopback port until the test
// ends.
func listen(t *testing.T, fn func(net.Conn)) int { return testenv.Serve(t, fn).Port }

// silent holds a connection open without a word until the peer leaves.
func silent(c net.Conn) {
	defer c.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(c, 1<<20))
}

func scanOne(t *testing.T, port int, timeout time.Duration) Outcome {
	t.Helper()
	tg, err := ParseTarget(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := Scanner{Ports: []int{6379}, Timeout: timeout, Concurrency: 4}.Scan(ctx, []Target{tg})
	if len(r.Outcomes) != 1 {
		t.Fatalf("%d outcomes", len(r.Outcomes))
	}
	return r.Outcomes[0]
}

func TestLoopbackClasses(t *testing.T) {
	type server func(t *testing.T) int
	redis := func(cfg ...string) server {
		return func(t *testing.T) int { return redistest.Start(t, redistest.Spec{Config: cfg}).Port }
	}
	redisTLS := func(auth string) server {
		return func(t *testing.T) int {
			return redistest.Start(t, redistest.Spec{Config: tlsConfig(t, auth), NoPort: true, ReadyAddr: "-"}).Port
		}
	}
	for _, tc := range []struct {
		name   string
		start  server
		class  Class
		tls    bool
		detail string
	}{
		{"no password", redis(), OpenUnauthenticated, false, `answered PING with "+PONG"`},
		{"requirepass", redis("requirepass s3cret"), OpenAuthRequired, false, `answered PING with "-NOAUTH Authentication required."`},
		{"TLS only", redisTLS("no"), OpenUnauthenticated, true, `answered PING over TLS with "+PONG"`},
		{"TLS with client certificates", redisTLS("yes"), OpenClientCertRequired, true, ""},
		{"not Redis", func(t *testing.T) int {
			return listen(t, func(c net.Conn) { io.WriteString(c, "SSH-2.0-OpenSSH_9.2\r\n"); silent(c) })
		}, OpenNotRedis, false, `answered PING with "SSH-2.0-OpenSSH_9.2"`},
		{"accepts and closes", func(t *testing.T) int { return listen(t, func(c net.Conn) { c.Close() }) },
			OpenNotRedis, false, "accepted the connection, then closed it without answering PING or TLS"},
		{"accepts and never answers", func(t *testing.T) int { return listen(t, silent) },
			OpenSilent, false, "accepted the connection but did not answer PING"},
		{"nothing listening", func(t *testing.T) int { return redistest.FreePort(t) }, Refused, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := tc.start(t)
			start := time.Now()
			o := scanOne(t, port, 700*time.Millisecond)
			el := time.Since(start)
			if o.Class != tc.class || o.TLS != tc.tls || tc.detail != "" && o.Detail != tc.detail {
				t.Fatalf("got %v tls=%v %q; want %v tls=%v %q", o.Class, o.TLS, o.Detail, tc.class, tc.tls, tc.detail)
			}
			// connect + conversation: never more than two timeouts.
			if el > 1500*time.Millisecond {
				t.Fatalf("took %v with a 700ms timeout", el)
			}
		})
	}
}

// A name is resolved once and every address it has is tried.
func TestNameResolvedToEveryAddress(t *testing.T) {
	port := redistest.FreePort(t)
	calls := 0
	resolve := func(ctx context.Context, host string) ([]netip.Addr, error) {
		calls++
		if host != "redis.example" {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return []netip.Addr{netip.MustParseAddr("::1"), netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::ffff:127.0.0.1")}, nil
	}
	var targets []Target
	for _, s := range []string{"redis.example:" + strconv.Itoa(port), "redis.example:" + strconv.Itoa(port), "gone.example"} {
		tg, err := ParseTarget(s)
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, tg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r := Scanner{Ports: []int{6379}, Timeout: time.Second, Concurrency: 8, Resolve: resolve}.Scan(ctx, targets)
	if calls != 2 {
		t.Fatalf("%d lookups for 2 distinct names", calls)
	}
	got := map[string]Class{}
	for _, o := range r.Outcomes {
		got[o.Attempt.String()+" "+o.Target] = o.Class
	}
	p := strconv.Itoa(port)
	// ::1 may be unavailable (no IPv6 loopback): then the route lookup fails
	// locally, which is UNKNOWN, never refused.
	v6 := got["[::1]:"+p+" redis.example:"+p]
	if got["127.0.0.1:"+p+" redis.example:"+p] != Refused || (v6 != Refused && v6 != LocalError) ||
		got["gone.example gone.example"] != LocalError || len(r.Outcomes) != 5 {
		t.Fatalf("outcomes: %v", got)
	}
	res := Judge(Options{Expect: ExpectUnreachable}, r)
	res.Finalize()
	if res.State.ExitCode() != 3 {
		t.Fatalf("a name that does not resolve must make the check UNKNOWN, got %v: %s", res.State, res.Summary)
	}
}

// The check's deadline cuts attempts short: they are not-finished, never
// filtered.
func TestDeadlineIsNotFiltered(t *testing.T) {
	port := listen(t, silent)
	tg, _ := ParseTarget("127.0.0.1:" + strconv.Itoa(port))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	// The listener accepts, so the attempt is open-silent if anything; with
	// a routeless dialer that never connects it must be not-finished.
	hang := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if network == "udp" {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
	}
	r := Scanner{Ports: []int{6379}, Timeout: 5 * time.Second, Concurrency: 1, Dial: hang}.Scan(ctx, []Target{tg, tg, tg})
	if el := time.Since(start); el > time.Second {
		t.Fatalf("took %v past a 200ms deadline", el)
	}
	for _, o := range r.Outcomes {
		if o.Class != NotFinished {
			t.Fatalf("%v: %v (%s)", o.Attempt, o.Class, o.Detail)
		}
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("deadline did not pass")
	}
}

func freePort(t *testing.T) int { return redistest.FreePort(t) }

// A timeout that comes before the attempt's own timeout has run out (the
// socket deadline racing the check's context) is not-finished, never
// filtered: calling it filtered would turn "not tried" into OK.
func TestEarlyTimeoutIsNotFiltered(t *testing.T) {
	early := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if network == "udp" {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
		return nil, &net.OpError{Op: "dial", Net: network, Err: context.DeadlineExceeded}
	}
	tg, _ := ParseTarget("127.0.0.1:6379")
	r := Scanner{Ports: []int{6379}, Timeout: 5 * time.Second, Concurrency: 1, Dial: early}.Scan(context.Background(), []Target{tg})
	if c := r.Outcomes[0].Class; c != NotFinished {
		t.Fatalf("class %v, want not-finished", c)
	}
}
