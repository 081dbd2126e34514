package firewall

import (
	"net/netip"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// realWorldCase is a construct common rulesets use, loaded into a
// namespace: the check must judge it (no UNKNOWN) with the accepted sets
// given, and the kernel must agree with every real connection attempt.
type realWorldCase struct {
	name, ruleset string
	// accepted spells the sources that may reach tcp/6379, per family,
	// as want.txt does.
	accepted map[eval.Family]string
}

// checkRealWorld loads c's ruleset, reads it back as the live check does
// and compares the report with c.accepted and with the kernel's answers
// to connection attempts from every client address: a source the kernel
// lets in must be in the accepted set, and a packet the model decides
// alone (no choice left to the client) must get the kernel's answer.
func checkRealWorld(t *testing.T, c realWorldCase) {
	top := newTopology(t, c.name)
	loadNft(t, top.server, c.ruleset)
	const port = 6379
	startListener(t, top.server, []uint16{port})
	_, rs, rep := liveReport(t, top.server, []uint16{port})
	results := map[eval.Family]*eval.Result{}
	for _, pr := range rep.Ports {
		if why := unknownReason(pr); why != "" {
			t.Errorf("%v is UNKNOWN: %s", pr.Query, why)
		}
		results[pr.Query.Family] = pr.Result
	}
	for fam, want := range c.accepted {
		res := results[fam]
		if res == nil {
			t.Fatalf("no report for %v", fam)
		}
		if got := wantSet(res.Accepted, fam); got != want {
			t.Errorf("%v accepted %s, want %s", fam, got, want)
		}
	}
	var probes []probe
	for _, a := range clientAddrs {
		src := netip.MustParseAddr(a)
		probes = append(probes, probe{src, netip.MustParseAddr(serverAddr[eval.FamilyOf(src)]), port})
	}
	for p, outcome := range dial(t, top.client, probes) {
		res := results[eval.FamilyOf(p.src)]
		kernel := outcome == "accepted"
		if kernel && !res.Accepted.Contains(p.src) {
			t.Errorf("%v: the kernel accepts, the report leaves it out of the accepted set", p.src)
		}
		accept, chosen := eval.EvaluateAddr(rs, eval.NewSYN(p.src, p.dst, 40000, p.port, "eth0"))
		if !chosen && accept != kernel {
			t.Errorf("%v: model accepts=%v, connection %s", p.src, accept, outcome)
		}
	}
}

// TestNamespaceRealWorld runs the constructs of real rulesets the check
// once left UNKNOWN or misjudged.
func TestNamespaceRealWorld(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "nft", "iptables-nft", "ip6tables-nft", "iptables-legacy", "ip6tables-legacy", "ipset")
	for _, c := range []realWorldCase{{
		// A raw-table "notrack" (read back from the bytecode as its own
		// expression): the SYN is untracked, so "ct state new" misses it
		// and only "ct state untracked" lets it in.
		name: "notrack",
		ruleset: `
table inet raw {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		tcp dport 6379 notrack
	}
}
table inet filter {
	chain in {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		ct state invalid drop
		iif lo accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
		ct state untracked ip saddr 198.51.100.0/24 accept
		ct state untracked ip6 saddr 2001:db8:1::/48 accept
		ip saddr 192.0.2.0/24 ct state new accept
		ip6 saddr 2001:db8::/64 ct state new accept
	}
}`,
		accepted: map[eval.Family]string{eval.IPv4: "198.51.100.0/24", eval.IPv6: "2001:db8:1::/48"},
	}, {
		// The nftables wiki's per-source meter: "add @s { ip saddr ct
		// count over N } drop" drops only past the bound, and "update
		// @s { ... limit rate over ... } drop" only over the rate. A
		// client under them is not dropped, and the next rule accepts
		// it.
		name: "dynset",
		ruleset: `
table inet filter {
	set conn4 {
		type ipv4_addr
		size 65535
		flags dynamic
	}
	set rate6 {
		type ipv6_addr
		size 65535
		flags dynamic,timeout
		timeout 1m
	}
	chain in {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif lo accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
		tcp dport 6379 ct state new add @conn4 { ip saddr ct count over 5 } drop
		tcp dport 6379 ct state new update @rate6 { ip6 saddr limit rate over 1/minute burst 5 packets } drop
		tcp dport 6379 accept
	}
}`,
		accepted: map[eval.Family]string{eval.IPv4: "all", eval.IPv6: "all"},
	}} {
		t.Run(c.name, func(t *testing.T) { checkRealWorld(t, c) })
	}
}
