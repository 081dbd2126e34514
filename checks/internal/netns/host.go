package netns

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
)

// Host is one namespace of a topology.
type Host struct {
	Name string
	// NS is the namespace name, as `ip netns exec` takes it.
	NS       string
	addrs    map[string][2]netip.Addr
	segments []string
}

// Addr4 is the host's IPv4 address on its first segment.
func (h *Host) Addr4() netip.Addr { return h.addrs[h.segments[0]][0] }

// Addr6 is the host's IPv6 address on its first segment.
func (h *Host) Addr6() netip.Addr { return h.addrs[h.segments[0]][1] }

// Addr4On is the host's IPv4 address on the named segment (invalid if it
// is not on it).
func (h *Host) Addr4On(segment string) netip.Addr { return h.addrs[segment][0] }

// Addr6On is the host's IPv6 address on the named segment.
func (h *Host) Addr6On(segment string) netip.Addr { return h.addrs[segment][1] }

// Wrap is the command prefix that runs a program inside the namespace, for
// redistest.Spec.Wrap and bintest.Run.
func (h *Host) Wrap() []string { return []string{"ip", "netns", "exec", h.NS} }

// Command returns a command that runs inside the namespace.
func (h *Host) Command(ctx context.Context, args ...string) *exec.Cmd {
	full := append(h.Wrap(), args...)
	return exec.CommandContext(ctx, full[0], full[1:]...)
}

// Exec runs a command inside the namespace and returns its combined output.
func (h *Host) Exec(ctx context.Context, args ...string) ([]byte, error) {
	return h.Command(ctx, args...).CombinedOutput()
}

// MustExec runs a command inside the namespace, bounded to 10 seconds, and
// fails the test if it fails.
func (h *Host) MustExec(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	out, err := h.Exec(ctx, args...)
	if err != nil {
		t.Fatalf("%s: %s: %v\n%s", h.Name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Start runs a background process inside the namespace; it is killed when
// the test ends.
func (h *Host) Start(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	cmd := h.Command(context.Background(), args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: starting %s: %v", h.Name, strings.Join(args, " "), err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	})
	return cmd
}

// Do runs fn on an OS thread that has entered the namespace. Sockets fn
// creates belong to the namespace for their whole life, whichever thread
// uses them later. The thread returns to its own namespace afterwards; if
// it cannot, it stays locked and ends with fn, so the switch cannot leak
// into other goroutines. Returning matters: a thread left locked is parked
// for good if it is the main thread, and /proc/net (the main thread's view)
// would then show the test namespace for the rest of the process.
func (h *Host) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		f, err := os.Open("/run/netns/" + h.NS)
		if err != nil {
			errc <- err
			return
		}
		err = unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
		f.Close()
		if err != nil {
			errc <- fmt.Errorf("entering %s: %w", h.NS, err)
			return
		}
		res := fn()
		// Back home before the caller hears of it: when this is the main
		// thread, /proc/self follows it, and the caller may look at once.
		// A thread that cannot return stays locked and dies with the
		// goroutine.
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- res
	}()
	return <-errc
}

// Listen opens a listener inside the namespace, closed when the test ends.
func (h *Host) Listen(t testing.TB, network, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	err := h.Do(func() (err error) {
		ln, err = net.Listen(network, addr)
		return err
	})
	if err != nil {
		t.Fatalf("%s: listen %s %s: %v", h.Name, network, addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// DialContext dials from inside the namespace. It has the signature of
// net.Dialer.DialContext, so code under test can take it as its dialer.
func (h *Host) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := h.Do(func() (err error) {
		var d net.Dialer
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// EtcFile puts a file at /etc/netns/NS/name: `ip netns exec` bind-mounts it
// over /etc/name for programs run in the namespace (hosts, resolv.conf, a
// ufw configuration). It is removed when the test ends.
func (h *Host) EtcFile(t testing.TB, name, content string) {
	t.Helper()
	dir := "/etc/netns/" + h.NS
	path := filepath.Join(dir, filepath.Clean("/"+name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Ping sends PING to addr from inside h, within a second for the
// connection and a second for the reply: what a client on that host gets.
func (h *Host) Ping(addr string) (resp.Reply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c, err := h.DialContext(ctx, "tcp", addr)
	if err != nil {
		return resp.Reply{}, err
	}
	defer c.Close()
	return resp.Ping(c, time.Now().Add(time.Second))
}
