package firewall

import (
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// TestNamespaceSNATInInput: an SNAT in a nat INPUT chain (priority 100)
// rewrites the source before the filter chains of a later priority, which
// then see the new address while conntrack's original tuple keeps the
// client's. The kernel's answer for each source must be the model's, and
// a source the kernel lets in through the rewrite must make the check
// CRITICAL (or UNKNOWN where the new source is not known), never OK.
func TestNamespaceSNATInInput(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "nft", "iptables-nft-restore")
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
		name, nft, ipt string
		want           result.State
	}{
		{name: "nft-snat-then-allowlist", want: result.Critical, nft: `
table ip nat {
	chain in {
		type nat hook input priority 100;
		ip saddr 198.51.100.0/24 tcp dport 6379 snat to 192.0.2.77
	}
}
table ip f {
	chain late {
		type filter hook input priority 200; policy drop;
		iif lo accept
		ip saddr 192.0.2.0/25 accept
	}
}
`},
		{name: "iptables-snat-then-allowlist", want: result.Critical, nft: `
table ip f {
	chain late {
		type filter hook input priority 200; policy drop;
		iif lo accept
		ip saddr 192.0.2.0/25 accept
	}
}
`, ipt: "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n-A INPUT -s 203.0.113.0/24 -p tcp --dport 6379 -j SNAT --to-source 192.0.2.78\nCOMMIT\n"},
		// The original tuple keeps the client's address: a match on it
		// still sees 198.51.100.7 after the rewrite.
		{name: "nft-snat-original-tuple", want: result.Critical, nft: `
table ip nat {
	chain in {
		type nat hook input priority 100;
		ip saddr 198.51.100.0/24 tcp dport 6379 snat to 192.0.2.77
	}
}
table ip f {
	chain late {
		type filter hook input priority 200; policy drop;
		iif lo accept
		ip saddr 192.0.2.0/25 ip saddr != 192.0.2.77 accept
		ct original ip saddr 198.51.100.0/24 accept
	}
}
`},
		// An SNAT to a port: the new source is not known to the model.
		{name: "nft-snat-to-port", want: result.Unknown, nft: `
table ip nat {
	chain in {
		type nat hook input priority 100;
		ip saddr 198.51.100.0/24 tcp dport 6379 snat to 192.0.2.77:4000
	}
}
table ip f {
	chain late {
		type filter hook input priority 200; policy drop;
		iif lo accept
		ip saddr 192.0.2.0/25 accept
	}
}
`},
	}
	host := netip.MustParseAddr(serverAddr[eval.IPv4])
	srcs := []netip.Addr{netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("203.0.113.9"), netip.MustParseAddr("192.0.2.2")}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			top := newTopology(t, "snat-"+c.name)
			loadNft(t, top.server, c.nft+ip6)
			if c.ipt != "" {
				cmd := exec.Command("ip", "netns", "exec", top.server, "iptables-nft-restore", "--noflush")
				cmd.Stdin = strings.NewReader(c.ipt)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("iptables-nft-restore: %v: %s", err, out)
				}
			}
			startListener(t, top.server, []uint16{6379})
			var probes []probe
			for _, s := range srcs {
				probes = append(probes, probe{s, host, 6379})
			}
			_, _, rep := compareWithKernel(t, top, []uint16{6379}, probes, false)
			wantVerdict(t, rep, c.want)
		})
	}
}
