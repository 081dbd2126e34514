package firewall

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/describe"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/frontend/ufw"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// privateUFW gives the namespace its own /etc/ufw and /etc/default: `ip
// netns exec` bind-mounts /etc/netns/NS/X over /etc/X, so ufw run there
// never touches the host's configuration.
func privateUFW(t *testing.T, ns string) {
	t.Helper()
	root := "/etc/netns/" + ns
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	for _, d := range []string{"ufw", "default"} {
		if out, err := exec.Command("cp", "-a", "/etc/"+d, filepath.Join(root, d)).CombinedOutput(); err != nil {
			t.Fatalf("cp /etc/%s: %v: %s", d, err, out)
		}
	}
}

func inNS(t *testing.T, ns string, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func inNSOut(t *testing.T, ns string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ufwCommand is a command a finding gives, in backquotes.
var ufwCommand = regexp.MustCompile("`(ufw [^`]*)`")

// ufwFixes are the ufw commands the CRITICAL and WARNING findings give,
// in order, each once (the IPv4 and IPv6 findings of a port may give the
// same).
func ufwFixes(r result.Result) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range r.Findings {
		if f.State != result.Critical && f.State != result.Warning {
			continue
		}
		for _, m := range ufwCommand.FindAllStringSubmatch(f.Text, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				out = append(out, m[1])
			}
		}
	}
	return out
}

// checkUFWNames compares the rules as the check names them with what the
// real ufw prints: `ufw status numbered` for number and text, `ufw show
// added` for the command (less its comment, which ufw's delete ignores).
func checkUFWNames(t *testing.T, ns string, u *ufw.Config) {
	t.Helper()
	status := map[int]string{}
	line := regexp.MustCompile(`^\[ *(\d+)\] (.*)$`)
	for _, l := range strings.Split(inNSOut(t, ns, "ufw", "status", "numbered"), "\n") {
		if m := line.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			status[n] = strings.Join(strings.Fields(m[2]), " ")
		}
	}
	added := map[string]bool{}
	for _, l := range strings.Split(inNSOut(t, ns, "ufw", "show", "added"), "\n") {
		if c, ok := strings.CutPrefix(l, "ufw "); ok {
			c, _, _ = strings.Cut(c, " comment '")
			added[c] = true
		}
	}
	if len(status) == 0 || len(added) == 0 {
		t.Fatalf("ufw lists no rules: %v %v", status, added)
	}
	numbers := map[int]bool{}
	for _, r := range u.Rules {
		numbers[r.Number] = true
		if got, want := strings.Join(strings.Fields(r.Tuple.Status()), " "), status[r.Number]; got != want {
			t.Errorf("rule [%d]: named %q, ufw status numbered prints %q", r.Number, got, want)
		}
		if !added[r.Tuple.Command()] {
			t.Errorf("rule [%d]: command %q is not in ufw show added %v", r.Number, r.Tuple.Command(), added)
		}
	}
	if len(numbers) != len(status) {
		t.Errorf("%d rules numbered, ufw status numbered lists %d", len(numbers), len(status))
	}
}

// TestNamespaceUFW applies the guide's ufw recipe with the real ufw in a
// namespace (default allow incoming, deny 6379, allow the trusted host),
// alone and on a host that publishes 6379 from a container, and an open
// configuration (rules that allow 6379 and 26379 too widely). Verdicts
// are compared with real connections, the findings with ufw's own view,
// the rules as the findings name them with `ufw status numbered` and
// `ufw show added`. Then the ufw commands the findings give are run: the
// check must find no untrusted source left and the trusted host must get
// to every port; where the hole is outside ufw, no ufw command is given.
func TestNamespaceUFW(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "ufw", "iptables-nft", "nft")
	trusted := []netip.Prefix{netip.MustParsePrefix("192.0.2.2/32")}
	for _, name := range []string{"guide", "docker", "open"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			top := newTopology(t, "ufw-"+name)
			privateUFW(t, top.server)
			if name == "docker" {
				addContainer(t, top)
				inNS(t, top.server, "sh", fwdata(t, "nat", "docker-open", "setup.sh"))
				// ufw replaces the INPUT allow-list of the layout.
				inNS(t, top.server, "iptables", "-F", "INPUT")
			}
			if name == "open" {
				inNS(t, top.server, "ufw", "default", "deny", "incoming")
				inNS(t, top.server, "ufw", "allow", "6379/tcp", "comment", "redis clients")
				inNS(t, top.server, "ufw", "allow", "from", "198.51.100.0/24", "to", "any", "port", "26379", "proto", "tcp")
				inNS(t, top.server, "ufw", "allow", "in", "on", "eth0", "to", "any", "port", "26379", "proto", "tcp")
				// An application of two port lists: ufw writes a tuple for
				// each and numbers them as one rule.
				app := "[SSHAlt]\ntitle=SSH alt\ndescription=SSH on two ports\nports=22/tcp|2222/udp\n"
				if err := os.WriteFile(filepath.Join("/etc/netns", top.server, "ufw", "applications.d", "sshalt"), []byte(app), 0o644); err != nil {
					t.Fatal(err)
				}
				inNS(t, top.server, "ufw", "allow", "SSHAlt")
				// Outgoing and routed rules count in the numbering but
				// admit no client to the host.
				inNS(t, top.server, "ufw", "allow", "out", "6379")
				inNS(t, top.server, "ufw", "route", "allow", "in", "on", "eth0", "out", "on", "docker0", "to", "any", "port", "6379", "proto", "tcp")
			} else {
				inNS(t, top.server, "ufw", "default", "allow", "incoming")
				inNS(t, top.server, "ufw", "deny", "6379")
				inNS(t, top.server, "ufw", "allow", "from", "192.0.2.2", "to", "192.0.2.1", "port", "6379")
			}
			inNS(t, top.server, "ufw", "--force", "enable")
			startListener(t, top.server, DefaultPorts)
			if name == "docker" {
				startListener(t, top.server[:len(top.server)-2]+"-k", []uint16{6379, 26379})
			}
			var probes []probe
			for _, a := range []string{"192.0.2.2", "192.0.2.10", "198.51.100.7", "2001:db8::2", "2001:db8:1::5"} {
				src := netip.MustParseAddr(a)
				for _, port := range DefaultPorts {
					probes = append(probes, probe{src, netip.MustParseAddr(serverAddr[eval.FamilyOf(src)]), port})
				}
			}
			// judge reads ufw and the kernel, judges, and compares the
			// kernel model with real connections.
			judge := func() (*Facts, result.Result, string, map[probe]string) {
				in, rs, rep := liveReport(t, top.server, DefaultPorts)
				if in.UFW == nil || !in.UFW.Enabled || in.UFWErr != nil {
					t.Fatalf("ufw not read: %+v %v", in.UFW, in.UFWErr)
				}
				rep.UFW = in.UFW
				r := JudgeReport(rep, trusted)
				var buf strings.Builder
				if err := result.Render(&buf, Name, r); err != nil {
					t.Fatal(err)
				}
				outcomes := dial(t, top.client, probes)
				for p, outcome := range outcomes {
					accept, undecided := eval.EvaluateAddr(rs, eval.NewSYN(p.src, p.dst, 40000, p.port, "eth0"))
					if undecided || accept != (outcome == "accepted") {
						t.Errorf("%v -> %v:%d: evaluator accepted=%v undecided=%v, connection %s", p.src, p.dst, p.port, accept, undecided, outcome)
					}
				}
				return in, r, buf.String(), outcomes
			}
			in, r, text, before := judge()
			checkUFWNames(t, top.server, in.UFW)

			// The recipe's deny comes first: ufw itself lets nobody in.
			allowed, _, _ := in.UFW.Allowed(eval.Query{Family: eval.IPv4, Port: 6379})
			if name != "open" && !describe.Empty(allowed) {
				t.Errorf("ufw's view of 6379: %v, want nowhere (the deny rule shadows the allow)", allowed.Prefixes())
			}
			var want []string
			switch name {
			case "guide":
				want = []string{"WARNING: tcp/6379 IPv4: trusted 192.0.2.2/32 not accepted; ufw rule [1] `6379 DENY IN Anywhere` refuses it: run `ufw prepend allow from 192.0.2.2 to any port 6379 proto tcp`; dropped by",
					"CRITICAL: tcp/16379 IPv4: accepted from 0.0.0.0/0: no rule restricts it; ufw's default incoming policy (allow) lets in 0.0.0.0/0 except trusted networks: run `ufw allow from 192.0.2.2 to any port 16379 proto tcp`; then `ufw deny 16379/tcp`; accepted by",
					"CRITICAL: tcp/16379 IPv6: accepted from ::/0: no rule restricts it; ufw's default incoming policy (allow) lets in ::/0 except trusted networks: run `ufw deny 16379/tcp`; accepted by",
					"OK: ufw: tcp/6379 IPv4 allowed from nowhere (2 matching rule(s), default incoming accept)"}
			case "docker":
				want = []string{"CRITICAL: tcp/6379 IPv4: accepted from",
					"published through DNAT to 203.0.113.130:6379; INPUT rules do not apply; the kernel accepts 0.0.0.0/0 except trusted networks outside ufw (ufw allows 6379 only from nowhere): no ufw command closes it, the rule that accepts it does; accepted by nft ip filter DOCKER",
					"via host port 7000: accepted from 0.0.0.0/0: no rule restricts it",
					"the kernel accepts 0.0.0.0/0 except trusted networks to published port 7000 outside ufw (its input rules do not see forwarded connections): no ufw command closes it"}
			case "open":
				want = []string{"WARNING: tcp/16379 IPv4: trusted 192.0.2.2/32 not accepted; ufw's default incoming policy (drop) refuses it: run `ufw allow from 192.0.2.2 to any port 16379 proto tcp`; refused by",
					"CRITICAL: tcp/6379 IPv4: accepted from 0.0.0.0/0: no rule restricts it; ufw rule [1] `6379/tcp ALLOW IN Anywhere # redis clients` lets in 0.0.0.0/0 except trusted networks: run `ufw allow from 192.0.2.2 to any port 6379 proto tcp`; then `ufw delete allow 6379/tcp` (this also deletes [7] `6379/tcp (v6) ALLOW IN Anywhere (v6) # redis clients`); accepted by",
					"CRITICAL: tcp/6379 IPv6: accepted from ::/0: no rule restricts it; ufw rule [7] `6379/tcp (v6) ALLOW IN Anywhere (v6) # redis clients` lets in ::/0 except trusted networks: run `ufw delete allow 6379/tcp` (this also deletes [1] `6379/tcp ALLOW IN Anywhere # redis clients`); accepted by",
					"CRITICAL: tcp/26379 IPv4: accepted from 0.0.0.0/0: no rule restricts it; ufw rules [2] `26379/tcp ALLOW IN 198.51.100.0/24`, [3] `26379/tcp on eth0 ALLOW IN Anywhere` let in 0.0.0.0/0 except trusted networks: run `ufw allow from 192.0.2.2 to any port 26379 proto tcp`; then `ufw delete allow from 198.51.100.0/24 to any port 26379 proto tcp`; then `ufw delete allow in on eth0 to any port 26379 proto tcp` (this also deletes [8] `26379/tcp (v6) on eth0 ALLOW IN Anywhere (v6)`); 0.0.0.0-126.255.255.255,",
					"(only for 1 of 2 interface/destination/source-port classes: input eth0); ufw rule [8] `26379/tcp (v6) on eth0 ALLOW IN Anywhere (v6)` lets in ::/0 except trusted networks: run `ufw delete allow in on eth0 to any port 26379 proto tcp` (this also deletes [3] `26379/tcp on eth0 ALLOW IN Anywhere`); accepted by"}
			}
			for _, w := range want {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, text)
				}
			}
			if r.State != result.Critical {
				t.Errorf("state %v, want CRITICAL", r.State)
			}

			// The oracle: the commands the findings give, run with the
			// real ufw, close every hole inside ufw and keep the trusted
			// host's way in.
			fixes := ufwFixes(r)
			if name == "docker" {
				for _, f := range r.Findings {
					if f.State == result.Critical && strings.Contains(f.Text, "DNAT") && ufwCommand.MatchString(f.Text) {
						t.Errorf("a ufw command for a hole outside ufw: %s", f.Text)
					}
				}
			}
			if len(fixes) == 0 {
				t.Fatalf("no ufw command given:\n%s", text)
			}
			for _, c := range fixes {
				t.Logf("running %s", c)
				inNS(t, top.server, strings.Fields(c)...)
			}
			in, r, text, after := judge()
			checkUFWNames(t, top.server, in.UFW)
			for _, f := range r.Findings {
				if f.State == result.Critical && (name != "docker" || !strings.Contains(f.Text, "DNAT")) {
					t.Errorf("still exposed after %q: %s", fixes, f.Text)
				}
			}
			if left := ufwFixes(r); len(left) != 0 {
				t.Errorf("more ufw commands after the first: %q\n%s", left, text)
			}
			if strings.Contains(text, "not accepted") {
				t.Errorf("the trusted host still locked out after %q:\n%s", fixes, text)
			}
			for p, outcome := range after {
				if p.src.String() == "192.0.2.2" && outcome != "accepted" {
					t.Errorf("the trusted host cannot reach %v:%d (before the commands: %s): %s", p.dst, p.port, before[p], outcome)
				}
				if p.src.String() != "192.0.2.2" && outcome == "accepted" && (name != "docker" || p.port != 6379) {
					t.Errorf("untrusted %v still gets to %v:%d", p.src, p.dst, p.port)
				}
			}
		})
	}
}
