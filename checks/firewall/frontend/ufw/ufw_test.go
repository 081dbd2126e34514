package ufw

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/describe"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/system"
)

// Tuples as ufw 0.36.2 writes them for the guide's recipe (deny 6379,
// then allow the trusted host) and an IPv6 allow on 26379.
const (
	userRules = `*filter
### RULES ###

### tuple ### deny any 6379 0.0.0.0/0 any 0.0.0.0/0 in
-A ufw-user-input -p tcp --dport 6379 -j DROP
-A ufw-user-input -p udp --dport 6379 -j DROP

### tuple ### allow tcp 6379 192.0.2.1 any 192.0.2.2 in
-A ufw-user-input -p tcp -d 192.0.2.1 --dport 6379 -s 192.0.2.2 -j ACCEPT

### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 OpenSSH - in
-A ufw-user-input -p tcp --dport 22 -j ACCEPT -m comment --comment 'dapp_OpenSSH'

### tuple ### allow tcp 16379:16380 0.0.0.0/0 any 198.51.100.0/24 in_eth0
-A ufw-user-input -i eth0 -p tcp --dport 16379:16380 -s 198.51.100.0/24 -j ACCEPT
COMMIT
`
	user6Rules = `### tuple ### allow any 26379 ::/0 any 2001:db8::2 in
-A ufw6-user-input -p tcp --dport 26379 -s 2001:db8::2 -j ACCEPT
`
)

func writeUFW(t *testing.T, enabled, policy string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "ufw")
	for path, content := range map[string]string{
		filepath.Join(dir, "ufw.conf"):        "# comment\nENABLED=" + enabled + "\nLOGLEVEL=low\n",
		filepath.Join(dir, "user.rules"):      userRules,
		filepath.Join(dir, "user6.rules"):     user6Rules,
		filepath.Join(root, "default", "ufw"): "DEFAULT_INPUT_POLICY=\"" + policy + "\"\n",
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

func TestUFWAllowed(t *testing.T) {
	u, ok, err := Read(context.Background(), system.Host{}, writeUFW(t, "yes", "DROP"))
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if !u.Enabled || u.InputPolicy != "DROP" || len(u.Rules) != 5 {
		t.Fatalf("read %+v", u)
	}
	// First match wins: the deny shadows the allow of the trusted host.
	a, rules, specific := u.Allowed(eval.Query{Family: eval.IPv4, Port: 6379})
	if !describe.Empty(a) || len(rules) != 2 || !specific {
		t.Errorf("6379: allowed %v, %d rules, specific %v", a.Prefixes(), len(rules), specific)
	}
	a, _, _ = u.Allowed(eval.Query{Family: eval.IPv4, Port: 16380})
	if len(a.Prefixes()) != 1 || a.Prefixes()[0].String() != "198.51.100.0/24" {
		t.Errorf("16380: allowed %v", a.Prefixes())
	}
	a, _, _ = u.Allowed(eval.Query{Family: eval.IPv6, Port: 26379})
	if len(a.Prefixes()) != 1 || a.Prefixes()[0].String() != "2001:db8::2/128" {
		t.Errorf("26379 IPv6: allowed %v", a.Prefixes())
	}
	// The default policy admits what no rule matched.
	u.InputPolicy = "ACCEPT"
	a, _, _ = u.Allowed(eval.Query{Family: eval.IPv6, Port: 6379})
	if !describe.AllButLoopback(a, eval.IPv6) {
		t.Errorf("6379 IPv6 with default accept: %v", a.Prefixes())
	}
}

// An inactive ufw is said so, and its rules explain no port: they are not
// what the kernel runs.
func TestUFWInactive(t *testing.T) {
	u, ok, err := Read(context.Background(), system.Host{}, writeUFW(t, "no", "DROP"))
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	notes := u.Notes(nil)
	if len(notes) != 1 || notes[0].Warning || !strings.Contains(notes[0].Text, "ufw is inactive") {
		t.Errorf("notes %+v", notes)
	}
	if p := u.Port(eval.Query{Family: eval.IPv4, Port: 6379}); len(p) != 0 {
		t.Errorf("inactive ufw explained as active: %+v", p)
	}
}

// An active ufw explains the audited port but not a host port published
// to it (FORWARD, not ufw's input rules).
func TestUFWPort(t *testing.T) {
	u, _, err := Read(context.Background(), system.Host{}, writeUFW(t, "yes", "DROP"))
	if err != nil {
		t.Fatal(err)
	}
	p := u.Port(eval.Query{Family: eval.IPv4, Port: 16379})
	if len(p) != 1 || p[0].Text != "ufw: tcp/16379 IPv4 allowed from 198.51.100.0/24 (1 matching rule(s), default incoming drop); some rules are limited to a destination or interface, counted as if they were not" {
		t.Errorf("port %+v", p)
	}
	if p := u.Port(eval.Query{Family: eval.IPv4, Port: 8080, To: 6379}); len(p) != 0 {
		t.Errorf("published port explained: %+v", p)
	}
	if len(u.Notes(nil)) != 0 {
		t.Errorf("notes for an active ufw: %+v", u.Notes(nil))
	}
}
