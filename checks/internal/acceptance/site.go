// Package acceptance rebuilds the deployments of the securing-Redis guide
// as topologies of network namespaces and runs every binary of the
// collection from the vantage point where Sensu would run it.
//
// A Site is one deployment's network: a Redis host, a trusted Sensu host
// and an untrusted host, each on its own segment, joined by a router that
// forwards everything unless a deployment makes it the network firewall.
// The addresses echo the guide's example (Redis at 192.168.50.41, the
// Sensu host at 192.168.100.30) inside the documentation ranges:
//
//	redis      192.0.2.41     2001:db8:1::29   segment "redis"
//	sensu      198.51.100.30  2001:db8:2::1e   segment "sensu"
//	untrusted  203.0.113.66   2001:db8:3::42   segment "untrusted"
//	router     .1 on each segment (eth0 redis, eth1 sensu, eth2 untrusted)
//
// A Deployment is a row: how to configure Redis and the firewalls, and the
// state each Column (binary × vantage point) must report. Later checks add
// columns and rows, not harnesses: a new binary is one entry in Columns
// (its command line built from the Site), a new deployment one entry in
// the table of deployments_test.go.
//
// The suite needs root (it skips with one line otherwise):
//
//	sudo go test ./checks/internal/acceptance          # the matrix on failure
//	sudo go test ./checks/internal/acceptance -v -cells # every cell's output
//	sudo go test ./checks/internal/acceptance -update   # rewrite testdata/*.golden
package acceptance

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/certtest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/netns"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
)

// Standard Redis ports: data, cluster bus, Sentinel.
const (
	DataPort     = 6379
	BusPort      = 16379
	SentinelPort = 26379
)

// Site is one deployment's running network.
type Site struct {
	Topo                            *netns.Topology
	Redis, Sensu, Untrusted, Router *netns.Host
	// Local: Sensu runs on the Redis host (the guide's local install), so
	// the trusted vantage point is the Redis host and Redis is reached on
	// loopback.
	Local bool

	// Set by StartRedis.
	Server *redistest.Server
	// TLS is set when the server has a TLS listener.
	TLS *TLS
	// Port is where Sensu talks to Redis (the TLS port when TLS is on);
	// PlainPort is the plaintext port (0 when off).
	Port, PlainPort int
	// Env is the environment every check gets: $REDIS_PASSWORD when the
	// server has one (never a flag: passwords stay off command lines).
	Env []string
}

// TLS holds the files of a TLS deployment: the CA Sensu trusts, the
// server's certificate and the client certificate Sensu presents.
type TLS struct {
	CA             *certtest.CA
	Server, Client *certtest.Cert
}

// NewSite builds the namespaces (skipping the test without root) and
// resolves the neighbours along every path once, so that no check's first
// SYN waits in a neighbour queue: a lost first SYN costs a one-second
// retransmission, which a short attempt timeout would report as filtered.
func NewSite(t testing.TB, local bool) *Site {
	t.Helper()
	tp := netns.New(t, netns.Spec{
		Segments: []netns.Segment{{Name: "redis"}, {Name: "sensu"}, {Name: "untrusted"}},
		Hosts: []netns.HostSpec{
			{Name: "router", On: []string{"redis", "sensu", "untrusted"}, Router: true, ID: 1},
			{Name: "redis", On: []string{"redis"}, ID: 41},
			{Name: "sensu", On: []string{"sensu"}, ID: 30},
			{Name: "untrusted", On: []string{"untrusted"}, ID: 66},
		},
	})
	s := &Site{Topo: tp, Redis: tp.Host("redis"), Sensu: tp.Host("sensu"),
		Untrusted: tp.Host("untrusted"), Router: tp.Host("router"), Local: local}
	// ICMP errors are rate-limited per destination and a fresh namespace
	// starts with an empty bucket: rejections must not vanish into
	// "filtered".
	s.Redis.MustExec(t, "sysctl", "-q", "-w", "net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0")
	for _, h := range []*netns.Host{s.Sensu, s.Untrusted} {
		for _, a := range []netip.Addr{s.Redis.Addr4(), s.Redis.Addr6()} {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			// Nothing listens yet: a refusal is the expected answer, and
			// proves the path works.
			c, err := h.DialContext(ctx, "tcp", net.JoinHostPort(a.String(), strconv.Itoa(DataPort)))
			cancel()
			if err == nil {
				c.Close()
			} else if !isRefused(err) {
				t.Fatalf("%s cannot reach %v: %v", h.Name, a, err)
			}
		}
	}
	return s
}

// RedisSpec is how a deployment configures its server.
type RedisSpec struct {
	// Config holds redis.conf lines besides port, TLS and the test
	// defaults (dir, logfile, save).
	Config []string
	// TLS enables tls-port on TLSPort (default 6379) with a server
	// certificate for the Redis host's addresses and loopback; client
	// certificates are required (Redis's default).
	TLS     bool
	TLSPort int
	// PlainPort is the plaintext port: default 6379 without TLS, 0 (off)
	// with TLS unless given.
	PlainPort int
	// Password becomes requirepass, and $REDIS_PASSWORD for the checks.
	Password string
}

// StartRedis writes the config and starts redis-server on the Redis host.
func (s *Site) StartRedis(t testing.TB, spec RedisSpec) {
	t.Helper()
	lines := append([]string(nil), spec.Config...)
	s.PlainPort = spec.PlainPort
	if !spec.TLS && s.PlainPort == 0 {
		s.PlainPort = DataPort
	}
	lines = append(lines, "port "+strconv.Itoa(s.PlainPort))
	s.Port = s.PlainPort
	if spec.TLS {
		s.Port = spec.TLSPort
		if s.Port == 0 {
			s.Port = DataPort
		}
		ca := certtest.NewCA(t, "deployment-ca")
		s.TLS = &TLS{
			CA: ca,
			Server: ca.Server(t, "redis", certtest.Hosts("redis.example", s.Redis.Addr4().String(),
				s.Redis.Addr6().String(), "127.0.0.1", "::1")),
			Client: ca.Client(t, "sensu"),
		}
		lines = append(lines,
			"tls-port "+strconv.Itoa(s.Port),
			"tls-cert-file "+s.TLS.Server.ChainFile,
			"tls-key-file "+s.TLS.Server.KeyFile,
			"tls-ca-cert-file "+ca.RootFile,
		)
	}
	if spec.Password != "" {
		lines = append(lines, "requirepass "+spec.Password)
		s.Env = append(s.Env, "REDIS_PASSWORD="+spec.Password)
	}
	s.Server = redistest.Start(t, redistest.Spec{
		Config: lines, NoPort: true, Wrap: s.Redis.Wrap(),
		ReadyAddr: "-", // the test process is outside the namespace
	})
}

// Ports lists every Redis port of the deployment: the standard three and
// any other the server listens on.
func (s *Site) Ports() []int {
	ports := []int{DataPort, BusPort, SentinelPort}
	for _, p := range []int{s.Port, s.PlainPort} {
		if p != 0 && !containsInt(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports
}

// ServedPorts are the ports Redis listens on: the port Sensu uses and the
// plaintext port when that is another one.
func (s *Site) ServedPorts() []int {
	ports := []int{s.Port}
	if s.PlainPort != 0 && s.PlainPort != s.Port {
		ports = append(ports, s.PlainPort)
	}
	return ports
}

// ServiceAddr is the address Sensu uses for Redis: loopback in a local
// install, the Redis host's address otherwise.
func (s *Site) ServiceAddr() netip.Addr {
	if s.Local {
		return netip.MustParseAddr("127.0.0.1")
	}
	return s.Redis.Addr4()
}

// SensuHost is the trusted vantage point: where Sensu runs.
func (s *Site) SensuHost() *netns.Host {
	if s.Local {
		return s.Redis
	}
	return s.Sensu
}

// Host returns the namespace of a vantage point.
func (s *Site) Host(v Vantage) *netns.Host {
	switch v {
	case AtRedis:
		return s.Redis
	case AtSensu:
		return s.SensuHost()
	case AtUntrusted:
		return s.Untrusted
	}
	panic("acceptance: unknown vantage point " + string(v))
}

// ConnFlags are the shared connection flags (checks/redisconn) for a
// client of this deployment's Redis on addr.
func (s *Site) ConnFlags(addr netip.Addr) []string {
	f := []string{"--host", addr.String(), "--port", strconv.Itoa(s.Port)}
	if s.TLS != nil {
		f = append(f, "--tls", "--ca-cert", s.TLS.CA.RootFile,
			"--cert", s.TLS.Client.CertFile, "--key", s.TLS.Client.KeyFile)
	}
	return f
}

// Leftovers lists what of this site still exists: namespaces, their
// /etc/netns directories, the redis-server. Empty once the test that built
// the site has ended and its cleanups have run.
func (s *Site) Leftovers() []string {
	var left []string
	prefix := "t" + s.Topo.Suffix + "-"
	for _, dir := range []string{"/run/netns", "/etc/netns"} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), prefix) {
				left = append(left, filepath.Join(dir, e.Name()))
			}
		}
	}
	if s.Server != nil {
		// The PID may have been reused: only a process still working in
		// this server's directory counts (redis-server rewrites its
		// command line, so that cannot tell).
		cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", s.Server.PID))
		if err == nil && strings.HasPrefix(cwd, s.Server.Dir) {
			left = append(left, fmt.Sprintf("redis-server pid %d", s.Server.PID))
		}
	}
	return left
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
