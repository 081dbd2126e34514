package firewalld

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/describe"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/system"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// fixture is a directory of the firewalld fixtures.
func fixture(t testing.TB, elem ...string) string {
	return testenv.Testdata(t, append([]string{"firewall", "firewalld"}, elem...)...)
}

// readFixture reads a fixture directory as the permanent configuration,
// over the fixture's own packaged zones and services.
func readFixture(t *testing.T, etc string) *Config {
	t.Helper()
	fw, ok, err := readXML(context.Background(), system.Host{}, fixture(t, etc), fixture(t, "lib"))
	if err != nil || !ok {
		t.Fatalf("%s: ok=%v err=%v", etc, ok, err)
	}
	return fw
}

func q(fam eval.Family, port uint16) eval.Query { return eval.Query{Family: fam, Port: port} }

func TestFirewalldGuideRecipe(t *testing.T) {
	fw := readFixture(t, "guide/etc")
	if fw.DefaultZone != "public" || fw.Zones["redis"] == nil || fw.Zones["public"] == nil {
		t.Fatalf("read %+v", fw)
	}
	z := fw.Zones["redis"]
	if len(z.Sources) != 1 || z.Sources[0] != "198.51.100.30" || len(z.Ports) != 1 || z.Ports[0].String() != "6379/tcp" || z.Target != "default" {
		t.Fatalf("zone redis: %+v", z)
	}
	for _, c := range []struct {
		q       eval.Query
		allowed string
		says    string
	}{
		{q(eval.IPv4, 6379), "198.51.100.30/32", "firewalld (permanent configuration): tcp/6379 IPv4: zone redis (sources 198.51.100.30/32) allows it (port 6379/tcp); other sources fall into zone public (default), which rejects it"},
		// IPv6 is not bound to the redis zone: it falls into public,
		// which rejects it; the recipe locks IPv6 out rather than
		// leaving it open.
		{q(eval.IPv6, 6379), "", "firewalld (permanent configuration): tcp/6379 IPv6: no zone binds IPv6 sources: they fall into zone public (default), which rejects it"},
		{q(eval.IPv4, 16379), "", "firewalld (permanent configuration): tcp/16379 IPv4: zone redis (sources 198.51.100.30/32) rejects it; other sources fall into zone public (default), which rejects it"},
		{q(eval.IPv4, 26379), "", ""},
		{q(eval.IPv6, 26379), "", ""},
		{q(eval.IPv4, 22), "0.0.0.0/0 except 198.51.100.30/32", ""},
	} {
		got := fw.Allowed(c.q)
		if s := setString(got, c.q.Family); s != c.allowed {
			t.Errorf("%v: allowed %q, want %q", c.q, s, c.allowed)
		}
		if c.says != "" {
			if s := says(fw, c.q); s != c.says {
				t.Errorf("%v:\n got %s\nwant %s", c.q, s, c.says)
			}
		}
	}
}

// setString names a set for comparisons: "" when empty.
func setString(s *netipx.IPSet, fam eval.Family) string {
	if describe.Empty(s) {
		return ""
	}
	var b strings.Builder
	b.WriteString(describe.Untrusted(s, fam, nil))
	return b.String()
}

func TestFirewalldMixed(t *testing.T) {
	fw := readFixture(t, "mixed")
	if fw.DefaultZone != "home" || fw.StrictForwardPorts != "yes" {
		t.Fatalf("firewalld.conf: %q %q", fw.DefaultZone, fw.StrictForwardPorts)
	}
	for _, c := range []struct {
		q    eval.Query
		says string
	}{
		{q(eval.IPv4, 6379), "firewalld (permanent configuration): tcp/6379 IPv4: zone trusted (sources 192.0.2.128/25) allows it (target ACCEPT); " +
			"on eth1, zone internal allows it (service redis); other sources fall into (on other interfaces) zone home (default), which allows it from " +
			"203.0.113.0/29, 203.0.113.8/32, 203.0.113.10-203.0.113.255 (rich rule `rule family=\"ipv4\" source address=\"203.0.113.0/24\" service name=\"redis\" accept`) and rejects the rest"},
		{q(eval.IPv4, 26379), "firewalld (permanent configuration): tcp/26379 IPv4: zone trusted (sources 192.0.2.128/25) allows it (target ACCEPT); " +
			"on eth1, zone internal rejects it; other sources fall into (on other interfaces) zone home (default), which allows it from 198.51.100.0/24 (service redis-sentinel) and rejects the rest"},
		{q(eval.IPv6, 26379), "firewalld (permanent configuration): tcp/26379 IPv6: zone trusted (sources 2001:db8::2/128) allows it (target ACCEPT); " +
			"on eth1, zone internal rejects it; other sources fall into (on other interfaces) zone home (default), which allows it (service redis-sentinel)"},
		{q(eval.IPv6, 6379), "firewalld (permanent configuration): tcp/6379 IPv6: zone trusted (sources 2001:db8::2/128) allows it (target ACCEPT); " +
			"on eth1, zone internal allows it (service redis); other sources fall into (on other interfaces) zone home (default), which allows it from 2001:db8:1::/48 " +
			"(rich rule `rule family=\"ipv6\" source address=\"2001:db8:1::/48\" port port=\"6379\" protocol=\"tcp\" accept limit`) and rejects the rest; " +
			"some rules are limited to a destination or source port, counted as if they were not"},
		{q(eval.IPv4, 16379), "firewalld (permanent configuration): tcp/16379 IPv4: zone trusted (sources 192.0.2.128/25) allows it (target ACCEPT); " +
			"on eth1, zone internal allows it (port 16000-16999/tcp); other sources fall into (on other interfaces) zone home (default), which rejects it"},
	} {
		if s := says(fw, c.q); s != c.says {
			t.Errorf("%v:\n got %s\nwant %s", c.q, s, c.says)
		}
	}
	_, notes := fw.paths(q(eval.IPv4, 6379))
	if len(notes) != 1 || !strings.Contains(notes[0], "ipset source is not resolved") {
		t.Errorf("notes %q", notes)
	}
}

func TestFirewalldDrift(t *testing.T) {
	perm := readFixture(t, "guide/etc")
	run := readFixture(t, "guide/etc")
	run.Runtime = true
	rule, err := ParseRichRule(`rule family="ipv4" source address="203.0.113.0/24" port port="6379" protocol="tcp" accept`)
	if err != nil {
		t.Fatal(err)
	}
	pub := *run.Zones["public"]
	pub.Rules = append(pub.Rules, rule)
	pub.Interfaces = []string{"eth0"}
	run.Zones["public"] = &pub
	run.Permanent = perm
	run.Drift = drift(run, perm)
	want := []string{"zone public: runtime-only interface eth0",
		"zone public: runtime-only rich rule `rule family=\"ipv4\" source address=\"203.0.113.0/24\" port port=\"6379\" protocol=\"tcp\" accept`"}
	if strings.Join(run.Drift, "\n") != strings.Join(want, "\n") {
		t.Errorf("drift %q, want %q", run.Drift, want)
	}
	if d := driftSays(run, q(eval.IPv4, 6379)); !strings.Contains(d, "the running zones allow it from 198.51.100.30/32, 203.0.113.0/24, the permanent ones from 198.51.100.30/32") {
		t.Errorf("6379 drift: %q", d)
	}
	// The interface changes nothing for the port: no warning.
	if d := driftSays(run, q(eval.IPv4, 26379)); d != "" {
		t.Errorf("26379 drift: %q", d)
	}
}

func TestParseRichRule(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`rule family="ipv4" source address="198.51.100.5" port port="6379" protocol="tcp" accept`, ""},
		{`rule family='ipv6' source not address="2001:db8::/32" service name="redis" log prefix="x y" level="info" reject type="icmp6-adm-prohibited"`,
			`rule family="ipv6" source not address="2001:db8::/32" service name="redis" log reject`},
		{`rule priority="-5" source ipset="trusted" drop`, `rule priority="-5" source ipset="trusted" drop`},
		{`rule protocol value="tcp" accept limit value="1/s"`, `rule protocol value="tcp" accept limit`},
		{`rule family="ipv4" forward-port port="7000" protocol="tcp" to-port="6379"`, `rule family="ipv4" forward-port`},
	} {
		r, err := ParseRichRule(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		want := c.want
		if want == "" {
			want = c.in
		}
		if r.String() != want {
			t.Errorf("%s:\n got %s\nwant %s", c.in, r.String(), want)
		}
		again, err := ParseRichRule(r.String())
		if err != nil || again.String() != r.String() {
			t.Errorf("%s: canonical form does not parse back: %v", r, err)
		}
	}
	for _, bad := range []string{``, `accept`, `rule family="ipv5" accept`, `rule priority="x" accept`, `rule port port="x" protocol="tcp" accept`,
		`rule source address="1.2.3.4`, `rule accept drop`, `rule service name="a" port port="1" protocol="tcp" accept`, `rule frobnicate`,
		`rule not address="1.2.3.4" accept`, `rule =x`} {
		if _, err := ParseRichRule(bad); !errors.Is(err, ErrRichRule) {
			t.Errorf("%q: err %v, want ErrRichRule", bad, err)
		}
	}
}

func TestParseZoneErrors(t *testing.T) {
	for file, want := range map[string]string{
		"bad-target.xml": "line 7: <zone> after the root element",
		"unclosed.xml":   "line 6: element <rule> closed by </zone>",
		"bad-port.xml":   `line 4: port "63790-6379"`,
	} {
		f, err := os.Open(fixture(t, "bad", file))
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParseZone(f)
		f.Close()
		if !errors.Is(err, ErrXML) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", file, err, want)
		}
	}
	if _, err := ParseZone(strings.NewReader(`<service/>`)); err == nil {
		t.Error("a service file read as a zone")
	}
	big := "<zone>" + strings.Repeat("<!-- padding -->", maxFile/16+1) + "</zone>"
	if _, err := ParseZone(strings.NewReader(big)); !errors.Is(err, ErrXML) {
		t.Errorf("oversized zone: %v", err)
	}
}

func TestFirewalldOfflineSelection(t *testing.T) {
	// Offline without --firewalld-dir: nothing to explain.
	fw, err := Read(context.Background(), system.Host{}, Source{Offline: true})
	if fw != nil || err != nil {
		t.Errorf("offline without a directory: %v %v", fw, err)
	}
	fw, err = Read(context.Background(), system.Host{}, Source{Dir: fixture(t, "guide", "etc"),
		Lib: fixture(t, "lib"), Offline: true})
	if err != nil || fw == nil || fw.Runtime || !errors.Is(fw.RuntimeErr, errOffline) {
		t.Errorf("offline: %+v %v", fw, err)
	}
	_, err = Read(context.Background(), system.Host{}, Source{Dir: t.TempDir(), Lib: t.TempDir(), Offline: true})
	if err == nil {
		t.Error("an empty directory was taken for firewalld's configuration")
	}
}

// TestFirewalldBut: a port published through DNAT is accepted by the
// kernel beyond firewalld's zones; the finding says so in firewalld's
// terms and names StrictForwardPorts with the version it needs.
func TestFirewalldBut(t *testing.T) {
	fw := readFixture(t, "guide/etc")
	fw.Version = "1.3.3"
	var b netipx.IPSetBuilder
	b.AddPrefix(netip.MustParsePrefix("0.0.0.0/0"))
	b.RemovePrefix(netip.MustParsePrefix("127.0.0.0/8"))
	all, _ := b.IPSet()
	nat := &eval.NatTarget{Addr: netip.MustParseAddr("203.0.113.130"), Port: 6379}
	res := &eval.Result{Accepted: all, Via: []eval.Delivery{{Nat: nat, Forwarded: true}}}
	var tb netipx.IPSetBuilder
	tb.AddPrefix(netip.MustParsePrefix("198.51.100.30/32"))
	only, _ := tb.IPSet()
	got := but(fw, q(eval.IPv4, 6379), res, only)
	want := "; firewalld allows 6379/tcp only from 198.51.100.30/32, but the kernel also accepts 0.0.0.0/0 except trusted networks " +
		"(firewalld accepts DNAT'd connections ahead of every zone with `ct status dnat accept`; StrictForwardPorts=yes, which needs firewalld ≥ 2.3 (this is 1.3.3), stops that for published ports)"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// Nothing beyond the zones: nothing to add.
	if s := but(fw, q(eval.IPv4, 6379), &eval.Result{Accepted: only}, only); s != "" {
		t.Errorf("agreeing verdicts: %q", s)
	}
}
