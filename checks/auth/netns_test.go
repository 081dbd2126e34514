package auth

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/netns"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
)

// TestProtectedModeFromAnotherHost: protected mode only refuses non-local
// clients, so this needs a vantage point that is not loopback: the server
// in one namespace, the check run from another.
func TestProtectedModeFromAnotherHost(t *testing.T) {
	tp := netns.New(t, netns.Spec{Hosts: []netns.HostSpec{{Name: "redis"}, {Name: "client"}}})
	srv, cli := tp.Host("redis"), tp.Host("client")
	bin := bintest.Build(t, Name)
	addr := srv.Addr4().String()

	serve := func(conf ...string) *redistest.Server {
		return redistest.Start(t, redistest.Spec{Wrap: srv.Wrap(), ReadyAddr: "-",
			Config: append([]string{"bind " + addr + " 127.0.0.1"}, conf...)})
	}
	run := func(h *netns.Host, host string, port int, env ...string) bintest.Result {
		argv := append(h.Wrap(), bin, "--host", host, "--port", strconv.Itoa(port), "--timeout", "3s")
		r := bintest.Run(t, 10*time.Second, env, argv...)
		if r.Stderr != "" {
			t.Errorf("stderr: %q", r.Stderr)
		}
		if r.Elapsed > 4*time.Second {
			t.Errorf("took %v with a 3s deadline", r.Elapsed)
		}
		assertNoSecrets(t, r.Stdout)
		return r
	}
	want := func(r bintest.Result, code int, first string) {
		t.Helper()
		line, _, _ := strings.Cut(r.Stdout, "\n")
		if r.Code != code || !strings.HasPrefix(line, first) {
			t.Errorf("exit %d, output:\n%s\nwant exit %d, first line starting %q", r.Code, r.Stdout, code, first)
		}
	}

	// Protected mode on, no password: refused from the other host only.
	pm := serve("protected-mode yes")
	want(run(cli, addr, pm.Port), 1, "redis-auth-check WARNING: "+addr+":"+strconv.Itoa(pm.Port)+": clients without credentials are refused only by protected mode (DENIED)")
	want(run(srv, "127.0.0.1", pm.Port), 2, "redis-auth-check CRITICAL: 127.0.0.1:"+strconv.Itoa(pm.Port)+": the default user is usable without a password")
	// Even an ACL user with a password cannot log in from there: the audit
	// cannot run, and says so.
	want(run(cli, addr, pm.Port, redisconn.PasswordEnv+"=x", redisconn.UsernameEnv+"=alice"), 3,
		"redis-auth-check UNKNOWN: ACL audit not possible from here: protected mode refuses every non-local client")

	// Protected mode off: open to everyone.
	off := serve("protected-mode no")
	want(run(cli, addr, off.Port), 2, "redis-auth-check CRITICAL: "+addr+":"+strconv.Itoa(off.Port)+": the default user is usable without a password")

	// A password: refused everywhere with NOAUTH.
	pw := serve("protected-mode yes", "requirepass "+pwDefault)
	want(run(cli, addr, pw.Port), 0, "redis-auth-check OK: "+addr+":"+strconv.Itoa(pw.Port)+": clients without credentials are refused (NOAUTH")
	want(run(cli, addr, pw.Port, redisconn.PasswordEnv+"="+pwDefault), 0, "redis-auth-check OK: ")
}

// TestBlackHoleDeadline: an address nobody answers for (no ARP reply on the
// namespace's own segment) costs the deadline and ends UNKNOWN, never OK.
func TestBlackHoleDeadline(t *testing.T) {
	tp := netns.New(t, netns.Spec{Hosts: []netns.HostSpec{{Name: "client"}}})
	cli := tp.Host("client")
	bin := bintest.Build(t, Name)
	hole := tp.Segment("lan").V4.Addr().Next().Next().Next().Next().Next() // .5: no host there
	argv := append(cli.Wrap(), bin, "--host", hole.String(), "--timeout", "1s")
	r := bintest.Run(t, 5*time.Second, nil, argv...)
	want := "redis-auth-check UNKNOWN: " + hole.String() + ":6379: could not probe without credentials: no answer to the connection attempt before the deadline (filtered by a firewall?)\n"
	if r.Code != 3 || !strings.HasPrefix(r.Stdout, want) || r.Stderr != "" {
		t.Fatalf("exit %d stdout %q stderr %q; want 3, %q", r.Code, r.Stdout, r.Stderr, want)
	}
	if r.Elapsed > 1500*time.Millisecond {
		t.Fatalf("took %v with a 1s deadline", r.Elapsed)
	}
}
