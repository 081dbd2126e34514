package firewall

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// An inactive ufw is said so, through the whole check: its rules are not
// what the kernel runs, and no port is explained in its terms.
func TestUFWInactive(t *testing.T) {
	dir := writeUFWDir(t, "no", "### tuple ### allow tcp 6379 0.0.0.0/0 any 192.0.2.2 in\n", "")
	cfg := Options{IptablesSave: fwdata(t, "scenarios", "ipt-nft-allowlist", "iptables-nft.save"),
		Ip6tablesSave: fwdata(t, "scenarios", "ipt-nft-allowlist", "ip6tables-nft.save"),
		IpsetSave:     fwdata(t, "scenarios", "ipt-nft-allowlist", "ipset.save"),
		UFWDir:        dir}
	r := Check(context.Background(), cfg)
	found := false
	for _, f := range r.Findings {
		found = found || (f.State == result.OK && strings.Contains(f.Text, "ufw is inactive"))
		if strings.HasPrefix(f.Text, "ufw:") {
			t.Errorf("inactive ufw explained as active: %s", f.Text)
		}
	}
	if !found {
		t.Errorf("no inactive note: %v", r.Findings)
	}
}

// writeUFWDir writes a ufw configuration directory (and the defaults
// beside it) with the given tuples.
func writeUFWDir(t *testing.T, enabled, user, user6 string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "ufw")
	for path, content := range map[string]string{
		filepath.Join(dir, "ufw.conf"):        "ENABLED=" + enabled + "\n",
		filepath.Join(dir, "user.rules"):      user,
		filepath.Join(dir, "user6.rules"):     user6,
		filepath.Join(root, "default", "ufw"): "DEFAULT_INPUT_POLICY=\"DROP\"\n",
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The ufw corpus ruleset (captured from the real ufw: 6379 open to
// 192.0.2.0/24 and 2001:db8::/64) judged with one trusted host: each
// CRITICAL names the ufw rule as `ufw status numbered` would and the
// commands that close it, keeping the trusted host; the WARNING that the
// trusted IPv6 host is locked out of 26379 gives its allow. The tuples
// are those ufw 0.36.2 writes for the corpus's setup.sh.
func TestUFWFixThroughCheck(t *testing.T) {
	dir := writeUFWDir(t, "yes", `### tuple ### limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in
### tuple ### allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in
### tuple ### allow tcp 443 0.0.0.0/0 any 0.0.0.0/0 in
### tuple ### allow tcp 6379 0.0.0.0/0 any 192.0.2.0/24 in
### tuple ### allow tcp 26379 0.0.0.0/0 any 192.0.2.10 in
`, `### tuple ### limit tcp 22 ::/0 any ::/0 in
### tuple ### allow tcp 80 ::/0 any ::/0 in
### tuple ### allow tcp 443 ::/0 any ::/0 in
### tuple ### allow tcp 6379 ::/0 any 2001:db8::/64 in
`)
	corpus := func(f string) string { return fwdata(t, "corpus", "ufw", f) }
	cfg := Options{IptablesSave: corpus("iptables-nft.save"), Ip6tablesSave: corpus("ip6tables-nft.save"), IpsetSave: corpus("ipset.save"),
		UFWDir: dir, Trusted: []netip.Prefix{netip.MustParsePrefix("192.0.2.10/32"), netip.MustParsePrefix("2001:db8::2/128")}}
	r := Check(context.Background(), cfg)
	var buf strings.Builder
	if err := result.Render(&buf, Name, r); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, w := range []string{
		"CRITICAL: tcp/6379 IPv4: accepted from 192.0.2.0/29, 192.0.2.8/31, 192.0.2.11-192.0.2.255; ufw rule [4] `6379/tcp ALLOW IN 192.0.2.0/24` lets in 192.0.2.0/29, 192.0.2.8/31, 192.0.2.11-192.0.2.255: " +
			"run `ufw allow from 192.0.2.10 to any port 6379 proto tcp`; then `ufw delete allow from 192.0.2.0/24 to any port 6379 proto tcp`;",
		"CRITICAL: tcp/6379 IPv6: accepted from 2001:db8::/127, 2001:db8::3-2001:db8::ffff:ffff:ffff:ffff; ufw rule [9] `6379/tcp ALLOW IN 2001:db8::/64` lets in 2001:db8::/127, 2001:db8::3-2001:db8::ffff:ffff:ffff:ffff: " +
			"run `ufw allow from 2001:db8::2 to any port 6379 proto tcp`; then `ufw delete allow from 2001:db8::/64 to any port 6379 proto tcp`;",
		"WARNING: tcp/26379 IPv6: trusted 2001:db8::2/128 not accepted; ufw's default incoming policy (drop) refuses it: run `ufw allow from 2001:db8::2 to any port 26379 proto tcp`;",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("output lacks %q:\n%s", w, text)
		}
	}
}
