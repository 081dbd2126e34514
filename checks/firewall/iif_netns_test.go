package firewall

import (
	"net/netip"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// TestNamespaceInterfaceIndex: nf_tables matches "iif" and "oif" by
// interface index, and the live reading sees only the index. The check
// names it from the namespace's interfaces (read over rtnetlink), so a
// ruleset written with "iif eth0", in a rule or in a set, is judged as the
// kernel runs it: the kernel's answer for each probe is the model's, the
// sources it lets in are counted, and a ruleset that lets in only trusted
// hosts is OK rather than UNKNOWN.
func TestNamespaceInterfaceIndex(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "nft")
	const head = `
table inet f {
	chain in {
		type filter hook input priority 0; policy drop;
		iif lo accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
		iif eth0 ip6 saddr 2001:db8::/64 accept
`
	cases := []struct {
		name, rules string
		want        result.State
	}{
		// Only the trusted half of 192.0.2.0/24, by index and by set.
		{name: "trusted", want: result.OK, rules: `
		iif eth0 ip saddr 192.0.2.0/25 tcp dport 6379 accept
		iif { lo, eth0 } ip saddr 192.0.2.0/25 tcp dport 16379 accept
	}
}
`},
		// A jump on the name, then a rule on the index: both hold for a
		// packet from eth0, and 198.51.100.0/24 gets in.
		{name: "untrusted", want: result.Critical, rules: `
		iifname "eth0" jump lan
	}
	chain lan {
		iif != eth0 accept
		iif eth0 ip saddr 198.51.100.0/24 tcp dport 6379 accept
	}
}
`},
	}
	host := netip.MustParseAddr(serverAddr[eval.IPv4])
	srcs := []netip.Addr{netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("203.0.113.9"), netip.MustParseAddr("192.0.2.2")}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			top := newTopology(t, "iif-"+c.name[:4])
			loadNft(t, top.server, head+c.rules)
			startListener(t, top.server, []uint16{6379, 16379})
			var probes []probe
			for _, s := range srcs {
				for _, port := range []uint16{6379, 16379} {
					probes = append(probes, probe{s, host, port})
				}
			}
			_, _, rep := compareWithKernel(t, top, []uint16{6379, 16379}, probes, true)
			wantVerdict(t, rep, c.want)
		})
	}
}
