package bind

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/netns"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
)

// TestLoopbackReachedThroughRouteLocalnet: a server bound to 127.0.0.1 is
// private only while the kernel drops outside packets for 127.0.0.0/8. With
// route_localnet on (kube-proxy, Docker without the userland proxy), a
// neighbour that routes 127.0.0.1 to the host connects (CVE-2020-8558). The
// kernel is the oracle: the neighbour's PING is refused by the network
// first, answered once the setting is on.
func TestLoopbackReachedThroughRouteLocalnet(t *testing.T) {
	tp := netns.New(t, netns.Spec{Hosts: []netns.HostSpec{{Name: "redis"}, {Name: "neighbour"}}})
	srv, nb := tp.Host("redis"), tp.Host("neighbour")
	s := redistest.Start(t, redistest.Spec{Wrap: srv.Wrap(), ReadyAddr: "-",
		Config: []string{"bind 127.0.0.1", "protected-mode no"}})
	target := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))

	// The neighbour sends 127.0.0.1 out on its link, as an attacker on the
	// segment does: no loopback address of its own, a route to the host.
	nb.MustExec(t, "ip", "addr", "del", "127.0.0.1/8", "dev", "lo")
	nb.MustExec(t, "sysctl", "-q", "-w", "net.ipv4.conf.eth0.route_localnet=1")
	nb.MustExec(t, "ip", "route", "add", "127.0.0.1/32", "via", srv.Addr4().String(), "dev", "eth0")

	ping := func() (resp.Reply, error) { return nb.Ping(target) }
	bin := bintest.Build(t, Name)
	check := func() bintest.Result {
		argv := append(srv.Wrap(), bin, "--port", strconv.Itoa(s.Port), "--timeout", "5s")
		r := bintest.Run(t, 10*time.Second, nil, argv...)
		if r.Stderr != "" {
			t.Fatalf("stderr: %q", r.Stderr)
		}
		return r
	}

	// route_localnet off: the host drops the packets, and loopback is OK.
	if r, err := ping(); err == nil {
		t.Fatalf("the neighbour reached 127.0.0.1 without route_localnet: %q", r.Line)
	}
	if r := check(); r.Code != 0 || !strings.Contains(r.Stdout, "OK: kernel: listening on "+target+" (loopback)") {
		t.Fatalf("route_localnet off: exit %d\n%s", r.Code, r.Stdout)
	}

	srv.MustExec(t, "sysctl", "-q", "-w", "net.ipv4.conf.eth0.route_localnet=1")
	if r, err := ping(); err != nil || r.Class != resp.Pong {
		t.Fatalf("the neighbour should reach 127.0.0.1 with route_localnet on: %q, %v", r.Line, err)
	}
	r := check()
	want := "WARNING: kernel: listening on " + target + ", loopback, but route_localnet is on for eth0: hosts on those networks reach it"
	if r.Code != 1 || !strings.Contains(r.Stdout, want) || !strings.Contains(r.Stdout, "set net.ipv4.conf.eth0.route_localnet=0") {
		t.Fatalf("route_localnet on: exit %d\n%s\nwant exit 1 and %q", r.Code, r.Stdout, want)
	}
}
