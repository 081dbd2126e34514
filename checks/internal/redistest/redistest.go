// Package redistest starts real redis-server processes for tests: one per
// test, on a free loopback port, with a real config file, stopped and removed
// when the test ends.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// Server is a running redis-server.
type Server struct {
	Port       int
	ConfigFile string
	Dir        string
	PID        int
	Binary     string
	cmd        *exec.Cmd
	log        string
}

// Spec says how to start a server.
type Spec struct {
	// Binary is the redis-server to run (default: "redis-server" on PATH, or
	// $REDIS_SERVER).
	Binary string
	// Config holds redis.conf lines. "port", "dir", "daemonize", "logfile" and
	// "save" are filled in unless given. The literal {{PORT}} in a line is
	// replaced with the chosen port, {{DIR}} with the server's directory.
	Config []string
	// Args are extra command-line arguments after the config file path.
	Args []string
	// Wrap prefixes the command, e.g. {"ip", "netns", "exec", "ns1"}.
	Wrap []string
	// NoPort leaves the "port" line to Config (e.g. "port 0" with TLS).
	NoPort bool
	// ReadyAddr overrides where readiness is probed ("" = 127.0.0.1:port).
	// Servers without a plain loopback listener are waited for through their
	// log instead when ReadyAddr is "-".
	ReadyAddr string
	// Sentinel starts redis-server in sentinel mode.
	Sentinel bool
}

// Binary returns the redis-server to use, skipping the test when none.
func Binary(t testing.TB) string {
	t.Helper()
	if b := os.Getenv("REDIS_SERVER"); b != "" {
		return b
	}
	return testenv.RequireTool(t, "redis-server")
}

// FreePort returns a TCP port that was free on loopback a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Start runs a server and waits until it is ready.
func Start(t testing.TB, spec Spec) *Server {
	t.Helper()
	bin := spec.Binary
	if bin == "" {
		bin = Binary(t)
	}
	dir := t.TempDir()
	port := FreePort(t)
	lines := []string{}
	has := map[string]bool{}
	for _, l := range spec.Config {
		l = strings.ReplaceAll(l, "{{PORT}}", strconv.Itoa(port))
		l = strings.ReplaceAll(l, "{{DIR}}", dir)
		lines = append(lines, l)
		if f := strings.Fields(l); len(f) > 0 {
			has[strings.ToLower(f[0])] = true
		}
	}
	defaults := []string{}
	if !spec.NoPort && !has["port"] {
		defaults = append(defaults, fmt.Sprintf("port %d", port))
	}
	if !has["dir"] {
		defaults = append(defaults, "dir "+dir)
	}
	if !has["logfile"] {
		defaults = append(defaults, "logfile "+filepath.Join(dir, "redis.log"))
	}
	if !spec.Sentinel && !has["save"] {
		defaults = append(defaults, `save ""`)
	}
	defaults = append(defaults, "daemonize no")
	conf := filepath.Join(dir, "redis.conf")
	if spec.Sentinel {
		conf = filepath.Join(dir, "sentinel.conf")
	}
	body := strings.Join(append(defaults, lines...), "\n") + "\n"
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{}, spec.Wrap...)
	args = append(args, bin, conf)
	if spec.Sentinel {
		args = append(args, "--sentinel")
	}
	args = append(args, spec.Args...)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	s := &Server{Port: port, ConfigFile: conf, Dir: dir, PID: cmd.Process.Pid, Binary: bin, cmd: cmd,
		log: filepath.Join(dir, "redis.log")}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
		}
	})
	ready := spec.ReadyAddr
	if ready == "" {
		ready = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
	if err := s.waitReady(ready, exited); err != nil {
		b, _ := os.ReadFile(s.log)
		t.Fatalf("redis-server did not start: %v\nconfig:\n%s\nlog:\n%s", err, body, tail(string(b), 2000))
	}
	return s
}

// waitReady polls for the server, bounded to about 10 seconds.
func (s *Server) waitReady(addr string, exited <-chan error) error {
	for i := 0; i < 200; i++ {
		select {
		case err := <-exited:
			return fmt.Errorf("exited: %v", err)
		default:
		}
		if addr == "-" {
			// "ready to accept connections at <socket>" with port 0.
			if b, _ := os.ReadFile(s.log); strings.Contains(string(b), "eady to accept connections") ||
				strings.Contains(string(b), "Sentinel ID is") {
				return nil
			}
		} else if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			// A listening socket is there; the log line tells the server has
			// finished loading (it accepts before it is ready on some versions).
			if b, _ := os.ReadFile(s.log); strings.Contains(string(b), "Ready to accept") ||
				strings.Contains(string(b), "Sentinel ID is") || strings.Contains(string(b), "+monitor") {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not ready at %s after 10s", addr)
}

// Stop kills the server now (for tests of a stopped server).
func (s *Server) Stop() {
	_ = s.cmd.Process.Kill()
	for i := 0; i < 100; i++ {
		if err := s.cmd.Process.Signal(syscallZero); err != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Log returns the server's log so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

// Addr is 127.0.0.1:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// Version runs `redis-server --version` and returns "7.0.15"-style text.
func Version(t testing.TB, bin string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", bin, err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		for _, f := range strings.Fields(sc.Text()) {
			if v, ok := strings.CutPrefix(f, "v="); ok {
				return v
			}
		}
	}
	t.Fatalf("no version in %q", out)
	return ""
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
