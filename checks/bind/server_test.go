package bind

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/certtest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

func TestMain(m *testing.M) { bintest.Main(m) }

// run executes the built binary against a server and returns its output
// with the server's port and directory replaced by PORT and DIR.
func run(t *testing.T, s *redistest.Server, env []string, args ...string) (string, int) {
	t.Helper()
	bin := bintest.Build(t, Name)
	argv := append([]string{bin, "--port", strconv.Itoa(s.Port), "--timeout", "5s"}, args...)
	r := bintest.Run(t, 10*time.Second, env, argv...)
	if r.Stderr != "" {
		t.Fatalf("stderr must stay quiet, got %q", r.Stderr)
	}
	out := strings.ReplaceAll(r.Stdout, s.Dir, "DIR")
	out = strings.ReplaceAll(out, strconv.Itoa(s.Port), "PORT")
	return out, r.Code
}

func wantLines(t *testing.T, out string, code, wantCode int, lines ...string) {
	t.Helper()
	if code != wantCode {
		t.Fatalf("exit %d, want %d\n%s", code, wantCode, out)
	}
	for _, l := range lines {
		if !strings.Contains(out, l) {
			t.Fatalf("output lacks %q:\n%s", l, out)
		}
	}
}

func TestServerBindAllIPv4(t *testing.T) {
	s := redistest.Start(t, redistest.Spec{Config: []string{"bind 0.0.0.0"}})
	out, code := run(t, s, nil, "--config-file", s.ConfigFile)
	want := "redis-bind-check CRITICAL: running config (DIR/redis.conf:6) binds 0.0.0.0: every IPv4 interface (and 1 more)\n" +
		"CRITICAL: running config (DIR/redis.conf:6) binds 0.0.0.0: every IPv4 interface\n" +
		"CRITICAL: kernel: listening on 0.0.0.0:PORT (every IPv4 interface)\n" +
		"OK: server redis 7.0.15 at 127.0.0.1:PORT answered\n" +
		"OK: config file DIR/redis.conf read\n"
	if code != 2 || !strings.HasPrefix(out, want) {
		t.Fatalf("exit %d\n%s\nwant prefix\n%s", code, out, want)
	}
}

func TestServerBindStarAndOptionalIPv6Wildcard(t *testing.T) {
	s := redistest.Start(t, redistest.Spec{Config: []string{"bind * -::*"}})
	out, code := run(t, s, nil)
	wantLines(t, out, code, 2, "binds *: every IPv4 interface",
		"binds -::*: every IPv6 interface (where available)",
		"kernel: listening on 0.0.0.0:PORT")
}

func TestServerLoopbackOnlyIsOK(t *testing.T) {
	s := redistest.Start(t, redistest.Spec{Config: []string{"bind 127.0.0.1 -::1"}})
	out, code := run(t, s, nil)
	wantLines(t, out, code, 0, "redis-bind-check OK: no Redis listener is bound to a wildcard address\n",
		"OK: running config (DIR/redis.conf:6) binds 127.0.0.1 (loopback)", "OK: kernel: listening on 127.0.0.1:PORT (loopback)",
		"OK: config file DIR/redis.conf read")
}

func TestServerNoBindLine(t *testing.T) {
	s := redistest.Start(t, redistest.Spec{})
	v := ParseVersion(redistest.Version(t, s.Binary))
	out, code := run(t, s, nil)
	want := "kernel: listening on 0.0.0.0:PORT"
	if v.Major >= 7 {
		wantLines(t, out, code, 2, `running config binds *: every IPv4 interface`, want)
	} else {
		wantLines(t, out, code, 2, "empty bind value: Redis 6 listens on all interfaces", want)
	}
}

func TestServerIncludeOverridesBind(t *testing.T) {
	dir := t.TempDir()
	inc := filepath.Join(dir, "90-public.conf")
	if err := os.WriteFile(inc, []byte("# later file wins\nbind 0.0.0.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := redistest.Start(t, redistest.Spec{Config: []string{"bind 127.0.0.1", "include " + filepath.Join(dir, "*.conf")}})
	out, code := run(t, s, nil)
	wantLines(t, out, code, 2, "running config ("+inc+":2) binds 0.0.0.0", "(with 1 included files)")
}

func TestServerRenamedConfigFallsBackToFileAndSockets(t *testing.T) {
	s := redistest.Start(t, redistest.Spec{Config: []string{"bind 127.0.0.1", `rename-command CONFIG ""`}})
	out, code := run(t, s, nil)
	wantLines(t, out, code, 0, "CONFIG is renamed or disabled", "config file DIR/redis.conf:", "binds 127.0.0.1 (loopback)",
		"kernel: listening on 127.0.0.1:PORT")

	pub := redistest.Start(t, redistest.Spec{Config: []string{"bind 0.0.0.0", `rename-command CONFIG ""`}})
	out, code = run(t, pub, nil)
	wantLines(t, out, code, 2, "kernel: listening on 0.0.0.0:PORT")
}

// A config file the server names but the check cannot read leaves what a
// restart binds unverified.
func TestServerConfigFileUnreadable(t *testing.T) {
	s := redistest.Start(t, redistest.Spec{Config: []string{"bind 127.0.0.1"}})
	if err := os.Rename(s.ConfigFile, s.ConfigFile+".moved"); err != nil {
		t.Fatal(err)
	}
	out, code := run(t, s, nil)
	wantLines(t, out, code, 3, "UNKNOWN: config file: open DIR/redis.conf: no such file or directory",
		"kernel: listening on 127.0.0.1:PORT")
	if os.Geteuid() != 0 {
		// Root reads any file: the permission case needs another user.
		if err := os.Rename(s.ConfigFile+".moved", s.ConfigFile); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(s.ConfigFile, 0); err != nil {
			t.Fatal(err)
		}
		out, code = run(t, s, nil)
		wantLines(t, out, code, 3, "UNKNOWN: config file: DIR/redis.conf is not readable by this user")
	}
}

// Messages name the command the server did not know, not CONFIG for all.
func TestServerRenamedInfoIsNamed(t *testing.T) {
	s := redistest.Start(t, redistest.Spec{Config: []string{"bind 127.0.0.1", `rename-command INFO ""`}})
	out, code := run(t, s, nil, "--config-file", s.ConfigFile)
	wantLines(t, out, code, 0, "server at 127.0.0.1:PORT: INFO is renamed or disabled", "kernel: listening on 127.0.0.1:PORT")
	if strings.Contains(out, "CONFIG is renamed") {
		t.Fatalf("blames CONFIG:\n%s", out)
	}
}

func TestServerPasswordRequired(t *testing.T) {
	s := redistest.Start(t, redistest.Spec{Config: []string{"bind 127.0.0.1", "requirepass s3cret-pw"}})
	out, code := run(t, s, nil, "--config-file", s.ConfigFile)
	wantLines(t, out, code, 0, "the server requires a password; set $REDIS_PASSWORD", "kernel: listening on 127.0.0.1:PORT")
	out, code = run(t, s, []string{"REDIS_PASSWORD=s3cret-pw"})
	wantLines(t, out, code, 0, "server redis", "running config (DIR/redis.conf:6) binds 127.0.0.1 (loopback)")
	if strings.Contains(out, "s3cret-pw") {
		t.Fatal("password printed")
	}
}

// The running server was opened at run time; the file still says loopback.
// With no password the check cannot ask the server, so the file is the only
// config it sees, and the kernel contradicts it.
func TestServerConfigDisagreesWithKernel(t *testing.T) {
	s := redistest.Start(t, redistest.Spec{Config: []string{"bind 127.0.0.1", "requirepass pw-1"}})
	cli := exec.Command("redis-cli", "-p", strconv.Itoa(s.Port), "--no-auth-warning", "-a", "pw-1", "CONFIG", "SET", "bind", "0.0.0.0")
	if b, err := cli.CombinedOutput(); err != nil || !strings.Contains(string(b), "OK") {
		testenv.Skip(t, "redis-cli CONFIG SET bind failed (%v: %s)", err, b)
	}
	out, code := run(t, s, nil, "--config-file", s.ConfigFile)
	wantLines(t, out, code, 2, `config file DIR/redis.conf:6 says bind "127.0.0.1", but the kernel shows 0.0.0.0:PORT`)
	out, code = run(t, s, []string{"REDIS_PASSWORD=pw-1"}, "--config-file", s.ConfigFile)
	wantLines(t, out, code, 2, "running config binds \"0.0.0.0\" but DIR/redis.conf:6 says \"127.0.0.1\"")
}

func TestServerStopped(t *testing.T) {
	s := redistest.Start(t, redistest.Spec{Config: []string{"bind 127.0.0.1"}})
	s.Stop()
	out, code := run(t, s, nil, "--config-file", s.ConfigFile)
	wantLines(t, out, code, 1, "server at 127.0.0.1:PORT: cannot connect", "config file DIR/redis.conf:6 binds 127.0.0.1 (loopback)",
		"kernel: nothing listens on the Redis ports", "Redis is not running (or runs in another network namespace); only the config file was judged")

	// Without the file nothing at all was verified.
	out, code = run(t, s, nil)
	wantLines(t, out, code, 3, "redis-bind-check UNKNOWN: nothing verified: server at 127.0.0.1:PORT: cannot connect",
		"config file: not given (--config-file) and not reported by the server; and nothing listens on the Redis ports")

	open := redistest.Start(t, redistest.Spec{Config: []string{"port {{PORT}}"}})
	open.Stop()
	out, code = run(t, open, nil, "--config-file", open.ConfigFile)
	wantLines(t, out, code, 2, "no bind line")
}

func TestServerTLSOnlyPortZero(t *testing.T) {
	ca := certtest.NewCA(t, "bind test CA")
	leaf := ca.Server(t, "localhost")
	tlsPort := redistest.FreePort(t)
	s := redistest.Start(t, redistest.Spec{NoPort: true, ReadyAddr: "-", Config: []string{
		"port 0", fmt.Sprintf("tls-port %d", tlsPort), "tls-cert-file " + leaf.CertFile, "tls-key-file " + leaf.KeyFile,
		"tls-ca-cert-file " + ca.RootFile, "tls-auth-clients no", "bind 0.0.0.0"}})
	bin := bintest.Build(t, Name)
	r := bintest.Run(t, 10*time.Second, nil, bin, "--port", strconv.Itoa(tlsPort), "--tls", "--ca-cert", ca.RootFile,
		"--server-name", "localhost", "--timeout", "5s")
	out := strings.ReplaceAll(r.Stdout, strconv.Itoa(tlsPort), "TLSPORT")
	wantLines(t, out, r.Code, 2, "binds 0.0.0.0: every IPv4 interface", "kernel: listening on 0.0.0.0:TLSPORT")
	_ = s
}

func TestServerSentinel(t *testing.T) {
	s := redistest.Start(t, redistest.Spec{Sentinel: true, Config: []string{"sentinel monitor m 127.0.0.1 1 1"}})
	out, code := run(t, s, nil)
	wantLines(t, out, code, 2, "Sentinel has no CONFIG command", "sentinel.conf", "kernel: listening on 0.0.0.0:PORT")
}

// A specific host address needs a non-loopback interface: a namespace with
// a dummy interface holding 192.0.2.10.
func TestServerSpecificAddressInNamespace(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	ns := fmt.Sprintf("rbc%d", os.Getpid())
	sh := func(args ...string) {
		t.Helper()
		if b, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, b)
		}
	}
	sh("netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	sh("-n", ns, "link", "set", "lo", "up")
	// A veth pair with both ends inside the namespace: an ordinary
	// interface whose address is not loopback.
	sh("-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
	sh("-n", ns, "addr", "add", "192.0.2.10/24", "dev", "v0")
	sh("-n", ns, "link", "set", "v0", "up")
	sh("-n", ns, "link", "set", "v1", "up")
	wrap := []string{"ip", "netns", "exec", ns}
	s := redistest.Start(t, redistest.Spec{Wrap: wrap, ReadyAddr: "-", Config: []string{"bind 192.0.2.10", "requirepass pw-ns"}})
	bin := bintest.Build(t, Name)
	exe := func(args ...string) (string, int) {
		argv := append(append(append([]string{}, wrap...), bin, "--host", "192.0.2.10", "--port", strconv.Itoa(s.Port), "--timeout", "5s"), args...)
		r := bintest.Run(t, 10*time.Second, []string{"REDIS_PASSWORD=pw-ns"}, argv...)
		return strings.ReplaceAll(r.Stdout, strconv.Itoa(s.Port), "PORT"), r.Code
	}
	out, code := exe()
	out = strings.ReplaceAll(out, s.Dir, "DIR")
	wantLines(t, out, code, 0, "running config (DIR/redis.conf:6) binds 192.0.2.10 (one host address)", "kernel: listening on 192.0.2.10:PORT (one host address)")
	out, code = exe("--allow", "192.0.2.0/28")
	wantLines(t, out, code, 0, "binds 192.0.2.10 (allowed)")
	out, code = exe("--allow", "198.51.100.7")
	out = strings.ReplaceAll(out, s.Dir, "DIR")
	wantLines(t, out, code, 2, "running config (DIR/redis.conf:6) binds 192.0.2.10, which --allow does not list",
		"kernel: listening on 192.0.2.10:PORT, which --allow does not list")
}

func TestBadInputExits3(t *testing.T) {
	bin := bintest.Build(t, Name)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "redis-bind-check UNKNOWN: unknown flag: --bogus\n| check_state=3;;;0;3\n"},
		{[]string{"--password=x"}, "redis-bind-check UNKNOWN: --password is not accepted: a password on the command line is visible in ps and in the check definition; set $REDIS_PASSWORD (a Sensu secret) instead\n| check_state=3;;;0;3\n"},
		{[]string{"--port", "x"}, "redis-bind-check UNKNOWN: invalid argument \"x\" for \"-p, --port\" flag: strconv.ParseInt: parsing \"x\": invalid syntax\n| check_state=3;;;0;3\n"},
		{[]string{"--port", "70000"}, "redis-bind-check UNKNOWN: --port 70000 is outside 1-65535\n| check_state=3;;;0;3\n"},
		{[]string{"--allow", "10.0.0.300"}, "redis-bind-check UNKNOWN: --allow \"10.0.0.300\": not an address or CIDR\n| check_state=3;;;0;3\n"},
		{[]string{"--config-file", "/nonexistent/redis.conf"}, "redis-bind-check UNKNOWN: --config-file /nonexistent/redis.conf: stat /nonexistent/redis.conf: no such file or directory\n| check_state=3;;;0;3\n"},
		{[]string{"--ca-cert", "/nonexistent/ca.pem"}, "redis-bind-check UNKNOWN: --ca-cert /nonexistent/ca.pem: no such file or directory\n| check_state=3;;;0;3\n"},
		{[]string{"--cert", "/etc/hostname"}, "redis-bind-check UNKNOWN: --cert and --key go together\n| check_state=3;;;0;3\n"},
	} {
		r := bintest.Run(t, 10*time.Second, nil, append([]string{bin}, tc.args...)...)
		if r.Code != 3 || r.Stdout != tc.want || r.Stderr != "" {
			t.Errorf("%v: exit %d stdout %q stderr %q; want 3 %q", tc.args, r.Code, r.Stdout, r.Stderr, tc.want)
		}
	}
}

// A host that never answers must not hold the check past its deadline.
func TestSilentServerEndsInsideDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for i := 0; i < 10; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	bin := bintest.Build(t, Name)
	port := ln.Addr().(*net.TCPAddr).Port
	r := bintest.Run(t, 10*time.Second, nil, bin, "--port", strconv.Itoa(port), "--timeout", "1s")
	if r.Elapsed > 1500*time.Millisecond {
		t.Fatalf("took %v with a 1s deadline", r.Elapsed)
	}
	if !strings.Contains(r.Stdout, "no answer from 127.0.0.1:") || r.Code == 0 && !strings.Contains(r.Stdout, "kernel:") {
		t.Fatalf("exit %d\n%s", r.Code, r.Stdout)
	}
}

// redis-server resolves host names in bind; so does the check.
func TestServerBindHostName(t *testing.T) {
	s := redistest.Start(t, redistest.Spec{Config: []string{"bind localhost"}})
	out, code := run(t, s, nil)
	wantLines(t, out, code, 0, "binds host name localhost (127.0.0.1, loopback)", "kernel: listening on 127.0.0.1:PORT (loopback)")
}
