package acceptance

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

var showCells = flag.Bool("cells", false, "log the command line and output of every cell")

func TestMain(m *testing.M) { bintest.Main(m) }

const (
	ok       = result.OK
	warning  = result.Warning
	critical = result.Critical
	unknown  = result.Unknown
)

// Column labels.
const (
	bind        = "bind@redis"
	reachable   = "exposure@sensu"
	unreachable = "exposure@untrusted"
	tlsc        = "tls@sensu"
	auth        = "auth@sensu"
	firewall    = "firewall@redis"
	socket      = "socket@redis"
)

// remote is the guide's "bind to the host IP address". protected-mode no
// because the guide predates Redis 7: on the 3.2–6.x servers it was written
// for, any bind line switched protected mode off, and a remote Sensu was
// served; on 7.x protected mode would refuse Sensu (DENIED) and the
// deployment would not work at all. No password: the guide sets none.
func remote(s *Site) []string {
	return []string{"bind " + s.Redis.Addr4().String(), "protected-mode no"}
}

var deployments = []Deployment{
	{
		Name:  "1 local install",
		Guide: "bind 127.0.0.1, Sensu on the same host",
		Local: true,
		Setup: func(t testing.TB, s *Site) {
			// Debian's protected-mode default stays: Sensu is local.
			s.StartRedis(t, RedisSpec{Config: []string{"bind 127.0.0.1", "protected-mode yes"}})
		},
		Want: map[string]result.State{
			socket: ok,
			bind:   ok, reachable: ok, unreachable: ok, tlsc: critical, auth: critical,
			// The firewall check judges the host's filter alone: there is
			// none, whatever the bind line says.
			firewall: critical,
		},
	},
	{
		Name:  "2 host address, no firewall",
		Guide: "bind <host address>: recommended, but without a firewall still exposed",
		Setup: func(t testing.TB, s *Site) { s.StartRedis(t, RedisSpec{Config: remote(s)}) },
		Want: map[string]result.State{
			socket: ok,
			bind:   ok, reachable: ok, unreachable: critical, tlsc: critical, auth: critical, firewall: critical,
		},
		Golden: map[string]string{unreachable: "2-untrusted-exposure"},
	},
	{
		Name:  "3 ufw recipe as written",
		Guide: "ufw default allow; ufw deny 6379 (16379, 26379); ufw allow from SENSU to REDIS port 6379",
		Setup: func(t testing.TB, s *Site) {
			s.StartRedis(t, RedisSpec{Config: remote(s)})
			s.Redis.UFW(t, "default", "allow", "incoming")
			s.Redis.UFW(t, "default", "allow", "outgoing")
			s.Redis.UFW(t, "--force", "enable")
			for _, p := range []string{"6379", "16379", "26379"} {
				s.Redis.UFW(t, "deny", p)
			}
			s.Redis.UFW(t, "allow", "from", s.Sensu.Addr4().String(), "to", s.Redis.Addr4().String(), "port", "6379")
		},
		// ufw takes the first matching rule and the guide adds the DENY
		// first (its own `ufw status numbered` shows it as rule 1): the
		// ALLOW never matches and Sensu is locked out. The checks must
		// say so.
		Want: map[string]result.State{
			socket: ok,
			bind:   ok, reachable: critical, unreachable: ok, tlsc: unknown, auth: unknown, firewall: warning,
		},
		Golden: map[string]string{reachable: "3-ufw-sensu-locked-out"},
	},
	{
		Name:  "3b ufw recipe, allow first",
		Guide: "the ufw recipe with the ALLOW before the DENY",
		Setup: func(t testing.TB, s *Site) {
			s.StartRedis(t, RedisSpec{Config: remote(s)})
			s.Redis.UFW(t, "default", "allow", "incoming")
			s.Redis.UFW(t, "default", "allow", "outgoing")
			s.Redis.UFW(t, "--force", "enable")
			s.Redis.UFW(t, "allow", "from", s.Sensu.Addr4().String(), "to", s.Redis.Addr4().String(), "port", "6379")
			for _, p := range []string{"6379", "16379", "26379"} {
				s.Redis.UFW(t, "deny", p)
			}
		},
		Want: map[string]result.State{
			socket: ok,
			bind:   ok, reachable: ok, unreachable: ok, tlsc: critical, auth: critical, firewall: ok,
		},
	},
	{
		Name:  "4 firewalld recipe",
		Guide: "firewall-cmd --permanent --new-zone=redis, --add-port=6379/tcp, --add-source=SENSU, --reload",
		Setup: func(t testing.TB, s *Site) {
			s.StartRedis(t, RedisSpec{Config: remote(s)})
			fw := s.Redis.StartFirewalld(t)
			fw.Cmd(t, "--permanent", "--new-zone=redis")
			fw.Cmd(t, "--permanent", "--zone=redis", "--add-port=6379/tcp")
			fw.Cmd(t, "--permanent", "--zone=redis", "--add-source="+s.Sensu.Addr4().String())
			fw.Cmd(t, "--reload")
		},
		Want: map[string]result.State{
			socket: ok,
			bind:   ok, reachable: ok, unreachable: ok, tlsc: critical, auth: critical, firewall: ok,
		},
	},
	{
		Name:  "5 iptables recipe as written (6397)",
		Guide: "INPUT: lo, ESTABLISHED,RELATED, SENSU --dport 6397 (sic), policy DROP",
		Setup: func(t testing.TB, s *Site) {
			s.StartRedis(t, RedisSpec{Config: remote(s)})
			iptablesRecipe(t, s, "iptables", s.Sensu.Addr4(), "6397")
		},
		// The typo locks Sensu out: exactly what --expect reachable is
		// for. IPv6 is not filtered at all (the recipe is IPv4 only), so
		// the firewall check is CRITICAL even though Redis binds IPv4.
		Want: map[string]result.State{
			socket: ok,
			bind:   ok, reachable: critical, unreachable: ok, tlsc: unknown, auth: unknown, firewall: critical,
		},
		Golden: map[string]string{
			reachable: "5-iptables-typo-sensu-locked-out",
			firewall:  "5-iptables-typo-firewall",
		},
	},
	{
		Name:  "5b iptables recipe, 6379, IPv4+IPv6",
		Guide: "the iptables recipe with the port corrected, repeated with ip6tables",
		Setup: func(t testing.TB, s *Site) {
			s.StartRedis(t, RedisSpec{Config: remote(s)})
			iptablesRecipe(t, s, "iptables", s.Sensu.Addr4(), "6379")
			// Sensu uses IPv4: IPv6 gets the recipe without an allowed client.
			iptablesRecipe(t, s, "ip6tables", netip.Addr{}, "6379")
		},
		Want: map[string]result.State{
			socket: ok,
			bind:   ok, reachable: ok, unreachable: ok, tlsc: critical, auth: critical, firewall: ok,
		},
	},
	{
		Name:  "6 network firewall",
		Guide: "a router between segments limits Redis to the Sensu host; no host firewall",
		Setup: func(t testing.TB, s *Site) {
			s.StartRedis(t, RedisSpec{Config: remote(s)})
			r := s.Router
			for _, cmd := range []string{"iptables", "ip6tables"} {
				r.MustExec(t, cmd, "-A", "FORWARD", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT")
			}
			r.MustExec(t, "iptables", "-A", "FORWARD", "-s", s.Sensu.Addr4().String(), "-d", s.Redis.Addr4().String(),
				"-p", "tcp", "--dport", "6379", "-j", "ACCEPT")
			// Everything else towards the Redis segment is dropped.
			for _, cmd := range []string{"iptables", "ip6tables"} {
				r.MustExec(t, cmd, "-A", "FORWARD", "-o", "eth0", "-j", "DROP")
			}
		},
		// The Redis host's own filter is empty: the firewall check, which
		// reads this host's ruleset, cannot see the router and must not
		// pass. The exposure checks show the network firewall works.
		Want: map[string]result.State{
			socket: ok,
			bind:   ok, reachable: ok, unreachable: ok, tlsc: critical, auth: critical, firewall: critical,
		},
	},
	{
		Name:  "7 TLS only (port 0)",
		Guide: "TLS between Sensu and Redis, plaintext port disabled",
		Setup: func(t testing.TB, s *Site) {
			s.StartRedis(t, RedisSpec{Config: remote(s), TLS: true})
		},
		// TLS restricts nobody: with no firewall the TLS port is still
		// open to the untrusted host (it wants a client certificate).
		// OpenSSL's default suites include RSA key exchange and CBC-SHA1:
		// the TLS check warns.
		Want: map[string]result.State{
			socket: ok,
			bind:   ok, reachable: ok, unreachable: critical, tlsc: warning, auth: critical, firewall: critical,
		},
	},
	{
		Name:  "7b TLS, plaintext left on",
		Guide: "tls-port 6380 added, port 6379 left as it was",
		Setup: func(t testing.TB, s *Site) {
			s.StartRedis(t, RedisSpec{Config: remote(s), TLS: true, TLSPort: 6380, PlainPort: 6379})
		},
		Want: map[string]result.State{
			socket: ok,
			bind:   ok, reachable: ok, unreachable: critical, tlsc: critical, auth: critical, firewall: critical,
		},
	},
	{
		Name:  "8 insecure baseline",
		Guide: "bind 0.0.0.0, protected-mode no, no password, no firewall",
		Setup: func(t testing.TB, s *Site) {
			s.StartRedis(t, RedisSpec{Config: []string{"bind 0.0.0.0", "protected-mode no"}})
		},
		Want: map[string]result.State{
			socket: ok,
			bind:   critical, reachable: ok, unreachable: critical, tlsc: critical, auth: critical, firewall: critical,
		},
	},
	{
		Name:  "10 UNIX socket open to all",
		Guide: "the host address as in 2, plus unixsocket in a 0755 directory with unixsocketperm 777 and no password",
		Setup: func(t testing.TB, s *Site) {
			dir := t.TempDir()
			for _, d := range []string{dir, filepath.Dir(dir)} {
				if err := os.Chmod(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			s.StartRedis(t, RedisSpec{Config: append(remote(s), "unixsocket "+filepath.Join(dir, "redis.sock"), "unixsocketperm 777")})
		},
		Want: map[string]result.State{
			socket: critical,
			bind:   ok, reachable: ok, unreachable: critical, tlsc: critical, auth: critical, firewall: critical,
		},
	},
}

// hardened is every recommendation at once; the one row where every check
// must pass.
var hardened = Deployment{
	Name:  "9 hardened",
	Guide: "host address, protected mode, a password, TLS only with client certificates and strong suites, iptables for IPv4 and IPv6",
	Setup: func(t testing.TB, s *Site) {
		s.StartRedis(t, RedisSpec{
			Config: []string{"bind " + s.Redis.Addr4().String(), "protected-mode yes",
				`tls-ciphers "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305"`},
			TLS:      true,
			Password: "correct-horse-battery-staple",
		})
		iptablesRecipe(t, s, "iptables", s.Sensu.Addr4(), "6379")
		iptablesRecipe(t, s, "ip6tables", netip.Addr{}, "6379")
	},
	Want: map[string]result.State{
		socket: ok,
		bind:   ok, reachable: ok, unreachable: ok, tlsc: ok, auth: ok, firewall: ok,
	},
}

func init() { deployments = append(deployments, hardened) }

// iptablesRecipe applies the guide's four iptables commands with cmd
// (iptables or ip6tables), the client address and the port as given; an
// invalid client leaves out the rule that allows it.
func iptablesRecipe(t testing.TB, s *Site, cmd string, client netip.Addr, port string) {
	h := s.Redis
	h.MustExec(t, cmd, "-A", "INPUT", "-i", "lo", "-j", "ACCEPT")
	h.MustExec(t, cmd, "-A", "INPUT", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT")
	if client.IsValid() {
		h.MustExec(t, cmd, "-A", "INPUT", "-p", "tcp", "-s", netip.PrefixFrom(client, client.BitLen()).String(),
			"--dport", port, "-m", "conntrack", "--ctstate", "NEW,ESTABLISHED", "-j", "ACCEPT")
	}
	h.MustExec(t, cmd, "-P", "INPUT", "DROP")
}

// parallelRows is how many deployments run at once. Two cores: firewalld's
// start-up is the only CPU-heavy step, and the checks' deadlines keep
// their margins at this level.
const parallelRows = 3

func TestDeployments(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "iptables", "ip6tables", "redis-server")
	bins := Binaries(t)
	labels := make([]string, len(Columns))
	for i, c := range Columns {
		labels[i] = c.Label()
	}
	m := NewMatrix(labels)
	for _, d := range deployments {
		m.AddRow(d.Name)
	}
	// A few rows at a time: most of a row's time is spent waiting for
	// SYNs the firewall drops, not on the CPU.
	slots := make(chan struct{}, parallelRows)
	var mu sync.Mutex
	var sites []*Site
	keep := func(s *Site) { mu.Lock(); sites = append(sites, s); mu.Unlock() }
	t.Run("rows", func(t *testing.T) {
		for _, d := range deployments {
			t.Run(d.Name, func(t *testing.T) {
				t.Parallel()
				slots <- struct{}{}
				defer func() { <-slots }()
				cells := Run(t, d, bins, m, keep)
				for label, name := range d.Golden {
					if c := cells[label]; c != nil && c.Ran {
						golden(t, name, c)
					}
				}
			})
		}
	})
	// Every row's cleanups have run by now, on whatever path it ended.
	for _, s := range sites {
		if left := s.Leftovers(); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	}
	for b, p := range bins {
		if p == "" {
			t.Logf("%s: cmd/%s does not exist yet; its column is skipped", b, b)
		}
	}
	if failed := m.Failed(); len(failed) > 0 {
		t.Errorf("%d of the cells disagree with the guide's expectations:\n%s", len(failed), m.Render(true))
		return
	}
	t.Logf("every deployment as expected:\n%s", m.Render(false))
	if *showCells {
		t.Logf("every cell:\n%s", m.Details())
	}
}
