package firewall

import (
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/netns"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/synprobe"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// loadNft applies an nft ruleset inside a namespace.
func loadNft(t testing.TB, ns, ruleset string) {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(ruleset)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft -f: %v: %s\n%s", err, out, ruleset)
	}
}

// probeFrom sends the probes from a namespace and returns which were
// answered with a SYN-ACK.
func probeFrom(t testing.TB, ns string, probes []synprobe.Probe) []bool {
	t.Helper()
	var got []bool
	err := (&netns.Host{Name: ns, NS: ns}).Do(func() error {
		p, err := synprobe.Open()
		if err != nil {
			return err
		}
		defer p.Close()
		got, err = p.Run(probes, 300*time.Millisecond)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// The two false OKs: a rule that drops the bare SYN lets an ECN SYN
// (SYN|ECE|CWR) in, and "ip6 nexthdr != tcp accept" lets in a SYN behind a
// destination options header. The check must say CRITICAL, and the kernel
// must answer exactly the shapes the model says it lets in.
func TestNamespaceClientShapedSYN(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "nft", "iptables-nft", "ip6tables-nft", "iptables-legacy", "ip6tables-legacy", "ipset")
	top := newTopology(t, "synshape")
	loadNft(t, top.server, `
table ip t4 {
	chain in {
		type filter hook input priority 0; policy accept;
		tcp dport 6379 tcp flags == syn drop
		tcp dport 6380 tcp flags & (syn | ack | ecn) == syn drop
		tcp dport 6381 tcp flags & (fin | syn | rst | ack) == syn drop
		tcp dport 6383 tcp flags & (ecn | cwr) == 0 drop
		tcp dport 6384 tcp flags & (fin | syn | rst | psh | ack | urg) == 0 drop
	}
}
table ip6 t6 {
	chain in {
		type filter hook input priority 0; policy drop;
		ip6 nexthdr != tcp accept
	}
}`)
	// iptables' ALL leaves out ECE and CWR: an ECN SYN is dropped, a SYN
	// with PSH is not.
	ipt := exec.Command("ip", "netns", "exec", top.server, "iptables-nft", "-A", "INPUT", "-p", "tcp", "--dport", "6382", "--tcp-flags", "ALL", "SYN", "-j", "DROP")
	if out, err := ipt.CombinedOutput(); err != nil {
		t.Fatalf("iptables-nft: %v: %s", err, out)
	}
	// nft prints "flags & X == 0" as "tcp flags ! X" (Shorewall's
	// --tcp-flags ALL NONE through iptables-nft): 6383 drops a SYN without
	// ECN bits only, 6384 no first SYN.
	ports := []uint16{6379, 6380, 6381, 6382, 6383, 6384}
	startListener(t, top.server, ports)

	_, rs, rep := liveReport(t, top.server, ports)
	res := JudgeReport(rep, nil)
	crit := map[string]bool{}
	for _, f := range res.Findings {
		if f.State == result.Critical {
			crit[strings.SplitN(f.Text, ":", 2)[0]] = true
		}
	}
	for _, want := range []string{"tcp/6379 IPv4", "tcp/6380 IPv4", "tcp/6382 IPv4", "tcp/6383 IPv4", "tcp/6384 IPv4", "tcp/6379 IPv6", "tcp/6380 IPv6", "tcp/6381 IPv6"} {
		if !crit[want] {
			t.Errorf("%s not CRITICAL:\n%v", want, res.Findings)
		}
	}
	if crit["tcp/6381 IPv4"] {
		t.Errorf("tcp/6381 IPv4 CRITICAL, but no first SYN passes & (fin|syn|rst|ack) == syn")
	}

	src4, dst4 := netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr(serverAddr[eval.IPv4])
	src6, dst6 := netip.MustParseAddr("2001:db8::2"), netip.MustParseAddr(serverAddr[eval.IPv6])
	ecn := synprobe.Variant{Flags: synprobe.SYN | synprobe.ECE | synprobe.CWR}
	dstopts := synprobe.Variant{ExtHdrs: []uint8{synprobe.DstOpts}}
	type c struct {
		p    synprobe.Probe
		want bool
	}
	var cases []c
	sport := uint16(41000)
	add := func(src, dst netip.Addr, port uint16, v synprobe.Variant, want bool) {
		sport++
		cases = append(cases, c{synprobe.Probe{Src: src, Dst: dst, SPort: sport, DPort: port, Variant: v}, want})
	}
	add(src4, dst4, 6379, synprobe.Variant{}, false)
	add(src4, dst4, 6379, ecn, true)
	add(src4, dst4, 6380, synprobe.Variant{}, false)
	add(src4, dst4, 6380, ecn, true)
	add(src4, dst4, 6381, ecn, false)
	add(src4, dst4, 6382, ecn, false)
	add(src4, dst4, 6382, synprobe.Variant{Flags: synprobe.SYN | synprobe.PSH}, true)
	add(src4, dst4, 6383, synprobe.Variant{}, false)
	add(src4, dst4, 6383, ecn, true)
	add(src4, dst4, 6384, synprobe.Variant{}, true)
	add(src6, dst6, 6379, synprobe.Variant{}, false)
	add(src6, dst6, 6379, dstopts, true)
	var probes []synprobe.Probe
	for _, x := range cases {
		probes = append(probes, x.p)
	}
	got := probeFrom(t, top.client, probes)
	for i, x := range cases {
		if got[i] != x.want {
			t.Errorf("%v -> %v:%d %v: SYN-ACK %v, want %v", x.p.Src, x.p.Dst, x.p.DPort, x.p.Variant, got[i], x.want)
		}
		acc, und := eval.EvaluateAddr(rs, packetOf(x.p, "eth0"))
		if acc != x.want || und {
			t.Errorf("%v -> %v:%d %v: model accepted=%v undecided=%v, kernel %v", x.p.Src, x.p.Dst, x.p.DPort, x.p.Variant, acc, und, got[i])
		}
	}
}

// packetOf is the model's packet for a probe arriving on interface iif,
// its shape fixed.
func packetOf(p synprobe.Probe, iif string) eval.Packet {
	pk := eval.NewSYN(p.Src, p.Dst, p.SPort, p.DPort, iif)
	pk.Shaped = true
	if f := p.Variant.Flags; f != 0 {
		pk.TCPFlags = f
	}
	pk.NextHdr = eval.ProtoTCP
	if len(p.Variant.ExtHdrs) > 0 {
		pk.NextHdr = p.Variant.ExtHdrs[0]
	}
	if slices.Contains(p.Variant.ExtHdrs, synprobe.Fragment) {
		// Where conntrack runs, its defragmentation takes the fragment
		// header out before the filter sees the packet; where it does
		// not, the header stays. The model leaves that to the client.
		pk.Shaped = false
	}
	return pk
}
