package netns

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// PrivateEtc gives the namespace its own copy of each named directory of
// /etc (e.g. "ufw", "default", "firewalld"): `ip netns exec` bind-mounts
// /etc/netns/NS/<dir> over /etc/<dir>, so a firewall front end run in the
// namespace reads and writes the copy and the host's configuration is
// never touched. Copies are made once and removed when the test ends.
func (h *Host) PrivateEtc(t testing.TB, dirs ...string) {
	t.Helper()
	root := "/etc/netns/" + h.NS
	for _, d := range dirs {
		d = filepath.Clean("/" + d)[1:]
		if d == "" || strings.Contains(d, "/") {
			t.Fatalf("%s: PrivateEtc wants a top-level /etc directory, got %q", h.Name, d)
		}
		dst := filepath.Join(root, d)
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(root) })
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		out, err := exec.CommandContext(ctx, "cp", "-a", filepath.Join("/etc", d), dst).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("%s: copying /etc/%s: %v\n%s", h.Name, d, err, out)
		}
	}
}

// UFW runs `ufw ARGS…` inside the namespace, against a private copy of
// /etc/ufw and /etc/default (made on first use). It fails the test when
// ufw fails and returns its output.
func (h *Host) UFW(t testing.TB, args ...string) string {
	t.Helper()
	testenv.RequireTool(t, "ufw")
	h.PrivateEtc(t, "ufw", "default")
	return h.MustExec(t, append([]string{"ufw"}, args...)...)
}

// Firewalld is a firewalld daemon running inside one namespace, on a
// private D-Bus system bus (PID 1 here is not systemd and the host's bus,
// if any, must not see it). Its configuration is a private copy of
// /etc/firewalld, so --permanent changes stay in the namespace.
type Firewalld struct {
	h       *Host
	busAddr string
	log     string
}

// firewalldStart bounds how long firewalld may take to answer --state
// (about 1.5 s on two cores; the python start-up dominates).
const firewalldStart = 20 * time.Second

// StartFirewalld starts a private dbus-daemon and firewalld (nftables back
// end, as Debian ships it) inside the namespace and waits until firewalld
// answers. Both are killed when the test ends, before the namespace goes.
func (h *Host) StartFirewalld(t testing.TB) *Firewalld {
	t.Helper()
	testenv.RequireTool(t, "firewalld", "firewall-cmd", "dbus-daemon")
	h.PrivateEtc(t, "firewalld")
	// A short directory of its own: a unix socket path must fit in 108 bytes.
	dir, err := os.MkdirTemp("", "fwd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bus := filepath.Join(dir, "bus")
	conf := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(conf, []byte(busConfig(bus)), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &Firewalld{h: h, busAddr: "unix:path=" + bus, log: filepath.Join(dir, "firewalld.log")}
	h.startLogged(t, filepath.Join(dir, "dbus.log"), "dbus-daemon", "--config-file="+conf, "--nofork", "--nopidfile")
	if err := waitFor(5*time.Second, func() bool { _, err := os.Stat(bus); return err == nil }); err != nil {
		t.Fatalf("%s: private dbus-daemon did not come up: %v", h.Name, err)
	}
	h.startLogged(t, f.log, "env", "DBUS_SYSTEM_BUS_ADDRESS="+f.busAddr,
		"firewalld", "--nofork", "--nopid", "--log-target", "console")
	err = waitFor(firewalldStart, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := f.command(ctx, "--state").CombinedOutput()
		return err == nil
	})
	if err != nil {
		t.Fatalf("%s: firewalld did not answer: %v\n%s", h.Name, err, f.Log())
	}
	return f
}

// Cmd runs `firewall-cmd ARGS…` against this firewalld, fails the test when
// it fails, and returns its output.
func (f *Firewalld) Cmd(t testing.TB, args ...string) string {
	t.Helper()
	// --reload rebuilds the whole ruleset: give it more than a rule change.
	ctx, cancel := context.WithTimeout(context.Background(), 3*setupTimeout)
	defer cancel()
	out, err := f.command(ctx, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: firewall-cmd %s: %v\n%s\nfirewalld log:\n%s", f.h.Name, strings.Join(args, " "), err, out, f.Log())
	}
	return string(out)
}

// BusAddr is the private bus's address, for DBUS_SYSTEM_BUS_ADDRESS.
func (f *Firewalld) BusAddr() string { return f.busAddr }

// EtcDir is the namespace's private copy of /etc/firewalld, as seen from
// outside the namespace.
func (f *Firewalld) EtcDir() string { return filepath.Join("/etc/netns", f.h.NS, "firewalld") }

// Log is what firewalld printed so far.
func (f *Firewalld) Log() string {
	b, _ := os.ReadFile(f.log)
	return string(b)
}

func (f *Firewalld) command(ctx context.Context, args ...string) *exec.Cmd {
	return f.h.Command(ctx, append([]string{"env", "DBUS_SYSTEM_BUS_ADDRESS=" + f.busAddr, "firewall-cmd"}, args...)...)
}

// startLogged is Start with stdout and stderr sent to a file.
func (h *Host) startLogged(t testing.TB, logFile string, args ...string) {
	t.Helper()
	lf, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := h.Command(context.Background(), args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		t.Fatalf("%s: starting %s: %v", h.Name, strings.Join(args, " "), err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); lf.Close(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	})
}

// waitFor polls cond every 50 ms until it holds or limit passes.
func waitFor(limit time.Duration, cond func() bool) error {
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		if cond() {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %v", limit)
}

// busConfig is a system bus that lets root own and call anything: the
// bus only ever carries one firewalld and the tests' firewall-cmd calls.
func busConfig(socket string) string {
	return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=` + socket + `</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`
}
