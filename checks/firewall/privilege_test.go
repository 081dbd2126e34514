package firewall

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// TestUnprivileged runs the binary as nobody, as a Sensu agent's user: the
// live mode is UNKNOWN and names the sudoers line and the offline
// options; the offline mode then works without privilege.
func TestUnprivileged(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "setpriv")
	// A directory nobody can enter and read: the binary and the dumps.
	dir, err := os.MkdirTemp("", "fw-unpriv-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, Name)
	copyFile(t, bintest.Build(t, Name), bin, 0o755)
	src := fwdata(t, "nat", "docker-user")
	for _, f := range []string{"nft.json", "iptables-nft.save", "ip6tables-nft.save", "routes.json"} {
		copyFile(t, filepath.Join(src, f), filepath.Join(dir, f), 0o644)
	}
	asNobody := []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"}

	r := bintest.Run(t, 20*time.Second, nil, append(asNobody, bin, "--trusted", "192.0.2.0/25")...)
	line, perf, _ := strings.Cut(r.Stdout, "\n")
	if r.Code != 3 || perf != "| check_state=3;;;0;3\n" {
		t.Fatalf("exit %d, want 3, one line and the state metric: %q", r.Code, r.Stdout)
	}
	for _, want := range []string{
		"redis-firewall-check UNKNOWN: insufficient privilege to read the firewall: ",
		"CAP_NET_ADMIN", "user nobody lacks",
		"`nobody ALL=(root) NOPASSWD: " + bin + "`",
		"sudo -n " + bin,
		"ip -j route show table all",
		"--nft-json, --iptables-save, --ip6tables-save, --ipset-save and --routes",
	} {
		if !strings.Contains(line, want) {
			t.Errorf("advice lacks %q:\n%s", want, line)
		}
	}
	if r.Stderr != "" {
		t.Errorf("stderr: %q", r.Stderr)
	}

	r = bintest.Run(t, 20*time.Second, nil, append(asNobody, bin, "--trusted", "192.0.2.0/25", "--ports", "6379",
		"--nft-json", filepath.Join(dir, "nft.json"), "--iptables-save", filepath.Join(dir, "iptables-nft.save"),
		"--ip6tables-save", filepath.Join(dir, "ip6tables-nft.save"), "--routes", filepath.Join(dir, "routes.json"))...)
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "redis-firewall-check OK: ") {
		t.Errorf("offline as nobody: exit %d\n%s", r.Code, r.Stdout)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	if out, err := exec.Command("cp", from, to).CombinedOutput(); err != nil {
		t.Fatalf("cp %s: %v: %s", from, err, out)
	}
	if err := os.Chmod(to, mode); err != nil {
		t.Fatal(err)
	}
}
