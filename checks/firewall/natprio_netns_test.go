package firewall

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// TestNamespaceNatChainPriority: nat chains run from the NAT core's own
// hook (priority -100 in PREROUTING, 100 in INPUT), whatever priority they
// declare. A DNAT chain declared at 50 rewrites the port before a filter
// chain at 0 sees it; an SNAT chain declared at -50 rewrites the source
// after a filter chain at 0 decided. The model must follow the kernel's
// order: untrusted sources the kernel lets in must make the check
// CRITICAL, and the kernel's answer for each probe must be the model's.
func TestNamespaceNatChainPriority(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "nft")
	const ip6 = `
table ip6 f {
	chain in {
		type filter hook input priority 0; policy drop;
		iif lo accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
		ip6 saddr 2001:db8::/64 accept
	}
}
`
	cases := []struct {
		name, nft string
		// ports probed: a port where nothing listens refuses what the
		// firewall lets in.
		ports []uint16
		want  result.State
	}{
		// The filter chain sees port 6379, not 6380: its drop does not
		// apply and every source reaches Redis through 6380.
		{name: "dnat-declared-after-filter", ports: []uint16{6379, 6380}, want: result.Critical, nft: `
table ip nat {
	chain pre {
		type nat hook prerouting priority 50;
		tcp dport 6380 dnat to 192.0.2.1:6379
	}
}
table ip f {
	chain pre {
		type filter hook prerouting priority 0; policy accept;
		tcp dport 6380 ip saddr != 192.0.2.0/25 drop
	}
	chain in {
		type filter hook input priority 0; policy drop;
		iif lo accept
		ip saddr 192.0.2.0/25 accept
		ct status dnat accept
	}
}
`},
		// The filter chain sees the client's address: 198.51.100.0/24
		// is accepted before the rewrite to 192.0.2.77.
		{name: "snat-declared-before-filter", ports: []uint16{6379}, want: result.Critical, nft: `
table ip nat {
	chain in {
		type nat hook input priority -50;
		ip saddr 198.51.100.0/24 tcp dport 6379 snat to 192.0.2.77
	}
}
table ip f {
	chain in {
		type filter hook input priority 0; policy drop;
		iif lo accept
		ip saddr 198.51.100.0/24 accept
		ip saddr 192.0.2.0/25 ip saddr != 192.0.2.77 accept
	}
}
`},
	}
	host := netip.MustParseAddr(serverAddr[eval.IPv4])
	srcs := []netip.Addr{netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("203.0.113.9"), netip.MustParseAddr("192.0.2.2")}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			top := newTopology(t, "natprio-"+c.name[:4])
			loadNft(t, top.server, c.nft+ip6)
			// Only 6379 listens: an answer on 6380 is the rewrite's.
			startListener(t, top.server, []uint16{6379})
			var probes []probe
			for _, s := range srcs {
				for _, port := range c.ports {
					probes = append(probes, probe{s, host, port})
				}
			}
			_, _, rep := compareWithKernel(t, top, []uint16{6379}, probes, false)
			wantVerdict(t, rep, c.want)
		})
	}
}

// TestNamespaceNatHookTie: a filter chain at the NAT core's own priority
// (-100 in PREROUTING) runs before or after the nat chains depending on
// which hook the kernel registered last, which no listing tells. Loaded
// before the nat table, the filter chain runs after the DNAT and its drop
// of port 6380 misses the connections rewritten to 6379; loaded after, it
// runs first and drops them. The check cannot tell the two apart: it must
// never say the untrusted source is refused, and never OK.
func TestNamespaceNatHookTie(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "nft")
	const filter = `
table ip f {
	chain pre {
		type filter hook prerouting priority -100; policy accept;
		tcp dport 6380 drop
	}
	chain in {
		type filter hook input priority 0; policy drop;
		iif lo accept
		ip saddr 192.0.2.0/25 accept
		ct status dnat accept
	}
}
`
	const nat = `
table ip nat {
	chain pre {
		type nat hook prerouting priority -100;
		tcp dport 6380 dnat to 192.0.2.1:6379
	}
}
table ip6 f6 {
	chain in {
		type filter hook input priority 0; policy drop;
		iif lo accept
	}
}
`
	host := netip.MustParseAddr(serverAddr[eval.IPv4])
	src := netip.MustParseAddr("198.51.100.7")
	for _, c := range []struct {
		name, rules string
		kernel      string // the kernel's answer to src on 6380
	}{
		{"filter-loaded-first", filter + nat, "accepted"},
		{"nat-loaded-first", nat + filter, "timeout"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			top := newTopology(t, "nattie-"+c.name[:3])
			loadNft(t, top.server, c.rules)
			startListener(t, top.server, []uint16{6379})
			p := probe{src, host, 6380}
			got := dial(t, top.client, []probe{p})
			if got[p] != c.kernel {
				t.Fatalf("kernel: %s on 6380, want %s: the registration order this test relies on has changed", got[p], c.kernel)
			}
			_, rs, rep := liveReport(t, top.server, []uint16{6379})
			accept, undecided := eval.EvaluateAddr(rs, eval.NewSYN(src, host, 40000, 6380, "eth0"))
			if accept || !undecided {
				t.Errorf("model accepted=%v undecided=%v for %v on 6380; want undecided", accept, undecided, src)
			}
			if !reportCounts(rep, p) {
				t.Errorf("the report does not count %v via host port 6380", src)
			}
			for _, pr := range rep.Ports {
				if pr.Query.Family == eval.IPv4 && pr.Query.Port == 6380 && pr.Result != nil &&
					!strings.Contains(strings.Join(pr.Result.Reasons, "\n"), "order their hooks were registered") {
					t.Errorf("reasons do not name the tie: %q", pr.Result.Reasons)
				}
			}
			res := JudgeReport(rep, oracleTrusted)
			if w := res.Worst(); w == result.OK || w == result.Warning {
				t.Errorf("verdict %v, want UNKNOWN or CRITICAL:\n%v", w, res.Findings)
			}
		})
	}
}
