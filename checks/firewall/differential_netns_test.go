package firewall

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/synprobe"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// The differential test lets the kernel judge the model: random rulesets
// are loaded into a namespace, read back the way the check reads a live
// system, and evaluated; then first SYNs of every shape a client may send
// go to a listener from several sources, over two links (diffSources). A
// SYN-ACK for a packet the model calls not accepted (and not undecided) is
// a false OK and fails the test.
//
// FWDIFF_RULESETS sets how many rulesets (default 60), FWDIFF_SEED the
// first seed (default 1), FWDIFF_SHOW=1 logs a sample of the packets the
// model accepts for some shape but the kernel did not answer in the shape
// sent (over-approximation, never a failure). A failing ruleset is shrunk
// and written to testdata/firewall/differential, whose files
// TestDifferentialRegressions replays.

// diffSource is a client address the differential test sends from, the
// link its SYNs come in by and the link the server answers it by: every
// pairing of the two links, so that matches on the way in (iif, -i) and
// on the way back (strict reverse-path) meet packets that pass and fail.
type diffSource struct{ addr, in, back string }

var (
	diffSources = []diffSource{
		{"192.0.2.2", "eth0", "eth0"}, {"192.0.2.130", "eth1", "eth0"}, {"198.51.100.7", "eth0", "eth0"},
		{"198.51.100.200", "eth1", "eth1"}, {"203.0.113.9", "eth0", "eth1"},
		{"2001:db8::2", "eth0", "eth0"}, {"2001:db8::10", "eth1", "eth0"}, {"2001:db8:1::5", "eth1", "eth1"},
		{"2001:db8:ffff::9", "eth0", "eth1"},
	}
	diffPorts     = []uint16{6379, 6380}
	diffVariants4 = []synprobe.Variant{
		{}, {Flags: synprobe.SYN | synprobe.ECE | synprobe.CWR}, {Flags: synprobe.SYN | synprobe.PSH},
		{Flags: synprobe.SYN | synprobe.URG}, {TOS: 0x22}, {TTL: 1}, {IPOptions: true}, {MSS: true},
	}
	diffVariants6 = []synprobe.Variant{
		{}, {Flags: synprobe.SYN | synprobe.ECE | synprobe.CWR}, {ExtHdrs: []uint8{synprobe.DstOpts}},
		{ExtHdrs: []uint8{synprobe.HopByHop}}, {ExtHdrs: []uint8{synprobe.Fragment}},
		{ExtHdrs: []uint8{synprobe.Routing}}, {ExtHdrs: []uint8{synprobe.HopByHop, synprobe.DstOpts}},
		{TOS: 0x29}, {TTL: 1},
	}
)

// nsenterSystem reads a namespace's firewall like netnsSystem, through
// nsenter, which only switches the network namespace: `ip netns exec`
// also remounts /sys for every command, several times the cost of the
// command itself.
type nsenterSystem struct{ ns string }

func (s nsenterSystem) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	return Host{}.Run(ctx, "nsenter", append([]string{"--net=/run/netns/" + s.ns, name}, args...)...)
}

func (s nsenterSystem) ReadFile(ctx context.Context, path string) ([]byte, error) {
	return s.Run(ctx, "cat", path)
}

func (nsenterSystem) Privileged() error { return nil }

// diffStats counts what a run saw.
type diffStats struct {
	rulesets, rejected, probes, answered, modelAccepted, undecided, overcautious int
}

// diffEnv is the namespace pair a batch of rulesets runs in.
type diffEnv struct {
	top   topology
	sport uint16
}

func newDiffEnv(t *testing.T, name string) *diffEnv {
	t.Helper()
	top := newTopology(t, name)
	secondLink(t, top)
	var viaEth1, backEth1 []string
	for _, d := range diffSources {
		if d.in == "eth1" {
			viaEth1 = append(viaEth1, d.addr)
		}
		if d.back == "eth1" {
			a := netip.MustParseAddr(d.addr)
			backEth1 = append(backEth1, netip.PrefixFrom(a, a.BitLen()).String())
		}
	}
	sendByEth1(t, top, viaEth1...)
	answerByEth1(t, top, backEth1...)
	// Static neighbours: a random IPv6 policy may drop neighbour
	// discovery, which would silence the kernel for another reason.
	sm, cm := linkMAC(t, top.server, "eth0"), linkMAC(t, top.client, "eth0")
	for _, d := range diffSources {
		if a := netip.MustParseAddr(d.addr); d.back == "eth0" && (onLink.Contains(a) || onLink6.Contains(a)) {
			ipCmd(t, "-n", top.server, "neigh", "replace", d.addr, "lladdr", cm, "dev", "eth0", "nud", "permanent")
		}
	}
	ipCmd(t, "-n", top.client, "neigh", "replace", "2001:db8::1", "lladdr", sm, "dev", "eth0", "nud", "permanent")
	startListener(t, top.server, diffPorts)
	e := &diffEnv{top: top, sport: 20000}
	e.premise(t)
	return e
}

// The server's on-link prefixes on eth0; other sources are answered
// through the client's 192.0.2.2 and 2001:db8::2 there.
var onLink, onLink6 = netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/64")

// premise shows the links work as diffSources says before any ruleset is
// judged: a SYN to 6379 is dropped when it comes in by eth1, one to 6380
// when it fails the strict reverse-path check (answered by the other
// link), and the kernel must answer exactly the others.
func (e *diffEnv) premise(t *testing.T) {
	t.Helper()
	err := e.load(`table inet premise {
	chain pre {
		type filter hook prerouting priority 0; policy accept;
		iifname "eth1" tcp dport 6379 drop
		fib saddr . iif oif missing tcp dport 6380 drop
	}
}
`)
	if err != nil {
		t.Fatal(err)
	}
	var probes []synprobe.Probe
	for _, d := range diffSources {
		src := netip.MustParseAddr(d.addr)
		dst := netip.MustParseAddr(serverAddr[eval.FamilyOf(src)])
		for _, port := range diffPorts {
			probes = append(probes, synprobe.Probe{Src: src, Dst: dst, SPort: e.nextPort(), DPort: port})
		}
	}
	got := probeFrom(t, e.top.client, probes)
	for i, p := range probes {
		d := diffSources[i/len(diffPorts)]
		want := d.in == "eth0"
		if p.DPort == 6380 {
			want = d.in == d.back
		}
		if got[i] != want {
			t.Fatalf("%v (in by %s, answered by %s) -> port %d: SYN-ACK %v, want %v", p.Src, d.in, d.back, p.DPort, got[i], want)
		}
	}
}

// nextPort is a fresh source port for a probe: the prober tells answers
// apart by it, and a reused tuple would meet an earlier conntrack entry.
func (e *diffEnv) nextPort() uint16 {
	e.sport++
	if e.sport < 20000 {
		e.sport = 20000
	}
	return e.sport
}

// check loads one ruleset and returns the false OKs it finds.
func (e *diffEnv) check(t *testing.T, ruleset string, st *diffStats) []string {
	t.Helper()
	if err := e.load(ruleset); err != nil {
		st.rejected++
		t.Logf("ruleset refused: %v", err)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := Gather(ctx, Options{System: nsenterSystem{e.top.server}})
	if in.Err != nil {
		t.Fatal(in.Err)
	}
	rs, _ := Build(in)
	rep := Evaluate(rs, diffPorts)
	crossCheckText(t, nsenterSystem{e.top.server}, rep)

	var probes []synprobe.Probe
	var iifs []string
	for _, port := range diffPorts {
		for _, d := range diffSources {
			src := netip.MustParseAddr(d.addr)
			dst := netip.MustParseAddr(serverAddr[eval.FamilyOf(src)])
			vs := diffVariants4
			if src.Is6() {
				vs = diffVariants6
			}
			for _, v := range vs {
				probes = append(probes, synprobe.Probe{Src: src, Dst: dst, SPort: e.nextPort(), DPort: port, Variant: v})
				iifs = append(iifs, d.in)
			}
		}
	}
	got := probeFrom(t, e.top.client, probes)
	st.rulesets++
	var bad []string
	for i, p := range probes {
		acc, und := eval.EvaluateAddr(rs, packetOf(p, iifs[i]))
		st.probes++
		if got[i] {
			st.answered++
		}
		if acc {
			st.modelAccepted++
		}
		if und {
			st.undecided++
		}
		if acc && !got[i] {
			st.overcautious++
			if os.Getenv("FWDIFF_SHOW") != "" && st.overcautious%40 == 1 {
				t.Logf("accepted by the model, no SYN-ACK: %v -> %v:%d [%v]\n%s", p.Src, p.Dst, p.DPort, p.Variant, ruleset)
			}
		}
		if got[i] && !acc && !und {
			bad = append(bad, fmt.Sprintf("%v -> %v:%d [%v] in by %s: SYN-ACK, but the model refuses the packet", p.Src, p.Dst, p.DPort, p.Variant, iifs[i]))
		}
		// The reported sets must hold the source as well.
		for _, pr := range rep.Ports {
			if !got[i] || pr.Query.Port != p.DPort || pr.Query.Family != eval.FamilyOf(p.Src) || pr.Err != nil {
				continue
			}
			if !pr.Result.Accepted.Contains(p.Src) && !pr.Result.Undecided.Contains(p.Src) {
				bad = append(bad, fmt.Sprintf("%v -> %v:%d [%v]: SYN-ACK, but the report accepts only %v", p.Src, p.Dst, p.DPort, p.Variant, pr.Result.Accepted.Prefixes()))
			}
		}
	}
	return dedupeLines(bad)
}

func dedupeLines(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// shrink drops rules while the ruleset still shows a false OK.
func (e *diffEnv) shrink(t *testing.T, rs *randRuleset, st *diffStats) *randRuleset {
	for changed := true; changed; {
		changed = false
		for ti, tb := range rs.tables {
			for ci, c := range tb.chains {
				for ri := 0; ri < len(c.rules); ri++ {
					try := rs.clone()
					ch := try.tables[ti].chains[ci]
					ch.rules = append(ch.rules[:ri], ch.rules[ri+1:]...)
					if try.loads(e) && len(e.check(t, try.String(), st)) > 0 {
						rs, changed = try, true
						ri--
						c = rs.tables[ti].chains[ci]
					}
				}
			}
		}
	}
	return rs
}

// load replaces the server's ruleset: the nft part, then the
// iptables-nft tables.
func (e *diffEnv) load(text string) error {
	nft, ipt := splitCase(text)
	run := func(stdin string, args ...string) error {
		cmd := exec.Command("nsenter", append([]string{"--net=/run/netns/" + e.top.server}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", args[0], err, out)
		}
		return nil
	}
	if err := run("flush ruleset\n"+nft, "nft", "-f", "-"); err != nil {
		return err
	}
	for fam, tool := range map[string]string{"ipt4": "iptables-nft-restore", "ipt6": "ip6tables-nft-restore"} {
		if r, ok := ipt[fam]; ok {
			if err := run(r, tool); err != nil {
				return err
			}
		}
	}
	return nil
}

// loads reports whether the ruleset still loads once shrunk.
func (rs *randRuleset) loads(e *diffEnv) bool { return e.load(rs.String()) == nil }

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func requireDiff(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "nft", "iptables-nft", "ip6tables-nft", "iptables-legacy", "ip6tables-legacy", "ipset")
}

func TestDifferentialKernel(t *testing.T) {
	requireDiff(t)
	n := envInt("FWDIFF_RULESETS", 60)
	seed := uint64(envInt("FWDIFF_SEED", 1))
	// A fresh namespace pair every batch keeps conntrack and source ports
	// from one ruleset away from the next.
	const batch = 150
	var st diffStats
	start := time.Now()
	for b := 0; b*batch < n; b++ {
		t.Run(fmt.Sprintf("batch%d", b), func(t *testing.T) {
			e := newDiffEnv(t, fmt.Sprintf("diff%d", b))
			for i := b * batch; i < min(n, (b+1)*batch); i++ {
				s := seed + uint64(i)
				rs := genRandom(s)
				if bad := e.check(t, rs.String(), &st); len(bad) > 0 {
					min := e.shrink(t, rs, &diffStats{})
					path := fwdata(t, "differential", fmt.Sprintf("seed-%d.nft", s))
					_ = os.MkdirAll(fwdata(t, "differential"), 0o755)
					_ = os.WriteFile(path, []byte(min.String()), 0o644)
					t.Errorf("seed %d: false OK (kept as %s):\n%s\nruleset:\n%s\nshrunk:\n%s",
						s, path, strings.Join(bad, "\n"), rs, min)
				}
			}
		})
	}
	if st.rejected*10 > n {
		t.Errorf("nft refused %d of %d generated rulesets", st.rejected, n)
	}
	d := time.Since(start)
	t.Logf("%d rulesets in %v (%.1f rulesets/s); %d probes, %d answered by the kernel, %d accepted by the model, %d undecided, %d accepted by the model but not answered",
		st.rulesets, d.Round(time.Millisecond), float64(st.rulesets)/d.Seconds(), st.probes, st.answered, st.modelAccepted, st.undecided, st.overcautious)
}

// TestDifferentialRegressions replays every ruleset a differential run
// kept.
func TestDifferentialRegressions(t *testing.T) {
	requireDiff(t)
	files, _ := filepath.Glob(fwdata(t, "differential", "*.nft"))
	if len(files) == 0 {
		t.Skip("no kept rulesets")
	}
	e := newDiffEnv(t, "diffreg")
	var st diffStats
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bad := e.check(t, string(data), &st); len(bad) > 0 {
			t.Errorf("%s: false OK:\n%s", f, strings.Join(bad, "\n"))
		}
	}
}
