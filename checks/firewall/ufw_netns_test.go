package firewall

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/describe"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
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

// TestNamespaceUFW applies the guide's ufw recipe with the real ufw in a
// namespace (default allow incoming, deny 6379, allow the trusted host),
// alone and on a host that publishes 6379 from a container. Verdicts are
// compared with real connections, and the findings with ufw's own view.
func TestNamespaceUFW(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "ufw", "iptables-nft", "nft")
	for _, name := range []string{"guide", "docker"} {
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
			inNS(t, top.server, "ufw", "default", "allow", "incoming")
			inNS(t, top.server, "ufw", "deny", "6379")
			inNS(t, top.server, "ufw", "allow", "from", "192.0.2.2", "to", "192.0.2.1", "port", "6379")
			inNS(t, top.server, "ufw", "--force", "enable")
			startListener(t, top.server, DefaultPorts)
			if name == "docker" {
				startListener(t, top.server[:len(top.server)-2]+"-k", []uint16{6379, 26379})
			}

			in, rs, rep := liveReport(t, top.server, DefaultPorts)
			if in.UFW == nil || !in.UFW.Enabled || in.UFWErr != nil {
				t.Fatalf("ufw not read: %+v %v", in.UFW, in.UFWErr)
			}
			rep.UFW = in.UFW
			r := JudgeReport(rep, []netip.Prefix{netip.MustParsePrefix("192.0.2.2/32")})

			// The recipe's deny comes first: ufw itself lets nobody in.
			allowed, _, _ := in.UFW.Allowed(eval.Query{Family: eval.IPv4, Port: 6379})
			if !describe.Empty(allowed) {
				t.Errorf("ufw's view of 6379: %v, want nowhere (the deny rule shadows the allow)", allowed.Prefixes())
			}
			want := []string{"WARNING: tcp/6379 IPv4: trusted 192.0.2.2/32 not accepted",
				"CRITICAL: tcp/16379 IPv4: accepted from 0.0.0.0/0: no rule restricts it",
				"CRITICAL: tcp/16379 IPv6: accepted from ::/0: no rule restricts it",
				"OK: ufw: tcp/6379 IPv4 allowed from nowhere (2 matching rule(s), default incoming accept)"}
			if name == "docker" {
				want = []string{"CRITICAL: tcp/6379 IPv4: accepted from",
					"published through DNAT to 203.0.113.130:6379; INPUT rules do not apply; ufw allows 6379 only from nowhere, but the kernel also accepts 0.0.0.0/0"}
			}
			var buf strings.Builder
			if err := result.Render(&buf, Name, r); err != nil {
				t.Fatal(err)
			}
			text := buf.String()
			for _, w := range want {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, text)
				}
			}
			if r.State != result.Critical {
				t.Errorf("state %v, want CRITICAL", r.State)
			}

			var probes []probe
			for _, a := range []string{"192.0.2.2", "192.0.2.10", "198.51.100.7", "2001:db8::2", "2001:db8:1::5"} {
				src := netip.MustParseAddr(a)
				for _, port := range DefaultPorts {
					probes = append(probes, probe{src, netip.MustParseAddr(serverAddr[eval.FamilyOf(src)]), port})
				}
			}
			for p, outcome := range dial(t, top.client, probes) {
				accept, undecided := eval.EvaluateAddr(rs, eval.NewSYN(p.src, p.dst, 40000, p.port, "eth0"))
				if undecided || accept != (outcome == "accepted") {
					t.Errorf("%v -> %v:%d: evaluator accepted=%v undecided=%v, connection %s", p.src, p.dst, p.port, accept, undecided, outcome)
				}
			}
		})
	}
}
