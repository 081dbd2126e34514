package firewall

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nfnl"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/xt"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/synprobe"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// toolLog is netnsSystem that records the commands the check runs.
type toolLog struct {
	netnsSystem
	mu  sync.Mutex // Gather runs tools concurrently
	ran []string
}

func (s *toolLog) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	s.mu.Lock()
	s.ran = append(s.ran, strings.Join(append([]string{name}, args...), " "))
	s.mu.Unlock()
	return s.netnsSystem.Run(ctx, name, args...)
}

func (s *toolLog) NFTables(ctx context.Context, rec io.Writer, sink nfnl.Sink) (*nfnl.Ruleset, error) {
	return s.netnsSystem.NFTables(ctx, rec, sink)
}

func (s *toolLog) IPSetNames(ctx context.Context, idx []uint16) (map[uint16]string, error) {
	return s.netnsSystem.IPSetNames(ctx, idx)
}

// "ip6 nexthdr tcp tcp dport 6379 drop" drops only SYNs whose first
// header is TCP: a client that puts a destination options header first
// gets in. nft's listings hide the nexthdr comparison; the bytecode read
// over netlink shows it, with no nft, iptables, ip or ipset process run.
func TestNamespaceNexthdrNetlink(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "nft")
	top := newTopology(t, "nexthdr")
	loadNft(t, top.server, `
table ip6 t6 {
	chain in {
		type filter hook input priority 0; policy accept;
		ip6 nexthdr tcp tcp dport 6379 drop
	}
}`)
	startListener(t, top.server, []uint16{6379})
	sys := &toolLog{netnsSystem: netnsSystem{top.server}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := Gather(ctx, Options{System: sys})
	if in.Err != nil {
		t.Fatal(in.Err)
	}
	if in.RoutesErr != nil || in.Routes == nil {
		t.Fatalf("routes: %v", in.RoutesErr)
	}
	for _, c := range sys.ran {
		// Routes and ipsets come over netlink too: no ip(8) or ipset
		// process either.
		if strings.HasPrefix(c, "nft") || strings.Contains(c, "tables-nft") || strings.HasPrefix(c, "ip ") ||
			strings.HasPrefix(c, "ipset") {
			t.Errorf("the live check ran %q", c)
		}
	}
	rs, notes := Build(in)
	rep := Evaluate(rs, []uint16{6379})
	rep.Notes = notes
	res := JudgeReport(rep, nil)
	crit := false
	for _, f := range res.Findings {
		if f.State == result.Critical && strings.HasPrefix(f.Text, "tcp/6379 IPv6") {
			crit = true
			if !strings.Contains(f.Text, "ip6 nexthdr") {
				t.Errorf("finding does not name the rule's nexthdr match: %s", f.Text)
			}
		}
	}
	if !crit {
		t.Errorf("tcp/6379 IPv6 not CRITICAL:\n%v", res.Findings)
	}
	src, dst := netip.MustParseAddr("2001:db8::2"), netip.MustParseAddr(serverAddr[eval.IPv6])
	probes := []synprobe.Probe{
		{Src: src, Dst: dst, SPort: 42001, DPort: 6379},
		{Src: src, Dst: dst, SPort: 42002, DPort: 6379, Variant: synprobe.Variant{ExtHdrs: []uint8{synprobe.DstOpts}}},
	}
	want := []bool{false, true}
	got := probeFrom(t, top.client, probes)
	for i, p := range probes {
		if got[i] != want[i] {
			t.Errorf("%v: kernel SYN-ACK %v, want %v", p.Variant, got[i], want[i])
		}
		acc, und := eval.EvaluateAddr(rs, packetOf(p, "eth0"))
		if acc != got[i] || und {
			t.Errorf("%v: model accepted=%v undecided=%v, kernel %v", p.Variant, acc, und, got[i])
		}
	}
}

// The kernel as the oracle of the xt decoders: rules loaded with
// iptables-nft are read back over netlink, their xt matches and targets
// decoded and compared, option for option, with what iptables-nft-save
// prints for the same rule.
func TestNamespaceXtDecode(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "iptables-nft", "ip6tables-nft", "iptables-nft-save", "ipset")
	top := newTopology(t, "xtdecode")
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("ip", append([]string{"netns", "exec", top.server}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", args, err, out)
		}
	}
	run("ipset", "create", "xtdec-trusted", "hash:net")
	t.Cleanup(func() {
		exec.Command("ip", "netns", "exec", top.server, "iptables-nft", "-F").Run()
		exec.Command("ip", "netns", "exec", top.server, "ipset", "destroy", "xtdec-trusted").Run()
	})
	v4 := [][]string{
		{"-A", "INPUT", "-p", "tcp", "-m", "multiport", "--dports", "6379,16379:16380", "-j", "ACCEPT"},
		{"-A", "INPUT", "-p", "udp", "-m", "multiport", "!", "--sports", "53", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "conntrack", "!", "--ctstate", "INVALID", "--ctproto", "tcp", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "conntrack", "--ctstate", "DNAT", "--ctorigdst", "192.0.2.1", "--ctorigdstport", "6379", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "conntrack", "--ctstatus", "ASSURED", "--ctdir", "ORIGINAL", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "state", "--state", "NEW", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "addrtype", "--dst-type", "LOCAL", "--limit-iface-in", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "addrtype", "!", "--src-type", "LOCAL,BROADCAST", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "iprange", "--src-range", "192.0.2.1-192.0.2.9", "-j", "DROP"},
		{"-A", "INPUT", "-m", "iprange", "!", "--dst-range", "192.0.2.1-192.0.2.9", "-j", "DROP"},
		{"-A", "INPUT", "-m", "mac", "--mac-source", "02:00:00:aa:bb:cc", "-j", "DROP"},
		{"-A", "INPUT", "-m", "mark", "--mark", "0x1/0xff", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "connmark", "!", "--mark", "0x2", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "limit", "--limit", "5/sec", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "limit", "--limit", "3/min", "--limit-burst", "10", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "hashlimit", "--hashlimit-above", "4/sec", "--hashlimit-mode", "srcip", "--hashlimit-name", "r1", "-j", "DROP"},
		{"-A", "INPUT", "-m", "hashlimit", "--hashlimit-upto", "10/min", "--hashlimit-burst", "20", "--hashlimit-mode", "srcip,dstport", "--hashlimit-name", "r2", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "recent", "--update", "--seconds", "60", "--hitcount", "4", "--name", "ssh", "--rsource", "-j", "DROP"},
		{"-A", "INPUT", "-m", "recent", "--set", "--name", "ssh", "--rsource"},
		{"-A", "INPUT", "-m", "connlimit", "--connlimit-above", "10", "--connlimit-mask", "24", "--connlimit-saddr", "-j", "REJECT"},
		{"-A", "INPUT", "-m", "time", "--timestart", "08:00", "--timestop", "17:00", "--weekdays", "Mon,Fri", "-j", "ACCEPT"},
		{"-A", "INPUT", "-p", "icmp", "-m", "icmp", "--icmp-type", "8", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "set", "--match-set", "xtdec-trusted", "src", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "set", "!", "--match-set", "xtdec-trusted", "src,dst", "-j", "DROP"},
		{"-A", "INPUT", "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"},
		{"-A", "INPUT", "-j", "REJECT", "--reject-with", "icmp-host-prohibited"},
		{"-A", "INPUT", "-j", "LOG", "--log-prefix", "[fw] ", "--log-level", "6"},
		{"-A", "INPUT", "-j", "SET", "--add-set", "xtdec-trusted", "src"},
		{"-A", "OUTPUT", "-m", "owner", "--uid-owner", "33", "-j", "ACCEPT"},
		{"-t", "mangle", "-A", "PREROUTING", "-j", "MARK", "--set-xmark", "0x10/0xffffffff"},
		{"-t", "mangle", "-A", "PREROUTING", "-j", "CONNMARK", "--save-mark"},
		{"-t", "raw", "-A", "PREROUTING", "-p", "tcp", "--dport", "6390", "-j", "CT", "--notrack"},
		{"-t", "nat", "-A", "PREROUTING", "-p", "tcp", "--dport", "16379", "-j", "DNAT", "--to-destination", "192.0.2.5:6379"},
		{"-t", "nat", "-A", "PREROUTING", "-p", "tcp", "--dport", "26379", "-j", "REDIRECT", "--to-ports", "6380"},
		{"-t", "nat", "-A", "POSTROUTING", "-j", "MASQUERADE"},
	}
	v6 := [][]string{
		{"-A", "INPUT", "-m", "conntrack", "--ctstate", "NEW", "--ctorigsrc", "2001:db8::/32", "-j", "ACCEPT"},
		{"-A", "INPUT", "-p", "ipv6-icmp", "-m", "icmp6", "--icmpv6-type", "128", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "iprange", "--src-range", "2001:db8::1-2001:db8::9", "-j", "DROP"},
		{"-A", "INPUT", "-j", "REJECT", "--reject-with", "icmp6-port-unreachable"},
		{"-t", "nat", "-A", "PREROUTING", "-p", "tcp", "--dport", "16379", "-j", "DNAT", "--to-destination", "[2001:db8::5]:6379"},
	}
	for _, r := range v4 {
		run(append([]string{"iptables-nft"}, r...)...)
	}
	for _, r := range v6 {
		run(append([]string{"ip6tables-nft"}, r...)...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sys := netnsSystem{top.server}
	rs, err := sys.NFTables(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	decoded := 0
	for _, fam := range []struct {
		nf   nfnl.Family
		xf   xt.Family
		save string
	}{{nfnl.FamilyIPv4, xt.IPv4, "iptables-nft-save"}, {nfnl.FamilyIPv6, xt.IPv6, "ip6tables-nft-save"}} {
		out, err := sys.Run(ctx, fam.save)
		if err != nil {
			t.Fatal(err)
		}
		dump, err := iptsave.Parse(strings.NewReader(string(out)))
		if err != nil {
			t.Fatal(err)
		}
		var idx []uint16
		for _, r := range rs.Rules {
			for _, e := range r.Exprs {
				if m, ok := e.(*nfnl.Match); ok {
					idx = append(idx, xt.SetIndexes("match", m.MatchName, m.Rev, m.Info)...)
				}
				if g, ok := e.(*nfnl.Target); ok {
					idx = append(idx, xt.SetIndexes("target", g.TargetName, g.Rev, g.Info)...)
				}
			}
		}
		names, err := sys.IPSetNames(ctx, idx)
		if err != nil {
			t.Fatal(err)
		}
		dec := &xt.Decoder{SetName: func(i uint16) (string, error) {
			if n, ok := names[i]; ok {
				return n, nil
			}
			return "", fmt.Errorf("index %d", i)
		}}
		pos := map[string]int{}
		for _, r := range rs.Rules {
			if r.Family != fam.nf {
				continue
			}
			key := r.Table + " " + r.Chain
			i := pos[key]
			pos[key]++
			tab := dump.Table(r.Table)
			if tab == nil {
				t.Errorf("%s: table %s missing", fam.save, r.Table)
				continue
			}
			saved := tab.RulesOf(r.Chain)
			if i >= len(saved) {
				t.Errorf("%s %s: rule %d missing from %s", r.Table, r.Chain, i, fam.save)
				continue
			}
			sr := saved[i]
			line := iptsave.FormatRule(sr)
			for _, e := range r.Exprs {
				switch x := e.(type) {
				case *nfnl.Match:
					m, err := dec.Match(fam.xf, x.MatchName, x.Rev, x.Info)
					if err != nil {
						t.Errorf("%s: %v", line, err)
						continue
					}
					decoded++
					if !hasMatch(sr, m) {
						t.Errorf("decoded %s\n  saved %s", iptsave.FormatRule(&iptsave.Rule{Chain: r.Chain, Matches: []*iptsave.Match{m}}), line)
					}
				case *nfnl.Target:
					g, err := dec.Target(fam.xf, x.TargetName, x.Rev, x.Info)
					if err != nil {
						t.Errorf("%s: %v", line, err)
						continue
					}
					decoded++
					got := iptsave.FormatRule(&iptsave.Rule{Chain: r.Chain, Target: g.Name, TargetOptions: g.Options})
					want := iptsave.FormatRule(&iptsave.Rule{Chain: r.Chain, Target: sr.Target, TargetOptions: sr.TargetOptions})
					if got != want {
						t.Errorf("decoded %s\n  saved %s", got, want)
					}
				}
			}
		}
	}
	if decoded < len(v4)+len(v6)-5 {
		t.Errorf("only %d xt expressions decoded", decoded)
	}
}

// hasMatch reports whether the saved rule has the decoded match, options
// in the same order.
func hasMatch(sr *iptsave.Rule, m *iptsave.Match) bool {
	want := iptsave.FormatRule(&iptsave.Rule{Chain: "X", Matches: []*iptsave.Match{m}})
	for _, sm := range sr.Matches {
		if sm.Module == "" {
			continue
		}
		if iptsave.FormatRule(&iptsave.Rule{Chain: "X", Matches: []*iptsave.Match{sm}}) == want {
			return true
		}
	}
	return false
}
