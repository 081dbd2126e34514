package sensue2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
)

// DirEnv names the directory holding sensu-backend, sensu-agent and
// sensuctl.
const DirEnv = "SENSU_GO_DIR"

const adminPassword = "P@ssw0rd!e2e"

// cluster is a backend and its agents, all on loopback, all killed on
// cleanup.
type cluster struct {
	t       *testing.T
	bin     string // the Sensu binaries' directory
	dir     string
	apiURL  string
	agentWS string
	// metricsDir receives one file per event the metrics handler gets.
	metricsDir string
	mu         sync.Mutex
	logs       map[string]*bytes.Buffer
}

// syncBuffer-free logging: each process writes to its own buffer under mu.
type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (c *cluster) log(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logs[name].String()
}

// start runs a Sensu process in its own process group, killed with the
// whole group at cleanup (even when the test fails).
func (c *cluster) start(name string, env []string, args ...string) {
	c.t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	c.mu.Lock()
	b := &bytes.Buffer{}
	c.logs[name] = b
	c.mu.Unlock()
	cmd.Stdout = lockedWriter{&c.mu, b}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("%s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	c.t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			c.t.Errorf("%s did not exit after SIGKILL", name)
		}
		if c.t.Failed() {
			c.t.Logf("--- %s log (tail):\n%s", name, tail(c.log(name), 3000))
		}
	})
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func freePort(t *testing.T) int { return redistest.FreePort(t) }

// newCluster starts a backend and initialises it.
func newCluster(t *testing.T, bin string) *cluster {
	c := &cluster{t: t, bin: bin, dir: t.TempDir(), logs: map[string]*bytes.Buffer{}}
	api, agent, dash, etcdC, etcdP := freePort(t), freePort(t), freePort(t), freePort(t), freePort(t)
	c.apiURL = fmt.Sprintf("http://127.0.0.1:%d", api)
	c.agentWS = fmt.Sprintf("ws://127.0.0.1:%d", agent)
	client := fmt.Sprintf("http://127.0.0.1:%d", etcdC)
	peer := fmt.Sprintf("http://127.0.0.1:%d", etcdP)
	env := []string{"SENSU_BACKEND_CLUSTER_ADMIN_USERNAME=admin", "SENSU_BACKEND_CLUSTER_ADMIN_PASSWORD=" + adminPassword}
	c.start("backend", env, filepath.Join(bin, "sensu-backend"), "start",
		"--state-dir", filepath.Join(c.dir, "state"), "--cache-dir", filepath.Join(c.dir, "cache"),
		"--api-listen-address", fmt.Sprintf("127.0.0.1:%d", api), "--api-url", c.apiURL,
		"--agent-host", "127.0.0.1", "--agent-port", strconv.Itoa(agent),
		"--dashboard-host", "127.0.0.1", "--dashboard-port", strconv.Itoa(dash),
		"--etcd-listen-client-urls", client, "--etcd-advertise-client-urls", client,
		"--etcd-listen-peer-urls", peer, "--etcd-initial-advertise-peer-urls", peer,
		"--etcd-initial-cluster", "default="+peer, "--etcd-name", "default",
		"--log-level", "warn")
	c.run(env, 60*time.Second, filepath.Join(bin, "sensu-backend"), "init", "--etcd-client-urls", client, "--wait", "--timeout", "50")
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := c.tryRun(nil, 20*time.Second, filepath.Join(bin, "sensuctl"), "--config-dir", filepath.Join(c.dir, "ctl"),
			"configure", "-n", "--username", "admin", "--password", adminPassword, "--url", c.apiURL)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sensuctl configure: %v", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return c
}

// agent starts an agent with the given subscriptions and annotations.
func (c *cluster) agent(name string, subs []string, annotations map[string]string) {
	args := []string{filepath.Join(c.bin, "sensu-agent"), "start", "--backend-url", c.agentWS, "--name", name,
		"--subscriptions", strings.Join(subs, ","), "--deregister", "--cache-dir", filepath.Join(c.dir, name),
		"--disable-sockets", "--statsd-disable", "--disable-api", "--log-level", "warn", "--keepalive-interval", "5"}
	for k, v := range annotations {
		args = append(args, "--annotations", k+"="+v)
	}
	c.start(name, nil, args...)
}

func (c *cluster) run(env []string, limit time.Duration, argv ...string) string {
	c.t.Helper()
	out, err := c.tryRun(env, limit, argv...)
	if err != nil {
		c.t.Fatalf("%s: %v\n%s", strings.Join(argv[:2], " "), err, out)
	}
	return out
}

func (c *cluster) tryRun(env []string, limit time.Duration, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// ctl runs sensuctl against the cluster.
func (c *cluster) ctl(args ...string) string {
	c.t.Helper()
	return c.run(nil, 30*time.Second, append([]string{filepath.Join(c.bin, "sensuctl"), "--config-dir", filepath.Join(c.dir, "ctl")}, args...)...)
}

// event is the part of a Sensu event the test reads.
type event struct {
	Entity struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	} `json:"entity"`
	Check struct {
		Executed int64  `json:"executed"`
		Status   int    `json:"status"`
		Output   string `json:"output"`
		Metadata struct {
			Name        string            `json:"name"`
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	} `json:"check"`
	Metrics *struct {
		Points []struct {
			Name  string  `json:"name"`
			Value float64 `json:"value"`
		} `json:"points"`
	} `json:"metrics"`
}

func (e event) point(name string) (float64, bool) {
	if e.Metrics == nil {
		return 0, false
	}
	for _, p := range e.Metrics.Points {
		if p.Name == name {
			return p.Value, true
		}
	}
	return 0, false
}

// waitEvent waits for the event of check on entity executed at or after
// since (Unix seconds).
func (c *cluster) waitEvent(entity, check string, since int64, limit time.Duration) event {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	var last string
	for time.Now().Before(deadline) {
		out, err := c.tryRun(nil, 20*time.Second, filepath.Join(c.bin, "sensuctl"), "--config-dir", filepath.Join(c.dir, "ctl"),
			"event", "info", entity, check, "--format", "json")
		last = out
		if err == nil {
			var e event
			if json.Unmarshal([]byte(out), &e) == nil && e.Check.Executed >= since {
				return e
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	c.t.Fatalf("no event %s/%s executed since %d within %v; last answer:\n%s", entity, check, since, limit, tail(last, 1500))
	return event{}
}

// silentListener accepts connections and never answers: a Redis that
// hangs.
func silentListener(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// metricEvent waits for the newest event of check on entity that reached
// the metrics handler, and returns it.
func (c *cluster) metricEvent(entity, check string, limit time.Duration) event {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(c.metricsDir, "*"))
		var best event
		found := false
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			var e event
			if json.Unmarshal(b, &e) != nil || e.Entity.Metadata.Name != entity || e.Check.Metadata.Name != check {
				continue
			}
			if !found || e.Check.Executed >= best.Check.Executed {
				best, found = e, true
			}
		}
		if found {
			return best
		}
		time.Sleep(300 * time.Millisecond)
	}
	c.t.Fatalf("no metrics of %s/%s reached the handler within %v", entity, check, limit)
	return event{}
}
