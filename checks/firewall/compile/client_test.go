package compile

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/ipset"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
)

// oneChain is an nft ruleset with one input chain of the given family,
// policy and rules (each a JSON expression list), as nft -j prints it.
func oneChain(fam, policy string, rules ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"nftables": [{"table": {"family": %q, "name": "t"}},
	{"chain": {"family": %q, "table": "t", "name": "in", "type": "filter", "hook": "input", "prio": 0, "policy": %q}}`, fam, fam, policy)
	for _, r := range rules {
		fmt.Fprintf(&b, `,
	{"rule": {"family": %q, "table": "t", "chain": "in", "expr": %s}}`, fam, r)
	}
	b.WriteString("]}")
	return b.String()
}

const (
	dport6379 = `{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 6379}}`
)

// The first SYN's flags, and the IPv6 header chain before TCP, are the
// client's: a rule that drops one shape of SYN lets the others in.
func TestClientShapedFirstSYN(t *testing.T) {
	all := func(fam eval.Family) *netipx.IPSet {
		var b netipx.IPSetBuilder
		b.AddPrefix(fam.All())
		b.RemovePrefix(fam.Loopback())
		s, _ := b.IPSet()
		return s
	}
	none := &netipx.IPSet{}
	cases := []struct {
		name   string
		nft    string
		fam    eval.Family
		want   *netipx.IPSet
		choice string
	}{
		{"flags == syn drop: an ECN SYN gets in",
			oneChain("ip", "accept", `[`+dport6379+`, {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "flags"}}, "right": "syn"}}, {"drop": null}]`),
			eval.IPv4, all(eval.IPv4), "with first-SYN TCP flags that nft ip t in handle 0: tcp dport 6379 tcp flags syn drop does not match"},
		{"flags & (syn|ack|ecn) == syn drop: an ECN SYN gets in",
			oneChain("ip", "accept", `[`+dport6379+`, {"match": {"op": "==", "left": {"&": [{"payload": {"protocol": "tcp", "field": "flags"}}, ["syn", "ack", "ecn"]]}, "right": "syn"}}, {"drop": null}]`),
			eval.IPv4, all(eval.IPv4), "e.g. syn,ecn,cwr"},
		{"flags & (fin|syn|rst|ack) == syn drop: every first SYN",
			oneChain("ip", "accept", `[`+dport6379+`, {"match": {"op": "==", "left": {"&": [{"payload": {"protocol": "tcp", "field": "flags"}}, ["fin", "syn", "rst", "ack"]]}, "right": "syn"}}, {"drop": null}]`),
			eval.IPv4, none, ""},
		{"ip6 nexthdr != tcp accept: a destination options header gets in",
			oneChain("ip6", "drop", `[{"match": {"op": "!=", "left": {"payload": {"protocol": "ip6", "field": "nexthdr"}}, "right": "tcp"}}, {"accept": null}]`),
			eval.IPv6, all(eval.IPv6), "destination options"},
		{"meta l4proto != tcp accept: skips extension headers",
			oneChain("ip6", "drop", `[{"match": {"op": "!=", "left": {"meta": {"key": "l4proto"}}, "right": "tcp"}}, {"accept": null}]`),
			eval.IPv6, none, ""},
		{"ip6 nexthdr tcp drop in an accepting chain: an extension header gets in",
			oneChain("inet", "accept", `[{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "nexthdr"}}, "right": 6}}, {"drop": null}]`),
			eval.IPv6, all(eval.IPv6), "nft inet t in handle 0: ip6 nexthdr tcp drop does not match (e.g. a destination options header"},
		{"! flags (no bit set, iptables' --tcp-flags ALL NONE) drop: every first SYN has SYN",
			oneChain("ip", "drop", `[{"match": {"op": "!", "left": {"payload": {"protocol": "tcp", "field": "flags"}}, "right": ["fin", "syn", "rst", "psh", "ack", "urg"]}}, {"drop": null}]`,
				`[`+dport6379+`, {"accept": null}]`),
			eval.IPv4, all(eval.IPv4), ""},
		{"! flags syn accept: no first SYN lacks SYN",
			oneChain("ip", "drop", `[`+dport6379+`, {"match": {"op": "!", "left": {"payload": {"protocol": "tcp", "field": "flags"}}, "right": "syn"}}, {"accept": null}]`),
			eval.IPv4, none, ""},
		{"limit then drop: accepted under the limit",
			oneChain("inet", "drop", `[`+dport6379+`, {"limit": {"rate": 25, "burst": 50, "per": "second"}}, {"accept": null}]`),
			eval.IPv4, all(eval.IPv4), "while under the rate limit of nft inet t in handle 0"},
		{"limit over then drop: accepted over the limit",
			oneChain("inet", "accept", `[`+dport6379+`, {"limit": {"rate": 25, "burst": 50, "per": "second"}}, {"drop": null}]`),
			eval.IPv4, all(eval.IPv4), "while over the rate limit of nft inet t in handle 0"},
		{"meter with limit over then drop: accepted under the limit",
			oneChain("inet", "accept", `[`+dport6379+`, {"meter": {"key": {"payload": {"protocol": "ip", "field": "saddr"}}, "stmt": {"limit": {"rate": 5, "burst": 5, "per": "second", "inv": true}}, "size": 65535, "name": "m"}}, {"drop": null}]`),
			eval.IPv4, all(eval.IPv4), "while the update of @m fails"},
		{"add to a set with ct count over then drop: accepted under the count",
			oneChain("inet", "accept", `[`+dport6379+`, {"set": {"op": "add", "elem": {"payload": {"protocol": "ip", "field": "saddr"}}, "set": "@c", "stmt": [{"ct count": {"val": 5, "inv": true}}]}}, {"drop": null}]`),
			eval.IPv4, all(eval.IPv4), "while the update of @c fails"},
		{"delete from a set then drop: always dropped",
			oneChain("inet", "accept", `[`+dport6379+`, {"set": {"op": "delete", "elem": {"payload": {"protocol": "ip", "field": "saddr"}}, "set": "@c"}}, {"drop": null}]`),
			eval.IPv4, none, ""},
		{"meta hour window then drop: accepted outside the window",
			oneChain("inet", "accept", `[{"match": {"op": "==", "left": {"meta": {"key": "hour"}}, "right": {"range": ["08:00", "17:00"]}}}, `+dport6379+`, {"drop": null}]`),
			eval.IPv4, all(eval.IPv4), "at a time when meta hour"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs, _ := Build(Sources{NFT: parseText(t, c.nft, nftjson.Parse)})
			res := evaluate(t, rs, c.fam, 6379)
			if !res.Accepted.Equal(c.want) || !res.Undecided.Equal(none) {
				t.Errorf("accepted %v undecided %v (%v), want %v", res.Accepted.Prefixes(), res.Undecided.Prefixes(), res.Reasons, c.want.Prefixes())
			}
			if c.choice != "" && !strings.Contains(strings.Join(res.Choices, "\n"), c.choice) {
				t.Errorf("choices %q lack %q", res.Choices, c.choice)
			}
		})
	}
}

// iptables' ALL is FIN,SYN,RST,PSH,ACK,URG: --tcp-flags ALL SYN drops an
// ECN SYN too, but not a SYN with PSH or URG, which a listener answers.
func TestIptablesTCPFlagsAllSyn(t *testing.T) {
	save := `*filter
:INPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 6379 --tcp-flags ALL SYN -j DROP
-A INPUT -p tcp -m tcp --dport 6380 --syn -j DROP
COMMIT
`
	rs, _ := Standalone(eval.IPv4, parseText(t, save, iptsave.Parse), Dump[ipset.Dump]{})
	res := evaluate(t, rs, eval.IPv4, 6379)
	if res.Accepted.Equal(&netipx.IPSet{}) || !strings.Contains(strings.Join(res.Choices, ""), "(e.g. syn,psh)") {
		t.Errorf("6379: --tcp-flags ALL SYN judged to drop every first SYN (choices %q)", res.Choices)
	}
	ecn := eval.NewSYN(netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("192.0.2.1"), 40000, 6379, "eth0")
	ecn.Shaped, ecn.TCPFlags = true, eval.TCPSyn|eval.TCPEce|eval.TCPCwr
	if acc, und := eval.EvaluateAddr(rs, ecn); acc || und {
		t.Errorf("6379: an ECN SYN is dropped by ALL SYN; model accepted=%v undecided=%v", acc, und)
	}
	if res := evaluate(t, rs, eval.IPv4, 6380); !res.Accepted.Equal(&netipx.IPSet{}) || len(res.Reasons) > 0 {
		t.Errorf("6380: --syn drops every first SYN; accepted %v", res.Accepted.Prefixes())
	}
}

// OpenWrt's syn_flood chain: one rate limit unrelated to the Redis port
// must not make it undecided.
func TestOpenWrtSynFloodIsDecided(t *testing.T) {
	save := `*filter
:INPUT ACCEPT [0:0]
:syn_flood - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j syn_flood
-A INPUT -s 192.0.2.0/24 -p tcp -m tcp --dport 6379 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 6379 -j REJECT --reject-with tcp-reset
-A syn_flood -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m limit --limit 25/sec --limit-burst 50 -j RETURN
-A syn_flood -j DROP
COMMIT
`
	rs, _ := Standalone(eval.IPv4, parseText(t, save, iptsave.Parse), Dump[ipset.Dump]{})
	res := evaluate(t, rs, eval.IPv4, 6379)
	if !res.Accepted.Equal(prefixSet(t, "192.0.2.0/24")) || !res.Undecided.Equal(&netipx.IPSet{}) {
		t.Errorf("accepted %v undecided %v %q", res.Accepted.Prefixes(), res.Undecided.Prefixes(), res.Reasons)
	}
	if len(res.Choices) != 1 || !strings.Contains(res.Choices[0], "while under the rate limit of inline line 9") {
		t.Errorf("choices %q", res.Choices)
	}
}

// "ip6 nexthdr tcp tcp dport 6379 drop" lists as "tcp dport 6379 drop":
// the bytecode shows the Next Header comparison, which a destination
// options header escapes.
func TestHiddenNexthdrDependency(t *testing.T) {
	nft := `{"nftables": [{"table": {"family": "ip6", "name": "t"}},
	{"chain": {"family": "ip6", "table": "t", "name": "in", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}},
	{"rule": {"family": "ip6", "table": "t", "chain": "in", "handle": 2, "expr": [` + dport6379 + `, {"drop": null}]}}]}`
	netlink := `ip6 t in 2
  [ payload load 1b @ network header + 6 => reg 1 ]
  [ cmp eq reg 1 0x00000006 ]
  [ payload load 2b @ transport header + 2 => reg 1 ]
  [ cmp eq reg 1 0x0000eb18 ]
  [ immediate reg 0 drop ]
`
	s := Sources{NFT: parseText(t, nft, nftjson.Parse), NFTNetlink: parseText(t, netlink, nftjson.ParseNetlink)}
	rs, notes := Build(s)
	res := evaluate(t, rs, eval.IPv6, 6379)
	if res.Accepted.Equal(&netipx.IPSet{}) || !strings.Contains(strings.Join(res.Choices, ""), "destination options") {
		t.Errorf("hidden ip6 nexthdr: accepted %v choices %q", res.Accepted.Prefixes(), res.Choices)
	}
	if len(notes) > 0 {
		t.Errorf("notes %q", notes)
	}
	s.NFTNetlink = Dump[nftjson.Netlink]{}
	rs, notes = Build(s)
	if res := evaluate(t, rs, eval.IPv6, 6379); !res.Accepted.Equal(&netipx.IPSet{}) {
		t.Errorf("without bytecode: accepted %v", res.Accepted.Prefixes())
	}
	if !strings.Contains(strings.Join(notes, ""), "nft bytecode (nft --debug=netlink list ruleset) not given") {
		t.Errorf("notes %q", notes)
	}
}

// "meta nfproto ipv6 reject" in an inet table lists as a bare
// {"reject": {"type": "icmpv6", ...}}: IPv4 is not rejected by it.
func TestRejectTypeImpliesFamily(t *testing.T) {
	nft := oneChain("inet", "drop", `[{"reject": {"type": "icmpv6", "expr": "port-unreachable"}}]`, `[{"accept": null}]`)
	rs, _ := Build(Sources{NFT: parseText(t, nft, nftjson.Parse)})
	if res := evaluate(t, rs, eval.IPv4, 6379); res.Accepted.Equal(&netipx.IPSet{}) {
		t.Errorf("IPv4 taken as rejected by reject with icmpv6")
	}
	if res := evaluate(t, rs, eval.IPv6, 6379); !res.Accepted.Equal(&netipx.IPSet{}) {
		t.Errorf("IPv6 accepted: %v", res.Accepted.Prefixes())
	}
}
