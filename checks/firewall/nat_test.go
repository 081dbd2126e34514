package firewall

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/cidr"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// TestNatDumps evaluates the Docker layouts' golden dumps (captured by
// TestNamespaceDocker with FWTEST_CAPTURE=1) as offline mode does.
func TestNatDumps(t *testing.T) {
	for _, name := range []string{"docker-open", "docker-user"} {
		t.Run(name, func(t *testing.T) {
			dir := fwdata(t, "nat", name)
			rs, _ := Build(loadNat(t, dir))
			checkWant(t, Evaluate(rs, DefaultPorts), readWant(t, dir))
		})
	}
}

// The finding names the way in, and INPUT's allow-list is not taken for
// protection.
func TestNatJudgement(t *testing.T) {
	rs, notes := Build(loadNat(t, fwdata(t, "nat", "docker-open")))
	rep := Evaluate(rs, DefaultPorts)
	rep.Notes = notes
	r := JudgeReport(rep, mustPrefixes(t, "192.0.2.2"))
	if r.State != result.Critical {
		t.Fatalf("state %v, want CRITICAL", r.State)
	}
	want := map[string]bool{
		"tcp/6379 IPv4: accepted from 0.0.0.0/0":                                  false,
		"published through DNAT to 203.0.113.130:6379; INPUT rules do not apply":  false,
		"tcp/26379 IPv4 via host port 7000: accepted from 0.0.0.0/0":              false,
		"published through DNAT to 203.0.113.130:26379; INPUT rules do not apply": false,
	}
	for _, f := range r.Findings {
		if f.State != result.Critical {
			continue
		}
		for w := range want {
			if strings.Contains(f.Text, w) {
				want[w] = true
			}
		}
	}
	for w, seen := range want {
		if !seen {
			t.Errorf("no CRITICAL finding says %q: %v", w, r.Findings)
		}
	}
}

// Offline without --routes a DNAT target outside the private ranges is not
// guessed: UNKNOWN, with the option to give.
func TestNatWithoutRoutes(t *testing.T) {
	in := loadNat(t, fwdata(t, "nat", "docker-user"))
	in.Routes, in.RoutesErr = nil, ErrNotGiven
	rs, notes := Build(in)
	rep := Evaluate(rs, DefaultPorts)
	rep.Notes = notes
	r := JudgeReport(rep, mustPrefixes(t, "192.0.2.0/25"))
	if r.State != result.Unknown {
		t.Fatalf("state %v, want UNKNOWN: %v", r.State, r.Findings)
	}
	found := false
	for _, f := range r.Findings {
		found = found || strings.Contains(f.Text, "--routes")
	}
	if !found {
		t.Errorf("no finding mentions --routes: %v", r.Findings)
	}
}

func TestParseRoutes(t *testing.T) {
	rt, err := ParseRoutes(strings.NewReader(`[{"dst":"default","gateway":"192.0.2.254","dev":"eth0"},
{"dst":"203.0.113.128/26","dev":"docker0"},{"type":"local","dst":"192.0.2.1","dev":"eth0","table":"local"},
{"dst":"198.51.100.0/24","dev":"wg0","table":"vpn"},{"type":"blackhole","dst":"203.0.113.192/26"}]
[{"dst":"2001:db8::/64","dev":"eth0"},{"type":"local","dst":"2001:db8::1","dev":"eth0","table":"local"}]`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		addr  string
		local bool
		dev   string
		ok    bool
	}{
		{"192.0.2.1", true, "lo", true},
		{"203.0.113.130", false, "docker0", true},
		{"198.51.100.9", false, "eth0", true}, // table vpn is policy routing: not read
		{"203.0.113.200", false, "", false},
		{"2001:db8::1", true, "lo", true},
		{"2001:db8::9", false, "eth0", true},
		{"2001:db8:1::9", false, "", false}, // the IPv4 default does not cover IPv6
	} {
		local, dev, ok := rt.Route(mustAddr(t, c.addr))
		if local != c.local || dev != c.dev || ok != c.ok {
			t.Errorf("%s: got %v %q %v, want %v %q %v", c.addr, local, dev, ok, c.local, c.dev, c.ok)
		}
	}
	if _, err := ParseRoutes(strings.NewReader("")); err == nil {
		t.Error("empty input accepted")
	}
	if _, err := ParseRoutes(strings.NewReader(`[{"dst":"nonsense"}]`)); err == nil {
		t.Error("bad destination accepted")
	}
}

// TestGoldenDocker pins the binary's output for the Docker layout with a
// DOCKER-USER restriction on 6379 and host port 7000 still open.
func TestGoldenDocker(t *testing.T) {
	bin := bintest.Build(t, Name)
	dir := fwdata(t, "nat", "docker-user")
	args := []string{bin, "--nft-json", filepath.Join(dir, "nft.json"), "--iptables-save", filepath.Join(dir, "iptables-nft.save"),
		"--ip6tables-save", filepath.Join(dir, "ip6tables-nft.save"), "--trusted", "192.0.2.0/25", "--ports", "6379,26379"}
	want := map[bool]struct {
		code int
		out  string
	}{
		true: {2, `redis-firewall-check CRITICAL: tcp/26379 IPv4 via host port 7000: accepted from 0.0.0.0/0: no rule restricts it (only for 2 of 6 interface/destination/source-port classes: input any interface no rule names, to 0.0.0.0-203.0.113.129; input any interface no rule names, to 203.0.113.131-255.255.255.255): published through DNAT to 203.0.113.130:26379; INPUT rules do not apply; accepted by nft ip filter DOCKER handle 16: meta iifname != docker0 meta oifname docker0 ip daddr 203.0.113.130 tcp dport 26379 counter accept (reached from nft ip filter FORWARD handle 14: counter jump DOCKER-FORWARD → nft ip filter DOCKER-FORWARD handle 22: counter jump DOCKER-BRIDGE → nft ip filter DOCKER-BRIDGE handle 18: meta oifname docker0 counter jump DOCKER)
CRITICAL: tcp/26379 IPv4 via host port 7000: accepted from 0.0.0.0/0: no rule restricts it (only for 2 of 6 interface/destination/source-port classes: input any interface no rule names, to 0.0.0.0-203.0.113.129; input any interface no rule names, to 203.0.113.131-255.255.255.255): published through DNAT to 203.0.113.130:26379; INPUT rules do not apply; accepted by nft ip filter DOCKER handle 16: meta iifname != docker0 meta oifname docker0 ip daddr 203.0.113.130 tcp dport 26379 counter accept (reached from nft ip filter FORWARD handle 14: counter jump DOCKER-FORWARD → nft ip filter DOCKER-FORWARD handle 22: counter jump DOCKER-BRIDGE → nft ip filter DOCKER-BRIDGE handle 18: meta oifname docker0 counter jump DOCKER)
WARNING: tcp/26379 IPv4: trusted 192.0.2.0/25 not accepted; refused by the drop policy of nft ip filter INPUT (hook input, priority 0)
OK: tcp/6379 IPv4: accepted only from trusted 192.0.2.0/25: published through DNAT to 203.0.113.130:6379; INPUT rules do not apply
OK: tcp/6379 IPv6: no remote source accepted
OK: tcp/26379 IPv4: no remote source accepted
OK: tcp/26379 IPv6: no remote source accepted
OK: note: offline: iptables-legacy tables, if the host has any, are not part of the given dumps
| check_state=2;;;0;3 exposed_port_families=1 rules=29
`},
		false: {3, `redis-firewall-check UNKNOWN: tcp/6379 IPv4: cannot tell whether 0.0.0.0-126.255.255.255, 128.0.0.0/2, 192.0.0.0/23, 192.0.2.128-255.255.255.255 is accepted: no route to DNAT target 203.0.113.130 is known (and 3 more)
UNKNOWN: tcp/6379 IPv4: cannot tell whether 0.0.0.0-126.255.255.255, 128.0.0.0/2, 192.0.0.0/23, 192.0.2.128-255.255.255.255 is accepted: no route to DNAT target 203.0.113.130 is known
UNKNOWN: tcp/6379 IPv4: cannot tell whether trusted 192.0.2.0/31, 192.0.2.3-192.0.2.127 is accepted: no route to DNAT target 203.0.113.130 is known
UNKNOWN: tcp/26379 IPv4 via host port 7000: cannot tell whether 0.0.0.0-126.255.255.255, 128.0.0.0/2, 192.0.0.0/23, 192.0.2.128-255.255.255.255 is accepted: no route to DNAT target 203.0.113.130 is known
UNKNOWN: tcp/26379 IPv4 via host port 7000: cannot tell whether trusted 192.0.2.0/25 is accepted: no route to DNAT target 203.0.113.130 is known
WARNING: tcp/26379 IPv4: trusted 192.0.2.0/25 not accepted; refused by the drop policy of nft ip filter INPUT (hook input, priority 0)
OK: tcp/6379 IPv6: no remote source accepted
OK: tcp/26379 IPv4: no remote source accepted
OK: tcp/26379 IPv6: no remote source accepted
OK: note: offline: iptables-legacy tables, if the host has any, are not part of the given dumps
OK: note: offline without --routes: DNAT targets in private ranges are taken as containers behind an unknown interface, others as unknown (give --routes: ` + "`ip -j route show table all`" + ` output)
| check_state=3;;;0;3 exposed_port_families=0 rules=29
`},
	}
	for _, withRoutes := range []bool{true, false} {
		argv := args
		if withRoutes {
			argv = append(append([]string(nil), args...), "--routes", filepath.Join(dir, "routes.json"))
		}
		r := bintest.Run(t, 20*time.Second, nil, argv...)
		w := want[withRoutes]
		if r.Stdout != w.out || r.Code != w.code {
			t.Errorf("routes=%v: exit %d, stdout:\n%s\nwant exit %d, stdout:\n%s", withRoutes, r.Code, r.Stdout, w.code, w.out)
		}
		if r.Stderr != "" {
			t.Errorf("stderr: %q", r.Stderr)
		}
	}
	// --routes alone would silently ignore the live tables: refused.
	r := bintest.Run(t, 20*time.Second, nil, bin, "--routes", filepath.Join(dir, "routes.json"))
	if r.Code != 3 || !strings.Contains(r.Stdout, "--routes is for offline mode") {
		t.Errorf("--routes without dumps: exit %d, %q", r.Code, r.Stdout)
	}
}

func mustPrefixes(t *testing.T, items ...string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, s := range items {
		p, err := cidr.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
