package discovere2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/netns"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
)

const password = "discover-test-pw"

func TestMain(m *testing.M) {
	code := m.Run()
	bintest.Cleanup()
	os.Exit(code)
}

// node is one redis-server in its own namespace.
type node struct {
	h    *netns.Host
	port int
	dir  string
}

func (n *node) addr() string {
	return net.JoinHostPort(n.h.Addr4().String(), strconv.Itoa(n.port))
}

func (n *node) log() string {
	b, _ := os.ReadFile(filepath.Join(n.dir, "log"))
	s := string(b)
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return s
}

// start writes the config and starts the server in h's namespace (killed
// when the test ends); it does not wait.
func start(t *testing.T, h *netns.Host, port int, sentinel bool, lines ...string) *node {
	t.Helper()
	return startWith(t, redistest.Binary(t), h, port, sentinel, lines...)
}

// startWith is start with a given redis-server binary.
func startWith(t *testing.T, bin string, h *netns.Host, port int, sentinel bool, lines ...string) *node {
	t.Helper()
	dir := t.TempDir()
	base := []string{
		"port " + strconv.Itoa(port), "dir " + dir, "logfile " + filepath.Join(dir, "log"),
		"daemonize no", "protected-mode no",
	}
	name := "redis.conf"
	args := []string{bin}
	if sentinel {
		name = "sentinel.conf"
	} else {
		base = append(base, `save ""`, "appendonly no")
	}
	conf := filepath.Join(dir, name)
	if err := os.WriteFile(conf, []byte(strings.Join(append(base, lines...), "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args = append(args, conf)
	if sentinel {
		args = append(args, "--sentinel")
	}
	h.Start(t, args...)
	return &node{h: h, port: port, dir: dir}
}

// cli runs redis-cli from h against addr and returns its output.
func cli(ctx context.Context, h *netns.Host, addr string, args ...string) (string, error) {
	host, port, _ := net.SplitHostPort(addr)
	full := append([]string{"redis-cli", "--no-auth-warning", "-a", password, "-h", host, "-p", port}, args...)
	out, err := h.Exec(ctx, full...)
	return string(out), err
}

// waitUntil polls cond every 100 ms for at most limit.
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("not within %s: %s", limit, what)
}

// waitAll waits for every node to answer PING (in parallel, bounded).
func waitAll(t *testing.T, from *netns.Host, nodes ...*node) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(nodes))
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				out, err := cli(ctx, from, n.addr(), "ping")
				cancel()
				if err == nil && strings.Contains(out, "PONG") {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
			errs[i] = fmt.Errorf("%s did not answer PING in 10s:\n%s", n.addr(), n.log())
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// run runs a binary in h's namespace with the password in its environment.
func run(t *testing.T, h *netns.Host, bin string, args ...string) bintest.Result {
	t.Helper()
	argv := append(append(h.Wrap(), bin), args...)
	r := bintest.Run(t, 30*time.Second, []string{"REDIS_PASSWORD=" + password}, argv...)
	t.Logf("%s (exit %d, %s):\n%s", filepath.Base(bin), r.Code, r.Elapsed.Round(time.Millisecond), r.Stdout)
	return r
}

// lineWith returns the first output line holding every part, or "".
func lineWith(out string, parts ...string) string {
	for _, l := range strings.Split(out, "\n") {
		ok := true
		for _, p := range parts {
			if !strings.Contains(l, p) {
				ok = false
				break
			}
		}
		if ok {
			return l
		}
	}
	return ""
}

func wantLine(t *testing.T, out string, parts ...string) {
	t.Helper()
	if lineWith(out, parts...) == "" {
		t.Errorf("no line with %q", parts)
	}
}
