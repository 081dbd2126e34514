package firewalld

import (
	"net/netip"
	"testing"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
)

func set(t *testing.T, prefixes ...string) *netipx.IPSet {
	t.Helper()
	var b netipx.IPSetBuilder
	for _, p := range prefixes {
		b.AddPrefix(netip.MustParsePrefix(p))
	}
	b.RemovePrefix(netip.MustParsePrefix("127.0.0.0/8"))
	s, err := b.IPSet()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// zones is a configuration of the given zones, public the default, with
// the redis service.
func zones(zs ...*Zone) *Config {
	fw := &Config{DefaultZone: "public", Zones: map[string]*Zone{},
		Services: map[string]*Service{"redis": {Name: "redis", Ports: []Port{{"6379", "tcp"}}}}}
	for _, z := range zs {
		fw.Zones[z.Name] = z
	}
	return fw
}

// The commands a finding gives for each kind of element, in the running
// or the permanent zones, with the trusted host kept.
func TestFirewalldFixCommands(t *testing.T) {
	all := &eval.Result{Accepted: set(t, "0.0.0.0/0")}
	trust := set(t, "192.0.2.2/32")
	for _, c := range []struct {
		name string
		fw   func() *Config
		res  *eval.Result
		q    eval.Query
		want string
	}{
		{"service in the default zone, trusted host kept", func() *Config {
			return zones(&Zone{Name: "public", Target: "default", Services: []string{"ssh", "redis"}})
		}, all, q(eval.IPv4, 6379),
			"; firewalld lets in 0.0.0.0/0 except trusted networks through zone public (default zone) by service redis: " +
				"run `firewall-cmd --permanent --zone=public --add-rich-rule='rule family=\"ipv4\" source address=\"192.0.2.2\" port port=\"6379\" protocol=\"tcp\" accept'`; " +
				"then `firewall-cmd --permanent --zone=public --remove-service=redis`; then `firewall-cmd --reload`"},
		{"an untrusted source bound to a zone of target ACCEPT", func() *Config {
			return zones(&Zone{Name: "public", Target: "default"},
				&Zone{Name: "trusted", Target: "ACCEPT", Sources: []string{"192.0.2.2", "203.0.113.0/24"}})
		}, &eval.Result{Accepted: set(t, "192.0.2.2/32", "203.0.113.0/24")}, q(eval.IPv4, 6379),
			"; firewalld lets in 203.0.113.0/24 through zone trusted (source 203.0.113.0/24) by target ACCEPT: " +
				"run `firewall-cmd --permanent --zone=trusted --remove-source=203.0.113.0/24`; then `firewall-cmd --reload`"},
		{"a port and the zone's target on an interface", func() *Config {
			return zones(&Zone{Name: "public", Target: "default"},
				&Zone{Name: "dmz", Target: "ACCEPT", Interfaces: []string{"eth1"}, Ports: []Port{{"6000-7000", "tcp"}}})
		}, all, q(eval.IPv4, 6379),
			"; firewalld lets in 0.0.0.0/0 except trusted networks through zone dmz (interfaces eth1) by port 6000-7000/tcp, zone dmz (interfaces eth1) by target ACCEPT: " +
				"run `firewall-cmd --permanent --zone=dmz --add-rich-rule='rule family=\"ipv4\" source address=\"192.0.2.2\" port port=\"6379\" protocol=\"tcp\" accept'`; " +
				"then `firewall-cmd --permanent --zone=dmz --remove-port=6000-7000/tcp`; then `firewall-cmd --permanent --zone=dmz --set-target=default`; then `firewall-cmd --reload`"},
		{"a runtime-only rich rule", func() *Config {
			perm := zones(&Zone{Name: "public", Target: "default"})
			r, err := ParseRichRule(`rule family="ipv4" source address="203.0.113.0/24" port port="6379" protocol="tcp" accept`)
			if err != nil {
				t.Fatal(err)
			}
			run := zones(&Zone{Name: "public", Target: "default", Rules: []RichRule{r}})
			run.Runtime, run.Permanent = true, perm
			run.Drift = drift(run, perm)
			return run
		}, &eval.Result{Accepted: set(t, "203.0.113.0/24")}, q(eval.IPv4, 6379),
			"; firewalld lets in 203.0.113.0/24 through zone public (default zone) by rich rule `rule family=\"ipv4\" source address=\"203.0.113.0/24\" port port=\"6379\" protocol=\"tcp\" accept`: " +
				"run `firewall-cmd --zone=public --remove-rich-rule='rule family=\"ipv4\" source address=\"203.0.113.0/24\" port port=\"6379\" protocol=\"tcp\" accept'` (runtime only: the permanent configuration does not have it)"},
		{"a permanent service with drift elsewhere", func() *Config {
			perm := zones(&Zone{Name: "public", Target: "default", Services: []string{"redis"}})
			run := zones(&Zone{Name: "public", Target: "default", Services: []string{"redis"}, Interfaces: []string{"eth0"}})
			run.Runtime, run.Permanent = true, perm
			run.Drift = drift(run, perm)
			return run
		}, &eval.Result{Accepted: set(t, "203.0.113.0/24")}, q(eval.IPv4, 6379),
			"; firewalld lets in 203.0.113.0/24 through zone public (default zone) by service redis: " +
				"run `firewall-cmd --permanent --zone=public --remove-service=redis`; then `firewall-cmd --reload` (the reload also undoes the runtime-only changes of the drift note)"},
		{"a forward-port of the zone", func() *Config {
			fw := zones(&Zone{Name: "public", Target: "default", ForwardPorts: []Forward{{Port: "7000", Proto: "tcp", ToPort: "6379", ToAddr: "203.0.113.130"}}})
			fw.StrictForwardPorts = "yes"
			return fw
		}, &eval.Result{Accepted: set(t, "0.0.0.0/0"), Via: []eval.Delivery{{Nat: &eval.NatTarget{Addr: netip.MustParseAddr("203.0.113.130"), Port: 6379}, Forwarded: true}}},
			eval.Query{Family: eval.IPv4, Port: 7000, To: 6379},
			"; firewalld publishes port 7000 through zone public forward-port port=7000:proto=tcp:toport=6379:toaddr=203.0.113.130: " +
				"run `firewall-cmd --permanent --zone=public --remove-forward-port=port=7000:proto=tcp:toport=6379:toaddr=203.0.113.130`; then `firewall-cmd --reload`; " +
				"firewalld allows 6379/tcp only from nowhere, but the kernel also accepts 0.0.0.0/0 except trusted networks beyond its permanent zones: if the running firewalld holds more, `firewall-cmd --reload` drops it; else the rule that accepts it is outside firewalld"},
	} {
		fw := c.fw()
		if got := fw.Fix(c.q, c.res, trust); got != c.want {
			t.Errorf("%s:\ngot  %s\nwant %s", c.name, got, c.want)
		}
	}
}

// Admit gives a trusted host a rich rule in the zone bound to its source,
// else in every zone it may come in through; what the zones allow but
// the kernel refuses is outside them.
func TestFirewalldAdmit(t *testing.T) {
	fw := zones(&Zone{Name: "public", Target: "default"},
		&Zone{Name: "internal", Target: "default", Interfaces: []string{"eth1"}},
		&Zone{Name: "redis", Target: "default", Sources: []string{"192.0.2.2"}, Ports: []Port{{"6379", "tcp"}}})
	rule := func(addr, port string) string {
		return `'rule family="ipv4" source address="` + addr + `" port port="` + port + `" protocol="tcp" accept'`
	}
	for _, c := range []struct {
		port    uint16
		missing string
		want    string
	}{
		{16379, "192.0.2.2/32", "; firewalld's zone redis (sources 192.0.2.2/32) refuses it: run `firewall-cmd --permanent --zone=redis --add-rich-rule=" + rule("192.0.2.2", "16379") + "`; then `firewall-cmd --reload`"},
		{6379, "198.51.100.30/32", "; firewalld's zone internal (interfaces eth1), zone public (default zone) refuse it: run `firewall-cmd --permanent --zone=internal --add-rich-rule=" + rule("198.51.100.30", "6379") +
			"`; then `firewall-cmd --permanent --zone=public --add-rich-rule=" + rule("198.51.100.30", "6379") + "`; then `firewall-cmd --reload`"},
		{6379, "192.0.2.2/32", "; firewalld's zones allow 192.0.2.2/32: the kernel refuses it outside them"},
	} {
		if got := fw.Admit(q(eval.IPv4, c.port), set(t, c.missing)); got != c.want {
			t.Errorf("%d %s:\ngot  %s\nwant %s", c.port, c.missing, got, c.want)
		}
	}
}
