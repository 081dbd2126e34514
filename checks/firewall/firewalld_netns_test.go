package firewall

import (
	"context"
	"errors"
	"io/fs"
	"net/netip"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/netns"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// fwdSystem is netnsSystem that can also list directories, and reports a
// missing file as fs.ErrNotExist, as Host does.
type fwdSystem struct{ netnsSystem }

const missingCode = 9

func (s fwdSystem) shell(ctx context.Context, script, path string) ([]byte, error) {
	out, err := s.Run(ctx, "sh", "-c", script, "sh", path)
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == missingCode {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	return out, err
}

func (s fwdSystem) ReadFile(ctx context.Context, path string) ([]byte, error) {
	return s.shell(ctx, `test -e "$1" || exit 9; cat "$1"`, path)
}

func (s fwdSystem) ReadDir(ctx context.Context, path string) ([]string, error) {
	out, err := s.shell(ctx, `test -d "$1" || exit 9; ls -1 "$1"`, path)
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(out)), nil
}

// TestNamespaceFirewalld runs the real firewalld (private D-Bus, private
// /etc/firewalld) in a namespace: the guide's recipe, then runtime-only
// changes (an interface moved to another zone, a service, rich rules).
// Each time the kernel's verdict and firewalld's own view are compared
// with real connections from trusted and untrusted sources.
func TestNamespaceFirewalld(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "nft", "firewalld", "firewall-cmd", "dbus-daemon")
	top := newTopology(t, "fwd")
	fw := (&netns.Host{Name: "server", NS: top.server}).StartFirewalld(t)
	startListener(t, top.server, DefaultPorts)
	trusted := []netip.Prefix{netip.MustParsePrefix("192.0.2.2/32")}
	cfg := Options{System: fwdSystem{netnsSystem{top.server}}, FirewalldDir: fw.EtcDir(), FirewalldBus: fw.BusAddr(), Trusted: trusted}

	var probes []probe
	for _, a := range []string{"192.0.2.2", "192.0.2.10", "198.51.100.7", "203.0.113.9", "2001:db8::2", "2001:db8:1::5", "2001:db8:ffff::9"} {
		src := netip.MustParseAddr(a)
		for _, port := range DefaultPorts {
			probes = append(probes, probe{src, netip.MustParseAddr(serverAddr[eval.FamilyOf(src)]), port})
		}
	}
	var last result.Result
	// check collects, judges and compares every probe's outcome with
	// the kernel model and with firewalld's view of eth0.
	check := func(t *testing.T, cfg Options, wantRuntime bool, accepted map[string][]uint16) (*Facts, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		start := time.Now()
		in := Gather(ctx, cfg)
		if in.Err != nil {
			t.Fatal(in.Err)
		}
		t.Logf("gather %v", time.Since(start))
		if in.Firewalld == nil || in.FirewalldErr != nil || in.Firewalld.Runtime != wantRuntime {
			t.Fatalf("firewalld not read as wanted (runtime %v): %+v %v", wantRuntime, in.Firewalld, in.FirewalldErr)
		}
		rs, notes := Build(in)
		rep := Evaluate(rs, DefaultPorts)
		rep.Notes, rep.Firewalld = notes, in.Firewalld
		crossCheckText(t, cfg.System, rep)
		var buf strings.Builder
		r := JudgeReport(rep, cfg.Trusted)
		if err := result.Render(&buf, Name, r); err != nil {
			t.Fatal(err)
		}
		last = r
		for p, outcome := range dial(t, top.client, probes) {
			want := false
			for _, port := range accepted[p.src.String()] {
				want = want || port == p.port
			}
			if got := outcome == "accepted"; got != want {
				t.Errorf("%v -> %d: connection %s, the test expects accepted=%v", p.src, p.port, outcome, want)
			}
			accept, undecided := eval.EvaluateAddr(rs, eval.NewSYN(p.src, p.dst, 40000, p.port, "eth0"))
			if undecided || accept != want {
				t.Errorf("%v -> %d: kernel model accepted=%v undecided=%v, connection %s", p.src, p.port, accept, undecided, outcome)
			}
			if wantRuntime {
				view := in.Firewalld.AllowedOn(eval.Query{Family: eval.FamilyOf(p.src), Port: p.port}, "eth0")
				if view.Contains(p.src) != want {
					t.Errorf("%v -> %d: firewalld's view accepted=%v, connection %s", p.src, p.port, view.Contains(p.src), outcome)
				}
			}
		}
		return in, buf.String()
	}
	contains := func(t *testing.T, text string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("output lacks %q:\n%s", w, text)
			}
		}
	}

	// The guide's recipe: a redis zone with the trusted source and 6379.
	fw.Cmd(t, "--permanent", "--new-zone=redis")
	fw.Cmd(t, "--permanent", "--zone=redis", "--add-port=6379/tcp")
	fw.Cmd(t, "--permanent", "--zone=redis", "--add-source=192.0.2.2")
	fw.Cmd(t, "--reload")
	in, text := check(t, cfg, true, map[string][]uint16{"192.0.2.2": {6379}})
	if len(in.Firewalld.Drift) != 0 || in.Firewalld.Version == "" {
		t.Errorf("drift %q, version %q", in.Firewalld.Drift, in.Firewalld.Version)
	}
	contains(t, text,
		"redis-firewall-check WARNING: tcp/16379 IPv4: trusted 192.0.2.2/32 not accepted",
		"OK: firewalld: tcp/6379 IPv4: zone redis (sources 192.0.2.2/32) allows it (port 6379/tcp); other sources fall into zone public (default), which rejects it",
		"OK: firewalld: tcp/6379 IPv6: no zone binds IPv6 sources: they fall into zone public (default), which rejects it",
		"OK: firewalld: tcp/16379 IPv4: zone redis (sources 192.0.2.2/32) rejects it",
		"OK: tcp/6379 IPv4: accepted only from trusted 192.0.2.2/32",
		"OK: tcp/6379 IPv6: no remote source accepted")
	if strings.Contains(text, "CRITICAL") || strings.Contains(text, "drift") {
		t.Errorf("the recipe is not exposed and has no drift:\n%s", text)
	}

	// Runtime only: eth0 moves to zone internal, which gets the
	// sentinel service and two rich rules.
	fw.Cmd(t, "--zone=internal", "--change-interface=eth0")
	fw.Cmd(t, "--zone=internal", "--add-service=redis-sentinel")
	fw.Cmd(t, "--zone=internal", "--add-rich-rule", `rule family="ipv4" source address="203.0.113.0/24" service name="redis" accept`)
	fw.Cmd(t, "--zone=internal", "--add-rich-rule", `rule family="ipv6" source address="2001:db8:1::/48" port port="6379" protocol="tcp" accept`)
	sentinel := []uint16{26379}
	open := map[string][]uint16{"192.0.2.2": {6379}, "192.0.2.10": sentinel, "198.51.100.7": sentinel, "203.0.113.9": {6379, 26379},
		"2001:db8::2": sentinel, "2001:db8:1::5": {6379, 26379}, "2001:db8:ffff::9": sentinel}
	in, text = check(t, cfg, true, open)
	fixes := last
	contains(t, text,
		"CRITICAL: tcp/6379 IPv4: accepted from 203.0.113.0/24",
		"CRITICAL: tcp/26379 IPv6: accepted from ::/0: no rule restricts it",
		"WARNING: tcp/6379 IPv4: firewalld's runtime and permanent configurations differ: the running zones allow it from 192.0.2.2/32, 203.0.113.0/24, the permanent ones from 192.0.2.2/32",
		"OK: firewalld: tcp/26379 IPv4: zone redis (sources 192.0.2.2/32) rejects it; on eth0, zone internal allows it (service redis-sentinel)",
		"zone internal: runtime-only interface eth0",
		"zone internal: runtime-only rich rule `rule family=\"ipv6\" source address=\"2001:db8:1::/48\" port port=\"6379\" protocol=\"tcp\" accept`")

	// The daemon out of reach while its rules stay in the kernel: the
	// zone XML explains, and the kernel's extra sources are named.
	cfg.FirewalldBus = "unix:path=/nonexistent/bus"
	in, text = check(t, cfg, false, open)
	if in.Firewalld.RuntimeErr == nil {
		t.Error("no reason given for the missing runtime state")
	}
	contains(t, text,
		"firewalld allows 6379/tcp only from 192.0.2.2/32, but the kernel also accepts 203.0.113.0/24",
		"OK: firewalld (permanent configuration): tcp/6379 IPv4: zone redis (sources 192.0.2.2/32) allows it",
		"note: firewalld's runtime state is not available (system bus unix:path=/nonexistent/bus:")

	// The oracle: the commands the findings of the running daemon gave
	// (runtime only, as the permanent zones lack what opens the ports),
	// run with the real firewall-cmd, close every hole and keep the
	// trusted host's way in.
	cfg.FirewalldBus = fw.BusAddr()
	fixFirewalld(t, fw, fixes, result.Critical)
	_, text = check(t, cfg, true, map[string][]uint16{"192.0.2.2": {6379}})
	if strings.Contains(text, "CRITICAL") {
		t.Errorf("still exposed after the commands:\n%s", text)
	}

	// Permanent: the default zone opens 6379 to every source, the IPv6
	// trusted host among them, and a rich rule 16379 to an untrusted
	// IPv6 network. The commands change the permanent zones and reload;
	// the trusted IPv6 host keeps 6379 by a rich rule of its own.
	fw.Cmd(t, "--permanent", "--zone=public", "--add-service=redis")
	fw.Cmd(t, "--permanent", "--zone=public", "--add-rich-rule", `rule family="ipv6" source address="2001:db8:1::/48" port port="16379" protocol="tcp" accept`)
	fw.Cmd(t, "--reload")
	cfg.Trusted = append(cfg.Trusted, netip.MustParsePrefix("2001:db8::2/128"))
	all6379 := []uint16{6379}
	_, text = check(t, cfg, true, map[string][]uint16{"192.0.2.2": all6379, "192.0.2.10": all6379, "198.51.100.7": all6379, "203.0.113.9": all6379,
		"2001:db8::2": all6379, "2001:db8:1::5": {6379, 16379}, "2001:db8:ffff::9": all6379})
	contains(t, text,
		"CRITICAL: tcp/6379 IPv4: accepted from 0.0.0.0/0: no rule restricts it; firewalld lets in 0.0.0.0/0 except trusted networks through zone public (default zone) by service redis: run `firewall-cmd --permanent --zone=public --remove-service=redis`; then `firewall-cmd --reload`;",
		"CRITICAL: tcp/6379 IPv6: accepted from ::/0: no rule restricts it; firewalld lets in ::/0 except trusted networks through zone public (default zone) by service redis: run `firewall-cmd --permanent --zone=public --add-rich-rule='rule family=\"ipv6\" source address=\"2001:db8::2\" port port=\"6379\" protocol=\"tcp\" accept'`; then `firewall-cmd --permanent --zone=public --remove-service=redis`; then `firewall-cmd --reload`;",
		"CRITICAL: tcp/16379 IPv6: accepted from 2001:db8:1::/48; firewalld lets in 2001:db8:1::/48 through zone public (default zone) by rich rule `rule family=\"ipv6\" source address=\"2001:db8:1::/48\" port port=\"16379\" protocol=\"tcp\" accept`: run `firewall-cmd --permanent --zone=public --remove-rich-rule='rule family=\"ipv6\" source address=\"2001:db8:1::/48\" port port=\"16379\" protocol=\"tcp\" accept'`; then `firewall-cmd --reload`;")
	contains(t, text, "WARNING: tcp/16379 IPv6: trusted 2001:db8::2/128 not accepted; firewalld's zone public (default zone) refuses it: run `firewall-cmd --permanent --zone=public --add-rich-rule='rule family=\"ipv6\" source address=\"2001:db8::2\" port port=\"16379\" protocol=\"tcp\" accept'`; then `firewall-cmd --reload`;")
	// The WARNINGs' rich rules too: the trusted hosts then get to every
	// port, and nobody else.
	fixFirewalld(t, fw, last, result.Critical, result.Warning)
	_, text = check(t, cfg, true, map[string][]uint16{"192.0.2.2": DefaultPorts, "2001:db8::2": DefaultPorts})
	if strings.Contains(text, "CRITICAL") || strings.Contains(text, "WARNING") || strings.Contains(text, "firewall-cmd") || strings.Contains(text, "drift") {
		t.Errorf("still exposed, locked out or drifting after the commands:\n%s", text)
	}

	// Runtime only: the default zone forwards host port 7000 to 6379,
	// which firewalld accepts ahead of every zone. The finding names the
	// forward-port; its removal closes the way in.
	fw.Cmd(t, "--zone=public", "--add-forward-port=port=7000:proto=tcp:toport=6379")
	_, text = check(t, cfg, true, map[string][]uint16{"192.0.2.2": DefaultPorts, "2001:db8::2": DefaultPorts})
	contains(t, text, "via host port 7000: accepted from",
		"firewalld publishes port 7000 through zone public forward-port port=7000:proto=tcp:toport=6379: run `firewall-cmd --zone=public --remove-forward-port=port=7000:proto=tcp:toport=6379`")
	published := probe{netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr(serverAddr[eval.IPv4]), 7000}
	if got := dial(t, top.client, []probe{published})[published]; got != "accepted" {
		t.Errorf("host port 7000 before the commands: %s, want accepted", got)
	}
	fixFirewalld(t, fw, last, result.Critical)
	_, text = check(t, cfg, true, map[string][]uint16{"192.0.2.2": DefaultPorts, "2001:db8::2": DefaultPorts})
	if strings.Contains(text, "CRITICAL") || strings.Contains(text, "7000") {
		t.Errorf("still published after the commands:\n%s", text)
	}
	if got := dial(t, top.client, []probe{published})[published]; got == "accepted" {
		t.Errorf("host port 7000 after the commands: %s", got)
	}
}

// fwCommand is a firewall-cmd command a finding gives, in backquotes.
var fwCommand = regexp.MustCompile("`firewall-cmd ([^`]*)`")

// fixFirewalld runs, in order, the firewall-cmd commands the findings of
// r in the given states give: each once, but the reload that ends a
// finding's commands each time, as an operator following the findings
// one by one would.
func fixFirewalld(t *testing.T, fw *netns.Firewalld, r result.Result, states ...result.State) {
	t.Helper()
	seen := map[string]bool{}
	n := 0
	for _, f := range r.Findings {
		if !slices.Contains(states, f.State) {
			continue
		}
		for _, m := range fwCommand.FindAllStringSubmatch(f.Text, -1) {
			if seen[m[1]] && m[1] != "--reload" {
				continue
			}
			seen[m[1]] = true
			n++
			t.Logf("running firewall-cmd %s", m[1])
			fw.Cmd(t, shellWords(t, m[1])...)
		}
	}
	if n == 0 {
		t.Fatalf("no firewall-cmd command given: %+v", r.Findings)
	}
}

// shellWords splits a command as sh does for words and single quotes.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	var w strings.Builder
	inWord, quoted := false, false
	for _, c := range s {
		switch {
		case quoted && c == '\'':
			quoted = false
		case quoted:
			w.WriteRune(c)
		case c == '\'':
			quoted, inWord = true, true
		case c == ' ':
			if inWord {
				out = append(out, w.String())
				w.Reset()
				inWord = false
			}
		case strings.ContainsRune("\"\\$`;&|<>()*?", c):
			t.Fatalf("%q: unquoted %q", s, c)
		default:
			w.WriteRune(c)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("%q: unterminated quote", s)
	}
	if inWord {
		out = append(out, w.String())
	}
	return out
}
