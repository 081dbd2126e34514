package firewall

import (
	"net/netip"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// TestNamespaceHiddenNatPorts: a host port rewritten to the Redis port
// by a prerouting DNAT the port search did not read (a concatenation, a
// jump to a DNAT, "dnat to :PORT" without an address, a map of addresses)
// while INPUT accepts every DNAT'd connection. The kernel delivers an untrusted
// source's connection to host port 6380 to the listener on 6379 only; the
// check asked about 6379 alone must count that source accepted or
// undecided, and never say OK.
func TestNamespaceHiddenNatPorts(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "nft")
	const filter = `
table ip f {
	chain in {
		type filter hook input priority 0; policy drop;
		iif lo accept
		ip saddr 192.0.2.0/25 accept
		ct status dnat accept
	}
}
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
		name, nat string
		// decided: the model knows the rewrite (CRITICAL, not UNKNOWN).
		decided bool
	}{
		{name: "concat-saddr-dport", decided: true, nat: `ip saddr . tcp dport { 198.51.100.7 . 6380 } dnat to 192.0.2.1:6379`},
		{name: "concat-dport-saddr", decided: true, nat: `tcp dport . ip saddr { 6380 . 198.51.100.7 } dnat to 192.0.2.1:6379`},
		{name: "dnat-port-only", decided: true, nat: `tcp dport 6380 dnat to :6379`},
		{name: "jump-to-dnat", decided: true, nat: "tcp dport 6380 jump j\n\t}\n\tchain j {\n\t\tmeta l4proto tcp dnat to 192.0.2.1:6379"},
		{name: "dnat-map", nat: `dnat ip to tcp dport map { 6380 : 192.0.2.1 . 6379 }`},
	}
	src := netip.MustParseAddr("198.51.100.7")
	host := netip.MustParseAddr(serverAddr[eval.IPv4])
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			top := newTopology(t, "natp-"+c.name)
			rules := filter + "table ip nat {\n\tchain pre {\n\t\ttype nat hook prerouting priority -100;\n\t\t" + c.nat + "\n\t}\n}\n"
			loadNft(t, top.server, rules)
			// Only 6379 listens: an answer on 6380 is the rewrite's.
			startListener(t, top.server, []uint16{6379})
			via := probe{src, host, 6380}
			got, _, rep := compareWithKernel(t, top, []uint16{6379}, []probe{via, {src, host, 6379}}, false)
			if got[via] != "accepted" {
				t.Fatalf("kernel: %v -> %v:6380 %s; the case no longer shows a rewrite to 6379", src, host, got[via])
			}
			if got[probe{src, host, 6379}] == "accepted" {
				t.Fatalf("kernel: %v reaches 6379 directly; the case needs INPUT to refuse it", src)
			}
			want := result.Unknown
			if c.decided {
				want = result.Critical
			}
			wantVerdict(t, rep, want)
		})
	}
}
