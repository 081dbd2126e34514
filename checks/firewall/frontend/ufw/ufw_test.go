package ufw

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go4.org/netipx"

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

// The fixture's rules as `ufw status numbered` numbers and prints them
// and as `ufw show added` gives them (ufw 0.36.2 wrote these tuples for
// the commands below; the namespace test compares more with the real ufw).
func TestUFWRuleNames(t *testing.T) {
	u, _, err := Read(context.Background(), system.Host{}, writeUFW(t, "yes", "DROP"))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		n               int
		status, command string
	}{
		{1, "6379 DENY IN Anywhere", "deny 6379"},
		{2, "192.0.2.1 6379/tcp ALLOW IN 192.0.2.2", "allow from 192.0.2.2 to 192.0.2.1 port 6379 proto tcp"},
		{3, "OpenSSH ALLOW IN Anywhere", "allow OpenSSH"},
		{4, "16379:16380/tcp on eth0 ALLOW IN 198.51.100.0/24", "allow in on eth0 from 198.51.100.0/24 to any port 16379:16380 proto tcp"},
		{5, "26379 ALLOW IN 2001:db8::2", "allow from 2001:db8::2 to any port 26379"},
	}
	if len(u.Rules) != len(want) {
		t.Fatalf("%d rules", len(u.Rules))
	}
	for i, w := range want {
		r := u.Rules[i]
		if r.Number != w.n || r.Tuple.Status() != w.status || r.Tuple.Command() != w.command {
			t.Errorf("rule %d: [%d] %q %q, want [%d] %q %q", i, r.Number, r.Tuple.Status(), r.Tuple.Command(), w.n, w.status, w.command)
		}
	}
}

// Tuples ufw writes for comments, logging, outgoing and routed rules, and
// the tuples of one application: what they are named and numbered, and
// that outgoing and routed rules admit no client.
func TestUFWTuples(t *testing.T) {
	const rules = `### tuple ### allow tcp 6379 0.0.0.0/0 any 0.0.0.0/0 in comment=726564697320636c69656e7473
### tuple ### allow_log tcp 26379 0.0.0.0/0 any 198.51.100.0/24 in
### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 SSHAlt - in
### tuple ### allow udp 2222 0.0.0.0/0 any 0.0.0.0/0 SSHAlt - in
### tuple ### allow any 6379 0.0.0.0/0 any 0.0.0.0/0 out
### tuple ### route:allow tcp 6379 0.0.0.0/0 any 0.0.0.0/0 in_eth0!out_docker0
`
	got, err := parseTuples([]byte(rules), eval.IPv4)
	if err != nil {
		t.Fatal(err)
	}
	number(got)
	want := []struct {
		n               int
		status, command string
	}{
		{1, "6379/tcp ALLOW IN Anywhere # redis clients", "allow 6379/tcp"},
		{2, "26379/tcp ALLOW IN 198.51.100.0/24 (log)", "allow log from 198.51.100.0/24 to any port 26379 proto tcp"},
		{3, "SSHAlt ALLOW IN Anywhere", "allow SSHAlt"},
		{3, "SSHAlt ALLOW IN Anywhere", "allow SSHAlt"},
		{4, "6379 ALLOW OUT Anywhere (out)", "allow out 6379"},
		{5, "6379/tcp on docker0 ALLOW FWD Anywhere on eth0", "route allow in on eth0 out on docker0 to any port 6379 proto tcp"},
	}
	for i, w := range want {
		r := got[i]
		if r.Number != w.n || r.Tuple.Status() != w.status || r.Tuple.Command() != w.command {
			t.Errorf("rule %d: [%d] %q %q, want [%d] %q %q", i, r.Number, r.Tuple.Status(), r.Tuple.Command(), w.n, w.status, w.command)
		}
	}
	u := &Config{Enabled: true, InputPolicy: "DROP", Rules: got[4:]}
	if a, _, _ := u.Allowed(eval.Query{Family: eval.IPv4, Port: 6379}); !describe.Empty(a) {
		t.Errorf("outgoing or routed rules admit %v", a.Prefixes())
	}
}

func ipset(t *testing.T, prefixes ...string) *netipx.IPSet {
	t.Helper()
	var b netipx.IPSetBuilder
	for _, p := range prefixes {
		b.AddPrefix(netip.MustParsePrefix(p))
	}
	if len(prefixes) == 1 && prefixes[0] == "0.0.0.0/0" {
		b.RemovePrefix(netip.MustParsePrefix("127.0.0.0/8"))
	}
	s, err := b.IPSet()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Fix names the rule or policy that lets untrusted sources in and the
// commands that close it, keeping the trusted host; a hole outside ufw
// gets no ufw command.
func TestUFWFix(t *testing.T) {
	u, _, err := Read(context.Background(), system.Host{}, writeUFW(t, "yes", "ACCEPT"))
	if err != nil {
		t.Fatal(err)
	}
	all := &eval.Result{Accepted: ipset(t, "0.0.0.0/0")}
	trust := ipset(t, "192.0.2.2/32")
	for _, c := range []struct {
		q    eval.Query
		want string
	}{
		// Rule 4 and the policy: the trusted host, let in by the
		// policy today, gets a rule ahead of the new deny.
		{eval.Query{Family: eval.IPv4, Port: 16380}, "; ufw rule [4] `16379:16380/tcp on eth0 ALLOW IN 198.51.100.0/24` and ufw's default incoming policy (allow) let in 0.0.0.0/0 except trusted networks: " +
			"run `ufw allow from 192.0.2.2 to any port 16380 proto tcp`; then `ufw delete allow in on eth0 from 198.51.100.0/24 to any port 16379:16380 proto tcp`; then `ufw deny 16380/tcp`"},
		// The deny of rule 1 decides all: what the kernel accepts is
		// outside ufw.
		{eval.Query{Family: eval.IPv4, Port: 6379}, "; the kernel accepts 0.0.0.0/0 except trusted networks outside ufw (ufw allows 6379 only from nowhere): no ufw command closes it, the rule that accepts it does"},
		{eval.Query{Family: eval.IPv4, Port: 8080, To: 6379}, "; the kernel accepts 0.0.0.0/0 except trusted networks to published port 8080 outside ufw (its input rules do not see forwarded connections): no ufw command closes it, the rule that accepts it does"},
	} {
		if got := u.Fix(c.q, all, trust); got != c.want {
			t.Errorf("%v:\ngot  %s\nwant %s", c.q, got, c.want)
		}
	}
	// Only trusted sources accepted: nothing to add.
	if got := u.Fix(eval.Query{Family: eval.IPv4, Port: 16380}, &eval.Result{Accepted: trust}, trust); got != "" {
		t.Errorf("trusted only: %q", got)
	}
}

// A deny after the rule to delete would shadow an appended allow for the
// trusted host: the allow is prepended.
func TestUFWFixPrepend(t *testing.T) {
	rules, err := parseTuples([]byte(`### tuple ### allow tcp 6379 0.0.0.0/0 any 0.0.0.0/0 in
### tuple ### deny tcp 6379 0.0.0.0/0 any 192.0.2.0/24 in
`), eval.IPv4)
	if err != nil {
		t.Fatal(err)
	}
	number(rules)
	u := &Config{Enabled: true, InputPolicy: "DROP", Rules: rules}
	got := u.Fix(eval.Query{Family: eval.IPv4, Port: 6379}, &eval.Result{Accepted: ipset(t, "0.0.0.0/0")}, ipset(t, "192.0.2.2/32"))
	want := "; ufw rule [1] `6379/tcp ALLOW IN Anywhere` lets in 0.0.0.0/0 except trusted networks: run `ufw prepend allow from 192.0.2.2 to any port 6379 proto tcp`; then `ufw delete allow 6379/tcp`"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// Admit names what in ufw refuses a trusted host and the allow that lets
// it in: ahead of the recipe's deny, or appended when only the default
// policy refuses it; when ufw allows it, the refusal is outside ufw.
func TestUFWAdmit(t *testing.T) {
	u, _, err := Read(context.Background(), system.Host{}, writeUFW(t, "yes", "DROP"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		port    uint16
		missing string
		want    string
	}{
		{6379, "192.0.2.2/32", "; ufw rule [1] `6379 DENY IN Anywhere` refuses it: run `ufw prepend allow from 192.0.2.2 to any port 6379 proto tcp`"},
		{16379, "192.0.2.2/32", "; ufw's default incoming policy (drop) refuses it: run `ufw allow from 192.0.2.2 to any port 16379 proto tcp`"},
		{16379, "198.51.100.30/32", "; ufw allows 198.51.100.30/32: the kernel refuses it outside ufw"},
	} {
		got := u.Admit(eval.Query{Family: eval.IPv4, Port: c.port}, ipset(t, c.missing))
		if got != c.want {
			t.Errorf("%d %s:\ngot  %s\nwant %s", c.port, c.missing, got, c.want)
		}
	}
}
