package firewall

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
)

// TestGoldenFirewalld pins the binary's output on the guide's firewalld
// recipe, captured from the real firewalld 1.3.3 (nft.json) with its zone
// XML: all of Redis's ports (the trusted host is locked out of 16379 and
// 26379; each WARNING gives the rich rule that lets it in) and only 6379.
func TestGoldenFirewalld(t *testing.T) {
	bin := bintest.Build(t, Name)
	dir := fwdata(t, "firewalld", "guide")
	args := []string{bin, "--nft-json", filepath.Join(dir, "nft.json"), "--iptables-save", filepath.Join(dir, "iptables-nft.save"),
		"--ip6tables-save", filepath.Join(dir, "ip6tables-nft.save"), "--firewalld-dir", filepath.Join(dir, "etc"), "--trusted", "198.51.100.30"}
	const fwNotes = `OK: note: firewalld's runtime state is not available (offline mode): explained by its permanent configuration, which may differ from what runs
OK: note: offline: iptables-legacy tables, if the host has any, are not part of the given dumps
`
	// admit is what firewalld adds to the WARNING that the trusted host
	// is locked out of a port: the rich rule that lets it in.
	admit := func(port string) string {
		return "firewalld's zone redis (sources 198.51.100.30/32) refuses it: run `firewall-cmd --permanent --zone=redis --add-rich-rule='rule family=\"ipv4\" source address=\"198.51.100.30\" port port=\"" +
			port + "\" protocol=\"tcp\" accept'`; then `firewall-cmd --reload`; "
	}
	// reach is how the zone's chain is entered: firewalld's INPUT jumps
	// to its zone dispatch, which goes to the zone of the source.
	const reach = " (reached from nft inet firewalld filter_INPUT handle 33: jump filter_INPUT_ZONES → nft inet firewalld filter_INPUT_ZONES handle 127: ip saddr 198.51.100.30 goto filter_IN_redis)"
	for _, c := range []struct {
		ports string
		code  int
		out   string
	}{
		{"6379,16379,26379", 1, `redis-firewall-check WARNING: tcp/16379 IPv4: trusted 198.51.100.30/32 not accepted; ` + admit("16379") + `rejected by nft inet firewalld filter_IN_redis handle 72: reject` + reach + ` (and 1 more)
WARNING: tcp/16379 IPv4: trusted 198.51.100.30/32 not accepted; ` + admit("16379") + `rejected by nft inet firewalld filter_IN_redis handle 72: reject` + reach + `
WARNING: tcp/26379 IPv4: trusted 198.51.100.30/32 not accepted; ` + admit("26379") + `rejected by nft inet firewalld filter_IN_redis handle 72: reject` + reach + `
OK: tcp/6379 IPv4: accepted only from trusted 198.51.100.30/32
OK: firewalld (permanent configuration): tcp/6379 IPv4: zone redis (sources 198.51.100.30/32) allows it (port 6379/tcp); other sources fall into zone public (default), which rejects it
OK: tcp/6379 IPv6: no remote source accepted
OK: firewalld (permanent configuration): tcp/6379 IPv6: no zone binds IPv6 sources: they fall into zone public (default), which rejects it
OK: tcp/16379 IPv4: no remote source accepted
OK: firewalld (permanent configuration): tcp/16379 IPv4: zone redis (sources 198.51.100.30/32) rejects it; other sources fall into zone public (default), which rejects it
OK: tcp/16379 IPv6: no remote source accepted
OK: firewalld (permanent configuration): tcp/16379 IPv6: no zone binds IPv6 sources: they fall into zone public (default), which rejects it
OK: tcp/26379 IPv4: no remote source accepted
OK: firewalld (permanent configuration): tcp/26379 IPv4: zone redis (sources 198.51.100.30/32) rejects it; other sources fall into zone public (default), which rejects it
OK: tcp/26379 IPv6: no remote source accepted
OK: firewalld (permanent configuration): tcp/26379 IPv6: no zone binds IPv6 sources: they fall into zone public (default), which rejects it
` + fwNotes + "| check_state=1;;;0;3 exposed_port_families=0 rules=136\n"},
		{"6379", 0, `redis-firewall-check OK: tcp/6379 IPv4: accepted only from trusted 198.51.100.30/32 (and 5 more)
OK: tcp/6379 IPv4: accepted only from trusted 198.51.100.30/32
OK: firewalld (permanent configuration): tcp/6379 IPv4: zone redis (sources 198.51.100.30/32) allows it (port 6379/tcp); other sources fall into zone public (default), which rejects it
OK: tcp/6379 IPv6: no remote source accepted
OK: firewalld (permanent configuration): tcp/6379 IPv6: no zone binds IPv6 sources: they fall into zone public (default), which rejects it
` + fwNotes + "| check_state=0;;;0;3 exposed_port_families=0 rules=136\n"},
	} {
		r := bintest.Run(t, 20*time.Second, nil, append(args, "--ports", c.ports)...)
		if r.Stdout != c.out || r.Code != c.code || r.Stderr != "" {
			t.Errorf("--ports %s: exit %d, stderr %q, stdout:\n%s\nwant exit %d, stdout:\n%s", c.ports, r.Code, r.Stderr, r.Stdout, c.code, c.out)
		}
	}
	// A directory that does not exist is bad input.
	r := bintest.Run(t, 20*time.Second, nil, bin, "--nft-json", filepath.Join(dir, "nft.json"), "--firewalld-dir", "/nonexistent/firewalld")
	if r.Code != 3 || r.Stdout != "redis-firewall-check UNKNOWN: --firewalld-dir /nonexistent/firewalld: stat /nonexistent/firewalld: no such file or directory\n| check_state=3;;;0;3\n" {
		t.Errorf("missing directory: exit %d, %q", r.Code, r.Stdout)
	}
}
