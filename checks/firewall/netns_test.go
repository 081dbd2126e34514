package firewall

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// netnsSystem reads the firewall of a network namespace.
type netnsSystem struct{ ns string }

func (s netnsSystem) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	return Host{}.Run(ctx, "ip", append([]string{"netns", "exec", s.ns, name}, args...)...)
}

func (s netnsSystem) ReadFile(ctx context.Context, path string) ([]byte, error) {
	return s.Run(ctx, "cat", path)
}

func (netnsSystem) Privileged() error { return nil }

// Test addresses: the server is 192.0.2.1 and 2001:db8::1; the client
// holds the others and reaches the server over one veth pair, with the
// server routing the non-local ranges back through the client.
var (
	clientAddrs = []string{"192.0.2.2", "192.0.2.10", "192.0.2.100", "192.0.2.130", "192.0.2.200",
		"198.51.100.7", "198.51.100.200", "203.0.113.9", "203.0.113.77",
		"2001:db8::2", "2001:db8::10", "2001:db8:1::5", "2001:db8:ffff::9"}
	serverAddr = map[eval.Family]string{eval.IPv4: "192.0.2.1", eval.IPv6: "2001:db8::1"}
)

// topology is a server and a client namespace joined by a veth pair.
type topology struct {
	server, client string
}

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func newTopology(t *testing.T, name string) topology {
	t.Helper()
	id := fmt.Sprintf("fwt-%s-%d", name, os.Getpid())
	top := topology{server: id + "-s", client: id + "-c"}
	for _, ns := range []string{top.server, top.client} {
		ipCmd(t, "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		ipCmd(t, "-n", ns, "link", "set", "lo", "up")
	}
	// The pair is created inside the server namespace: no interface ever
	// appears in the host's namespace.
	ipCmd(t, "-n", top.server, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", top.client)
	s, c := []string{"-n", top.server}, []string{"-n", top.client}
	ipCmd(t, append(s, "addr", "add", "192.0.2.1/24", "dev", "eth0")...)
	ipCmd(t, append(s, "addr", "add", "2001:db8::1/64", "dev", "eth0", "nodad")...)
	ipCmd(t, append(s, "link", "set", "eth0", "up")...)
	for _, r := range []string{"198.51.100.0/24", "203.0.113.0/24"} {
		ipCmd(t, append(s, "route", "add", r, "via", "192.0.2.2")...)
	}
	for _, r := range []string{"2001:db8:1::/48", "2001:db8:ffff::/48"} {
		ipCmd(t, append(s, "-6", "route", "add", r, "via", "2001:db8::2")...)
	}
	for i, a := range clientAddrs {
		p := a + "/32"
		switch {
		case i == 0:
			p = a + "/24"
		case strings.HasPrefix(a, "2001:db8::"):
			p = a + "/64"
		case strings.Contains(a, ":"):
			p = a + "/128"
		}
		args := append(c, "addr", "add", p, "dev", "eth0")
		if strings.Contains(a, ":") {
			args = append(args, "nodad")
		}
		ipCmd(t, args...)
	}
	ipCmd(t, append(c, "link", "set", "eth0", "up")...)
	ipCmd(t, append(c, "route", "add", "default", "via", "192.0.2.1", "src", "192.0.2.2")...)
	ipCmd(t, append(c, "-6", "route", "add", "default", "via", "2001:db8::1")...)
	return top
}

// startListener runs the listening helper in the server namespace.
func startListener(t *testing.T, ns string, ports []uint16) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var ps []string
	for _, p := range ports {
		ps = append(ps, strconv.Itoa(int(p)))
	}
	cmd := exec.Command("ip", "netns", "exec", ns, exe)
	cmd.Env = append(os.Environ(), "FWTEST_HELPER=listen", "FWTEST_PORTS="+strings.Join(ps, ","))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case l := <-ready:
		if l != "ready" {
			t.Fatalf("listener: %q", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("listener did not start")
	}
}

type probe struct {
	src, dst netip.Addr
	port     uint16
}

// dial runs the probes from a namespace and returns each outcome.
func dial(t *testing.T, ns string, probes []probe) map[probe]string {
	t.Helper()
	exe, _ := os.Executable()
	var lines []string
	for _, p := range probes {
		lines = append(lines, fmt.Sprintf("%s %s %d", p.src, p.dst, p.port))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, exe)
	cmd.Env = append(os.Environ(), "FWTEST_HELPER=dial", "FWTEST_PROBES="+strings.Join(lines, "\n"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dial helper: %v: %s", err, out)
	}
	res := map[probe]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 4 {
			t.Fatalf("dial helper: %q", sc.Text())
		}
		port, _ := strconv.Atoi(f[2])
		res[probe{netip.MustParseAddr(f[0]), netip.MustParseAddr(f[1]), uint16(port)}] = f[3]
	}
	if len(res) != len(probes) {
		t.Fatalf("dial helper answered %d of %d probes", len(res), len(probes))
	}
	return res
}

// TestNamespaceScenarios applies each scenario's real ruleset in a fresh
// namespace, reads it back the way the check does on a live system, and
// compares the computed sets with want.txt and with real connection
// attempts from several source addresses.
func TestNamespaceScenarios(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "nft", "iptables-nft", "ip6tables-nft", "iptables-legacy", "ip6tables-legacy", "ipset")
	for _, name := range scenarios(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := fwdata(t, "scenarios", name)
			top := newTopology(t, name)
			out, err := exec.Command("ip", "netns", "exec", top.server, "sh", filepath.Join(dir, "setup.sh")).CombinedOutput()
			if err != nil {
				t.Fatalf("setup.sh: %v: %s", err, out)
			}
			startListener(t, top.server, DefaultPorts)

			_, rs, rep := liveReport(t, top.server, DefaultPorts)
			checkWant(t, rep, readWant(t, dir))

			var remote, local []probe
			for _, a := range clientAddrs {
				src := netip.MustParseAddr(a)
				for _, port := range DefaultPorts {
					remote = append(remote, probe{src, netip.MustParseAddr(serverAddr[eval.FamilyOf(src)]), port})
				}
			}
			for _, a := range []string{"127.0.0.1", "::1"} {
				for _, port := range DefaultPorts {
					local = append(local, probe{netip.MustParseAddr(a), netip.MustParseAddr(a), port})
				}
			}
			got := dial(t, top.client, remote)
			for k, v := range dial(t, top.server, local) {
				got[k] = v
			}
			compared := 0
			for p, outcome := range got {
				iif := "eth0"
				if p.src.IsLoopback() {
					iif = "lo"
				}
				// The exact packet, through the same model.
				accept, undecided := eval.EvaluateAddr(rs, eval.NewSYN(p.src, p.dst, 40000, p.port, iif))
				if undecided {
					t.Logf("%v -> %v:%d undecided, connection %s", p.src, p.dst, p.port, outcome)
					continue
				}
				if strings.HasPrefix(outcome, "error") {
					t.Errorf("%v -> %v:%d: %s", p.src, p.dst, p.port, outcome)
					continue
				}
				if accept != (outcome == "accepted") {
					t.Errorf("%v -> %v:%d: evaluator says accepted=%v, connection %s", p.src, p.dst, p.port, accept, outcome)
				}
				// The reported sets agree with the packet's verdict.
				for _, pr := range rep.Ports {
					if pr.Query.Port != p.port || pr.Query.Family != eval.FamilyOf(p.src) || pr.Result.ContextCount != 1 {
						continue
					}
					set := pr.Result.Accepted
					if iif == "lo" {
						set = pr.Result.LoopbackAccepted
					}
					if set.Contains(p.src) != accept {
						t.Errorf("%v -> %v:%d: set membership %v, packet verdict %v", p.src, p.dst, p.port, !accept, accept)
					}
				}
				compared++
			}
			if compared < len(got)/2 {
				t.Errorf("only %d of %d probes were decided", compared, len(got))
			}
		})
	}
}

// liveReport reads the ruleset of namespace ns as the binary reads a live
// system, compiles it and evaluates it for ports, the compiler's notes
// attached.
func liveReport(t *testing.T, ns string, ports []uint16) (*Facts, *eval.Ruleset, *Report) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := Gather(ctx, Options{System: netnsSystem{ns}})
	if in.Err != nil {
		t.Fatal(in.Err)
	}
	rs, notes := Build(in)
	rep := Evaluate(rs, ports)
	rep.Notes = notes
	rep.Dumps = in.dumps()
	// Every ruleset a namespace test loads is also read by the text
	// readers (nft -j, iptables-nft-save): the verdicts must agree.
	crossCheckText(t, netnsSystem{ns}, rep)
	return in, rs, rep
}

// oracleTrusted is the trusted set the kernel-oracle tests judge with.
var oracleTrusted = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/25"), netip.MustParsePrefix("2001:db8::/64")}

// compareWithKernel sends probes from top.client (the caller has started
// the listener), reads top.server's ruleset as the check does and fails t
// where the model and the kernel part: a decided answer that is not the
// kernel's (when exact, also an undecided one), or a connection the
// kernel delivers that no report row of its family and host port counts
// as accepted or undecided.
func compareWithKernel(t *testing.T, top topology, ports []uint16, probes []probe, exact bool) (map[probe]string, *eval.Ruleset, *Report) {
	t.Helper()
	got := dial(t, top.client, probes)
	_, rs, rep := liveReport(t, top.server, ports)
	for _, p := range probes {
		accept, undecided := eval.EvaluateAddr(rs, eval.NewSYN(p.src, p.dst, 40000, p.port, "eth0"))
		kernel := got[p] == "accepted"
		if (undecided && exact) || (!undecided && accept != kernel) {
			t.Errorf("%v -> %v:%d: model accepted=%v undecided=%v, kernel %s", p.src, p.dst, p.port, accept, undecided, got[p])
		}
		if kernel && !reportCounts(rep, p) {
			t.Errorf("%v -> %v:%d: the kernel delivers it, no report row counts it", p.src, p.dst, p.port)
		}
	}
	return got, rs, rep
}

// reportCounts tells whether a row of rep for p's family and host port
// has p's source accepted or undecided.
func reportCounts(rep *Report, p probe) bool {
	for _, pr := range rep.Ports {
		if pr.Query.Family == eval.FamilyOf(p.src) && pr.Query.Port == p.port && pr.Result != nil &&
			(pr.Result.Accepted.Contains(p.src) || pr.Result.Undecided.Contains(p.src)) {
			return true
		}
	}
	return false
}

// wantVerdict judges rep with oracleTrusted and fails t unless the worst
// state is want.
func wantVerdict(t *testing.T, rep *Report, want result.State) {
	t.Helper()
	res := JudgeReport(rep, oracleTrusted)
	if w := res.Worst(); w != want {
		t.Errorf("verdict %v, want %v:\n%v", w, want, res.Findings)
	}
}
