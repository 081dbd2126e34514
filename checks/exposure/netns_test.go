package exposure

import (
	"context"
	"io"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/netns"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// site is a small deployment: Redis and a trusted Sensu host on one
// segment, an untrusted host on another, and a router between them that
// is also the network firewall. 203.0.113.0/24 and 2001:db8:ff::/120 are
// routed by the router onto the servers segment behind a DROP rule: a
// black hole.
type site struct {
	tp                                *netns.Topology
	redis, trusted, router, untrusted *netns.Host
	ports                             map[string]int
	bin                               string
}

func newSite(t *testing.T) *site {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "iptables", "ip6tables")
	s := &site{ports: map[string]int{}, bin: bintest.Build(t, Name)}
	s.tp = netns.New(t, netns.Spec{
		Segments: []netns.Segment{{Name: "servers"}, {Name: "untrusted"}},
		Hosts: []netns.HostSpec{
			{Name: "redis", On: []string{"servers"}},
			{Name: "trusted", On: []string{"servers"}},
			{Name: "router", On: []string{"servers", "untrusted"}, Router: true},
			{Name: "untrusted", On: []string{"untrusted"}},
		},
	})
	s.redis, s.trusted, s.router, s.untrusted = s.tp.Host("redis"), s.tp.Host("trusted"), s.tp.Host("router"), s.tp.Host("untrusted")

	all := []string{"bind * -::*"}
	start := func(name string, spec redistest.Spec) {
		spec.Wrap = s.redis.Wrap()
		spec.ReadyAddr = "-" // the test process is outside the namespace
		s.ports[name] = redistest.Start(t, spec).Port
	}
	start("open", redistest.Spec{Config: append(all, "protected-mode no")})
	start("fwdrop", redistest.Spec{Config: append(all, "protected-mode no")})
	start("password", redistest.Spec{Config: append(all, "requirepass s3cret")})
	start("protected", redistest.Spec{Config: append(all, "protected-mode yes")})
	start("tls", redistest.Spec{Config: append(append(all, "protected-mode no"), tlsConfig(t, "no")...), NoPort: true})
	start("mtls", redistest.Spec{Config: append(append(all, "protected-mode no"), tlsConfig(t, "yes")...), NoPort: true})
	start("lockout", redistest.Spec{Config: append(all, "requirepass s3cret")})
	listenAll := func(name string, fn func(net.Conn)) {
		ln := s.redis.Listen(t, "tcp", ":0")
		s.ports[name] = ln.Addr().(*net.TCPAddr).Port
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go fn(c)
			}
		}()
	}
	listenAll("notredis", func(c net.Conn) { io.WriteString(c, "SSH-2.0-OpenSSH_9.2\r\n"); silent(c) })
	listenAll("silent", silent)
	listenAll("reject", silent)
	listenAll("adminprohib", silent)
	// A port free on this host is not known to be free in the Redis
	// namespace, where the servers listen: take one none of them has.
	for i := 0; ; i++ {
		p := freePort(t)
		if !slices.Contains(slices.Collect(maps.Values(s.ports)), p) {
			s.ports["closed"] = p
			break
		}
		if i == 100 {
			t.Fatal("no port distinct from the servers' after 100 tries")
		}
	}

	p := func(n string) string { return strconv.Itoa(s.ports[n]) }
	// The network firewall drops one open Redis for the untrusted segment;
	// the Redis host rejects two ports itself, and locks the trusted host
	// out of one (the mistake --expect reachable exists for).
	s.router.MustExec(t, "iptables", "-A", "FORWARD", "-s", "198.51.100.0/24", "-p", "tcp", "--dport", p("fwdrop"), "-j", "DROP")
	s.router.MustExec(t, "ip6tables", "-A", "FORWARD", "-s", "2001:db8:2::/64", "-p", "tcp", "--dport", p("fwdrop"), "-j", "DROP")
	// ICMP errors are rate-limited per destination, and a fresh namespace
	// starts with an empty bucket: the first ICMPv6 REJECTs would vanish and
	// look filtered (still "closed", but not the class under test).
	s.redis.MustExec(t, "sysctl", "-q", "-w", "net.ipv6.icmp.ratelimit=0", "net.ipv4.icmp_ratelimit=0")
	for _, cmd := range []string{"iptables", "ip6tables"} {
		s.redis.MustExec(t, cmd, "-A", "INPUT", "-p", "tcp", "--dport", p("reject"), "-j", "REJECT")
	}
	s.redis.MustExec(t, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", p("adminprohib"), "-j", "REJECT", "--reject-with", "icmp-admin-prohibited")
	s.redis.MustExec(t, "ip6tables", "-A", "INPUT", "-p", "tcp", "--dport", p("adminprohib"), "-j", "REJECT", "--reject-with", "icmp6-adm-prohibited")
	s.redis.MustExec(t, "iptables", "-A", "INPUT", "-s", s.trusted.Addr4().String(), "-p", "tcp", "--dport", p("lockout"), "-j", "DROP")
	s.redis.MustExec(t, "ip6tables", "-A", "INPUT", "-s", s.trusted.Addr6().String(), "-p", "tcp", "--dport", p("lockout"), "-j", "DROP")

	// The black hole.
	// The route makes the packets forwardable; the DROP in FORWARD comes
	// before any neighbour lookup, so nothing leaves the router.
	s.router.MustExec(t, "ip", "route", "add", "203.0.113.0/24", "dev", "eth0")
	s.router.MustExec(t, "ip", "-6", "route", "add", "2001:db8:ff::/120", "dev", "eth0")
	s.router.MustExec(t, "iptables", "-A", "FORWARD", "-d", "203.0.113.0/24", "-j", "DROP")
	s.router.MustExec(t, "ip6tables", "-A", "FORWARD", "-d", "2001:db8:ff::/120", "-j", "DROP")
	// Resolve the neighbours along every path once, so that no test's first
	// SYN waits in a neighbour queue (a lost first SYN costs a 1s
	// retransmission, which a 1s attempt timeout would call "filtered").
	for _, h := range []*netns.Host{s.trusted, s.untrusted} {
		for _, a := range []netip.Addr{s.redis.Addr4(), s.redis.Addr6()} {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			c, err := h.DialContext(ctx, "tcp", netip.AddrPortFrom(a, uint16(s.ports["open"])).String())
			cancel()
			if err != nil {
				t.Fatalf("%s cannot reach %v: %v", h.Name, a, err)
			}
			c.Close()
		}
	}
	return s
}

// run runs the binary inside host's namespace.
func (s *site) run(t *testing.T, h *netns.Host, limit time.Duration, args ...string) bintest.Result {
	t.Helper()
	return bintest.Run(t, limit, nil, append(append(h.Wrap(), s.bin), args...)...)
}

// targets lists the Redis host's IPv4 and IPv6 address on the named ports.
func (s *site) targets(names ...string) []string {
	var out []string
	for _, n := range names {
		for _, a := range []netip.Addr{s.redis.Addr4(), s.redis.Addr6()} {
			out = append(out, "--target", netip.AddrPortFrom(a, uint16(s.ports[n])).String())
		}
	}
	return out
}

func TestNamespaces(t *testing.T) {
	s := newSite(t)

	t.Run("untrusted sees every open service", func(t *testing.T) {
		r := s.run(t, s.untrusted, 20*time.Second, append(s.targets("open", "password", "protected", "tls", "mtls", "notredis", "silent"),
			"--attempt-timeout", "1s")...)
		golden(t, "netns-untrusted-open", r, s.ports)
		if r.Code != 2 || !strings.Contains(r.Stdout, "open_unauthenticated=4 ") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Stdout)
		}
	})

	t.Run("untrusted is kept out by the firewalls", func(t *testing.T) {
		// 2s, not 1s: on veth pairs the ICMP error can come back while
		// connect() still holds the socket, and Linux then keeps it as a soft
		// error until the SYN is retransmitted after 1s.
		r := s.run(t, s.untrusted, 20*time.Second, append(s.targets("fwdrop", "reject", "adminprohib", "closed"), "--attempt-timeout", "2s")...)
		golden(t, "netns-untrusted-closed", r, s.ports)
		for _, want := range []string{"refused=4 ", "filtered=2 ", "unreachable=1 ", "prohibited=1 "} {
			if r.Code != 0 || !strings.Contains(r.Stdout, want) {
				t.Fatalf("want %q and exit 0; exit %d:\n%s", want, r.Code, r.Stdout)
			}
		}
	})

	t.Run("trusted reaches Redis", func(t *testing.T) {
		r := s.run(t, s.trusted, 20*time.Second, append(s.targets("open", "fwdrop", "password", "tls", "mtls"), "--expect", "reachable")...)
		golden(t, "netns-trusted-ok", r, s.ports)
		if r.Code != 0 {
			t.Fatalf("exit %d:\n%s", r.Code, r.Stdout)
		}
	})

	t.Run("trusted locked out", func(t *testing.T) {
		r := s.run(t, s.trusted, 20*time.Second, append(s.targets("password", "lockout", "protected"), "--expect", "reachable", "--attempt-timeout", "1s")...)
		golden(t, "netns-trusted-lockout", r, s.ports)
		if r.Code != 2 {
			t.Fatalf("exit %d:\n%s", r.Code, r.Stdout)
		}
	})

	t.Run("black-holed /24 takes one timeout", func(t *testing.T) {
		r := s.run(t, s.untrusted, 20*time.Second, "--target", "203.0.113.0/24", "--attempt-timeout", "1s")
		golden(t, "netns-blackhole", r, nil)
		if r.Code != 0 || !strings.Contains(r.Stdout, "filtered=762 ") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Stdout)
		}
		if r.Elapsed > 3*time.Second { // one 1s timeout, plus start-up on a busy 2-core machine
			t.Fatalf("762 black-holed attempts took %v with a 1s timeout", r.Elapsed)
		}
	})

	t.Run("deadline before the timeout is UNKNOWN", func(t *testing.T) {
		r := s.run(t, s.untrusted, 20*time.Second, "--target", "203.0.113.0/28", "--target", "2001:db8:ff::/124",
			"--attempt-timeout", "5s", "--timeout", "700ms")
		golden(t, "netns-deadline", r, nil)
		if r.Code != 3 || r.Elapsed > 2*time.Second {
			t.Fatalf("exit %d after %v:\n%s", r.Code, r.Elapsed, r.Stdout)
		}
	})

	t.Run("names resolve once to every address", func(t *testing.T) {
		s.untrusted.EtcFile(t, "hosts", "192.0.2.10 redis.example\n2001:db8:1::a redis.example\n")
		// No resolver reachable: a name missing from hosts fails at once,
		// without a packet leaving the namespaces.
		s.untrusted.EtcFile(t, "resolv.conf", "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
		r := s.run(t, s.untrusted, 20*time.Second, "--target", "redis.example:"+strconv.Itoa(s.ports["password"]),
			"--target", "missing.example", "--attempt-timeout", "1s")
		golden(t, "netns-names", r, s.ports)
		if r.Code != 2 || !strings.Contains(r.Stdout, "local_error=1 ") || !strings.Contains(r.Stdout, "open_auth_required=2 ") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Stdout)
		}
	})

	t.Run("no route from this host is UNKNOWN", func(t *testing.T) {
		// The router has routes only to its segments and the black hole.
		r := s.run(t, s.router, 20*time.Second, "--target", "[2001:db8:77::1]:6379", "--attempt-timeout", "1s")
		golden(t, "netns-noroute", r, nil)
		if r.Code != 3 {
			t.Fatalf("exit %d:\n%s", r.Code, r.Stdout)
		}
	})
}
