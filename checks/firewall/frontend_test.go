package firewall

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// An inactive ufw is said so, through the whole check: its rules are not
// what the kernel runs, and no port is explained in its terms.
func TestUFWInactive(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "ufw")
	for path, content := range map[string]string{
		filepath.Join(dir, "ufw.conf"):        "ENABLED=no\n",
		filepath.Join(dir, "user.rules"):      "### tuple ### allow tcp 6379 0.0.0.0/0 any 192.0.2.2 in\n",
		filepath.Join(dir, "user6.rules"):     "",
		filepath.Join(root, "default", "ufw"): "DEFAULT_INPUT_POLICY=\"DROP\"\n",
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
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
