package compile

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/ipset"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

func parseText[T any](t *testing.T, text string, parse func(io.Reader) (*T, error)) Dump[T] {
	t.Helper()
	v, err := parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return Dump[T]{Value: v, Name: "inline"}
}

// sources loads a captured scenario with only the nf_tables side.
func sources(t *testing.T, name string) Sources {
	t.Helper()
	dir := testenv.Testdata(t, "firewall", "scenarios", name)
	var s Sources
	s.NFT = readDump(t, filepath.Join(dir, "nft.json"), nftjson.Parse)
	s.IptNFT = readDump(t, filepath.Join(dir, "iptables-nft.save"), iptsave.Parse)
	s.Ip6tNFT = readDump(t, filepath.Join(dir, "ip6tables-nft.save"), iptsave.Parse)
	s.IPSet = readDump(t, filepath.Join(dir, "ipset.save"), ipset.Parse)
	return s
}

func readDump[T any](t *testing.T, path string, parse func(io.Reader) (*T, error)) Dump[T] {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return Dump[T]{Value: v, Name: filepath.Base(path)}
}

func evaluate(t *testing.T, rs *eval.Ruleset, fam eval.Family, port uint16) *eval.Result {
	t.Helper()
	res, err := eval.Evaluate(rs, eval.Query{Family: fam, Port: port}, eval.DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func prefixSet(t *testing.T, ps ...string) *netipx.IPSet {
	t.Helper()
	var b netipx.IPSetBuilder
	for _, p := range ps {
		b.AddPrefix(netip.MustParsePrefix(p))
	}
	s, _ := b.IPSet()
	return s
}

func hasReason(res *eval.Result, sub string) bool {
	for _, r := range res.Reasons {
		if strings.Contains(r, sub) {
			return true
		}
	}
	return false
}

func TestMergeRecoversXtParameters(t *testing.T) {
	rs, _ := Build(sources(t, "ipt-nft-allowlist"))
	res := evaluate(t, rs, eval.IPv4, 16379)
	// -m set and -m multiport are xt expressions in nft's view.
	if !res.Accepted.Equal(prefixSet(t, "198.51.100.0/25")) || len(res.Reasons) != 0 {
		t.Fatalf("accepted %v undecided %v reasons %v", res.Accepted.Prefixes(), res.Undecided.Prefixes(), res.Reasons)
	}
}

func TestMissingSaveMakesXtUnknown(t *testing.T) {
	s := sources(t, "ipt-nft-allowlist")
	s.IptNFT = Dump[iptsave.Dump]{Err: errors.New("exec: not found"), Name: "iptables-nft-save"}
	rs, _ := Build(s)
	res := evaluate(t, rs, eval.IPv4, 16379)
	if !res.Accepted.Equal(&netipx.IPSet{}) || res.Undecided.Equal(&netipx.IPSet{}) {
		t.Fatalf("accepted %v undecided %v", res.Accepted.Prefixes(), res.Undecided.Prefixes())
	}
	if !hasReason(res, "iptables-nft-save, which could not be read: exec: not found") {
		t.Errorf("reasons %v", res.Reasons)
	}
	// IPv6 has its own save and stays decided.
	if r6 := evaluate(t, rs, eval.IPv6, 6379); len(r6.Reasons) != 0 {
		t.Errorf("IPv6 reasons %v", r6.Reasons)
	}
}

func TestMisalignedSaveIsUnknown(t *testing.T) {
	s := sources(t, "ipt-nft-allowlist")
	tb := s.IptNFT.Value.Table("filter")
	tb.Rules = tb.Rules[1:] // one rule fewer in INPUT than nft shows
	rs, _ := Build(s)
	res := evaluate(t, rs, eval.IPv4, 6379)
	if !hasReason(res, "cannot align") {
		t.Errorf("reasons %v", res.Reasons)
	}
}

func TestDisagreeingSaveIsUnknown(t *testing.T) {
	s := sources(t, "ipt-nft-allowlist")
	for _, r := range s.IptNFT.Value.Table("filter").Rules {
		for _, m := range r.Matches {
			for i, o := range m.Options {
				if o.Name == "-s" && o.Values[0] == "192.0.2.0/25" {
					m.Options[i].Values = []string{"192.0.2.0/24"}
				}
			}
		}
	}
	rs, _ := Build(s)
	res := evaluate(t, rs, eval.IPv4, 6379)
	if !hasReason(res, "disagree") || !res.Accepted.Equal(&netipx.IPSet{}) {
		t.Errorf("accepted %v reasons %v", res.Accepted.Prefixes(), res.Reasons)
	}
}

// iptables-nft-save drops native expressions it does not know (here a
// set lookup and a verdict map); nft's view of a rule without xt
// expressions is used as is, so the loss does not matter.
func TestLossySaveOfNativeRules(t *testing.T) {
	nft := `{"nftables": [{"table": {"family": "ip", "name": "filter"}},
	{"chain": {"family": "ip", "table": "filter", "name": "INPUT", "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}},
	{"set": {"family": "ip", "name": "tr", "table": "filter", "type": "ipv4_addr", "elem": ["192.0.2.9"]}},
	{"rule": {"family": "ip", "table": "filter", "chain": "INPUT", "handle": 2, "expr": [
		{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@tr"}},
		{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 6379}}, {"accept": null}]}}]}`
	save := "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp -m tcp --dport 6379 -j ACCEPT\nCOMMIT\n"
	s := Sources{
		NFT:    parseText(t, nft, nftjson.Parse),
		IptNFT: parseText(t, save, iptsave.Parse),
	}
	rs, _ := Build(s)
	res := evaluate(t, rs, eval.IPv4, 6379)
	if !res.Accepted.Equal(prefixSet(t, "192.0.2.9/32")) {
		t.Fatalf("accepted %v", res.Accepted.Prefixes())
	}
}

func TestUnreadableSourcesAreUnknown(t *testing.T) {
	cases := map[string]Sources{
		"nft": {NFT: Dump[nftjson.Ruleset]{Err: errors.New("permission denied"), Name: "nft"}},
		"legacy": {LegacyTables4: []string{"filter"},
			Legacy4: Dump[iptsave.Dump]{Err: errors.New("exit status 1"), Name: "iptables-legacy-save"}},
		"legacy names": {LegacyNamesErr4: errors.New("EACCES")},
	}
	for name, s := range cases {
		rs, _ := Build(s)
		res := evaluate(t, rs, eval.IPv4, 6379)
		if !res.Accepted.Equal(&netipx.IPSet{}) || len(res.Reasons) != 1 {
			t.Errorf("%s: accepted %v reasons %v", name, res.Accepted.Prefixes(), res.Reasons)
		}
	}
}

// History matches (limit, hashlimit, recent) and matches on fields of
// the first SYN (TTL) are the client's to satisfy: the sources are
// accepted, and the result says on what. An unknown module stays unknown.
func TestHistoryAndClientMatchesAreChosen(t *testing.T) {
	save := `*filter
:INPUT DROP [0:0]
-A INPUT -s 192.0.2.0/24 -p tcp -m tcp --dport 6379 -m hashlimit --hashlimit-upto 5/sec --hashlimit-name h -j ACCEPT
-A INPUT -s 198.51.100.0/24 -p tcp -m tcp --dport 6379 -m ttl --ttl-gt 5 -j ACCEPT
-A INPUT -s 203.0.113.0/24 -p tcp -m tcp --dport 6379 -m weird --opt -j ACCEPT
-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT
COMMIT
`
	d := parseText(t, save, iptsave.Parse)
	rs, _ := Standalone(eval.IPv4, d, Dump[ipset.Dump]{})
	res := evaluate(t, rs, eval.IPv4, 6379)
	if !res.Accepted.Equal(prefixSet(t, "192.0.2.0/24", "198.51.100.0/24")) || !res.Undecided.Equal(prefixSet(t, "203.0.113.0/24")) {
		t.Errorf("accepted %v undecided %v", res.Accepted.Prefixes(), res.Undecided.Prefixes())
	}
	want := []string{"while under the per-source rate limit of inline line 3", "with a first SYN whose -m ttl field inline line 4 matches"}
	if strings.Join(res.Choices, "\n") != strings.Join(want, "\n") {
		t.Errorf("choices %q, want %q", res.Choices, want)
	}
	if !hasReason(res, "-m weird: option --opt not understood") || len(res.Reasons) != 1 {
		t.Errorf("reasons %q", res.Reasons)
	}
}

func TestNftExpressions(t *testing.T) {
	nft := `{"nftables": [{"table": {"family": "inet", "name": "t"}},
	{"chain": {"family": "inet", "table": "t", "name": "in", "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}},
	{"set": {"family": "inet", "name": "pairs", "table": "t", "type": ["ipv4_addr", "inet_service"], "flags": ["interval"],
		"elem": [{"concat": [{"prefix": {"addr": "192.0.2.0", "len": 24}}, 6379]}, {"concat": ["198.51.100.1", {"range": [16000, 17000]}]}]}},
	{"rule": {"family": "inet", "table": "t", "chain": "in", "expr": [
		{"match": {"op": "==", "left": {"concat": [{"payload": {"protocol": "ip", "field": "saddr"}}, {"payload": {"protocol": "tcp", "field": "dport"}}]}, "right": "@pairs"}},
		{"accept": null}]}},
	{"rule": {"family": "inet", "table": "t", "chain": "in", "expr": [
		{"match": {"op": "==", "left": {"fib": {"result": "type", "flags": ["daddr"]}}, "right": "local"}},
		{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": {"range": ["2001:db8::1", "2001:db8::5"]}}},
		{"match": {"op": "<", "left": {"payload": {"protocol": "th", "field": "dport"}}, "right": 10000}},
		{"accept": null}]}},
	{"rule": {"family": "inet", "table": "t", "chain": "in", "expr": [
		{"match": {"op": "==", "left": {"payload": {"protocol": "icmp", "field": "type"}}, "right": "echo-request"}}, {"accept": null}]}}]}`
	s := Sources{NFT: parseText(t, nft, nftjson.Parse)}
	rs, _ := Build(s)
	if r := evaluate(t, rs, eval.IPv4, 6379); !r.Accepted.Equal(prefixSet(t, "192.0.2.0/24")) || len(r.Reasons) > 0 {
		t.Errorf("6379: %v %v", r.Accepted.Prefixes(), r.Reasons)
	}
	if r := evaluate(t, rs, eval.IPv4, 16379); !r.Accepted.Equal(prefixSet(t, "198.51.100.1/32")) {
		t.Errorf("16379: %v", r.Accepted.Prefixes())
	}
	var b netipx.IPSetBuilder
	b.AddRange(netipx.MustParseIPRange("2001:db8::1-2001:db8::5"))
	want6, _ := b.IPSet()
	if r := evaluate(t, rs, eval.IPv6, 6379); !r.Accepted.Equal(want6) {
		t.Errorf("IPv6 6379: %v", r.Accepted.Prefixes())
	}
	if r := evaluate(t, rs, eval.IPv6, 16379); !r.Accepted.Equal(&netipx.IPSet{}) {
		t.Errorf("IPv6 16379 (th dport < 10000): %v", r.Accepted.Prefixes())
	}
}

// A strict reverse-path match depends on the way back to the client,
// which the model does not decide: "exists drop" must not be taken to
// drop everyone (a client routed back by another interface gets in), and
// "missing drop" must not be taken to drop anyone.
func TestNftReversePathIsChosen(t *testing.T) {
	const asym = "from a source routed back by another interface than its SYN came in on (nft inet t in handle 2: fib saddr . iif oif true drop)"
	for _, c := range []struct{ right, choice string }{{`true`, asym}, {`false`, ""}} {
		nft := `{"nftables": [{"table": {"family": "inet", "name": "t"}},
	{"chain": {"family": "inet", "table": "t", "name": "in", "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}},
	{"rule": {"family": "inet", "table": "t", "chain": "in", "handle": 2, "expr": [
		{"match": {"op": "==", "left": {"fib": {"result": "oif", "flags": ["saddr", "iif"]}}, "right": ` + c.right + `}},
		{"drop": null}]}}]}`
		rs, _ := Build(Sources{NFT: parseText(t, nft, nftjson.Parse)})
		r := evaluate(t, rs, eval.IPv4, 6379)
		if !r.Accepted.Contains(netip.MustParseAddr("203.0.113.9")) || len(r.Reasons) > 0 {
			t.Errorf("%s: accepted %v, reasons %q", c.right, r.Accepted.Prefixes(), r.Reasons)
		}
		if got := strings.Join(r.Choices, "\n"); got != c.choice {
			t.Errorf("%s: choices %q, want %q", c.right, got, c.choice)
		}
	}
}
