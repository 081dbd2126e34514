package firewall

import (
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// realWorldCase is a construct common rulesets use, loaded into a
// namespace: the check must judge it (no UNKNOWN) with the accepted sets
// given, and the kernel must agree with every real connection attempt.
type realWorldCase struct {
	name, ruleset string
	// commands run in the namespace after the ruleset is loaded, one
	// per line (iptables and ip6tables).
	commands string
	// accepted spells the sources that may reach tcp/6379, per family,
	// as want.txt does.
	accepted map[eval.Family]string
	// exact: no match is left to the client (limits, time windows), so
	// the model's answer for each packet is the kernel's.
	exact bool
	// network changes the topology before the ruleset is loaded.
	network func(t *testing.T, top topology)
	// reach lists clients the kernel must let in: the case's premise,
	// so that it cannot pass with a topology that tests nothing.
	reach []string
	// premise, when set, runs once the rules are loaded and before the
	// listener starts, to show that the construct under test is in effect.
	premise func(t *testing.T, top topology)
}

// checkRealWorld loads c's ruleset, reads it back as the live check does
// and compares the report with c.accepted and with the kernel's answers
// to connection attempts from every client address: a source the kernel
// lets in must be in the accepted set and accepted by the model, and when
// the case is exact the model must refuse what the kernel refuses.
func checkRealWorld(t *testing.T, c realWorldCase) {
	top := newTopology(t, c.name)
	if c.network != nil {
		c.network(t, top)
	}
	if c.ruleset != "" {
		loadNft(t, top.server, c.ruleset)
	}
	for _, line := range strings.Split(strings.TrimSpace(c.commands), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		args := append([]string{"netns", "exec", top.server}, strings.Fields(line)...)
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", line, err, out)
		}
	}
	if c.premise != nil {
		c.premise(t, top)
	}
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
	outcomes := dial(t, top.client, probes)
	for _, a := range c.reach {
		src := netip.MustParseAddr(a)
		p := probe{src, netip.MustParseAddr(serverAddr[eval.FamilyOf(src)]), port}
		if outcomes[p] != "accepted" {
			t.Errorf("%v: connection %s; the case needs the kernel to let it in", src, outcomes[p])
		}
	}
	for p, outcome := range outcomes {
		res := results[eval.FamilyOf(p.src)]
		kernel := outcome == "accepted"
		if kernel && !res.Accepted.Contains(p.src) {
			t.Errorf("%v: the kernel accepts, the report leaves it out of the accepted set", p.src)
		}
		accept, undecided := eval.EvaluateAddr(rs, eval.NewSYN(p.src, p.dst, 40000, p.port, "eth0"))
		if undecided || (kernel && !accept) || (c.exact && accept != kernel) {
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
		exact:    true,
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
	}, {
		// firewalld's iptables backend and many hand-written rulesets
		// drop what fails the reverse-path check in the raw table; with
		// iptables-nft the match stays an xt match in the bytecode. A
		// client routed back the way it came passes it.
		name: "rpfilter",
		commands: `
iptables-nft -t raw -A PREROUTING -m rpfilter --invert -j DROP
ip6tables-nft -t raw -A PREROUTING -m rpfilter --invert -j DROP
iptables-nft -t mangle -A PREROUTING -m rpfilter --loose --validmark --accept-local -j RETURN
iptables-nft -P INPUT DROP
iptables-nft -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
iptables-nft -A INPUT -s 192.0.2.0/24 -p tcp --dport 6379 -j ACCEPT
ip6tables-nft -P INPUT DROP
ip6tables-nft -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ip6tables-nft -A INPUT -p ipv6-icmp -j ACCEPT
ip6tables-nft -A INPUT -s 2001:db8::/64 -p tcp --dport 6379 -j ACCEPT`,
		accepted: map[eval.Family]string{eval.IPv4: "192.0.2.0/24", eval.IPv6: "2001:db8::/64"},
		exact:    true,
	}, {
		// A strict reverse-path match passes or fails by the way back to
		// the client. Here 203.0.113.0/24 and 2001:db8:ffff::/48 send by
		// eth0 and are answered by eth1: the check fails for them and
		// holds for everyone else,
		// so "-m rpfilter -j DROP" (the --invert forgotten) and "fib
		// saddr . iif oif exists drop" drop the others and let it in.
		name:    "rpasym",
		network: asymmetricRoute,
		ruleset: `
table inet filter {
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		tcp dport 6379 fib saddr . iif oif exists drop
	}
}`,
		commands: `iptables-nft -t raw -A PREROUTING -p tcp --dport 6379 -m rpfilter -j DROP`,
		accepted: map[eval.Family]string{eval.IPv4: "all", eval.IPv6: "all"},
		reach:    []string{"203.0.113.9", "2001:db8:ffff::9"},
	}, clockCase(time.Now())} {
		t.Run(c.name, func(t *testing.T) { checkRealWorld(t, c) })
	}
}

// asymmetricRoute adds eth1 and routes the server's replies to
// 203.0.113.0/24 and 2001:db8:ffff::/48 through it while those clients
// still send by eth0.
func asymmetricRoute(t *testing.T, top topology) {
	t.Helper()
	secondLink(t, top)
	answerByEth1(t, top, "203.0.113.0/24", "2001:db8:ffff::/48")
}

// clockCase builds time windows around now: "meta hour" and "meta day"
// matches hold at the times the client picks, so a window that holds now
// and one that does not both leave their sources able to connect at some
// moment. The kernel's answer now is one of the two.
func clockCase(now time.Time) realWorldCase {
	hour := func(d time.Duration) string { return now.Add(d).Format("15:04") }
	day := func(d int) string { return now.AddDate(0, 0, d).Weekday().String() }
	around := fmt.Sprintf("{ %s, %s, %s }", day(-1), day(0), day(1))
	return realWorldCase{
		name: "clock",
		ruleset: fmt.Sprintf(`
table inet filter {
	chain in {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif lo accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
		meta hour "%s"-"%s" ip saddr 198.51.100.0/24 tcp dport 6379 accept
		meta hour "%s"-"%s" ip saddr 203.0.113.0/24 tcp dport 6379 accept
		meta day != %s ip saddr 192.0.2.0/24 drop
		ip saddr 192.0.2.0/24 tcp dport 6379 accept
		meta day %s ip6 saddr 2001:db8::/64 drop
		ip6 saddr 2001:db8::/48 tcp dport 6379 accept
	}
}`, hour(-2*time.Hour), hour(2*time.Hour), hour(4*time.Hour), hour(8*time.Hour), around, around),
		accepted: map[eval.Family]string{eval.IPv4: "192.0.2.0/24 198.51.100.0/24 203.0.113.0/24", eval.IPv6: "2001:db8::/48"},
	}
}
