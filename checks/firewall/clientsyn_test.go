package firewall

import (
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/compile"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/ipset"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// The two false OKs, offline: a rule dropping the bare SYN in an
// accepting chain, and "ip6 nexthdr != tcp accept" in a dropping one.
// Both are CRITICAL, and the finding says which SYN gets in.
func TestJudgeClientShapedSYN(t *testing.T) {
	f, err := os.Open(fwdata(t, "client-shaped-syn.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	nft, err := nftjson.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := Build(&Facts{Sources: compile.Sources{NFT: compile.Dump[nftjson.Ruleset]{Value: nft, Name: "nft"}}})
	res := JudgeReport(Evaluate(rs, []uint16{6379}), nil)
	if res.State != result.Critical {
		t.Errorf("state %v", res.State)
	}
	crit := strings.Join(findings(res, result.Critical), "\n")
	for _, want := range []string{
		"tcp/6379 IPv4: accepted from 0.0.0.0/0 (gets in with first-SYN TCP flags that nft ip t in handle 2: tcp dport 6379 tcp flags syn drop does not match (e.g. syn,ecn,cwr))",
		"tcp/6379 IPv6: accepted from ::/0 (gets in with an IPv6 header chain that nft ip6 t6 in handle 2: ip6 nexthdr != tcp accept matches (e.g. a destination options header before TCP))",
	} {
		if !strings.Contains(crit, want) {
			t.Errorf("no finding %q in\n%s", want, crit)
		}
	}
}

// OpenWrt's syn_flood chain rate-limits every new connection; a port
// open to the trusted network only is OK, not UNKNOWN.
func TestJudgeOpenWrtSynFlood(t *testing.T) {
	save := `*filter
:INPUT DROP [0:0]
:syn_flood - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j syn_flood
-A INPUT -s 192.0.2.0/24 -p tcp -m tcp --dport 6379 -j ACCEPT
-A syn_flood -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m limit --limit 25/sec --limit-burst 50 -j RETURN
-A syn_flood -j DROP
COMMIT
`
	d, err := iptsave.Parse(strings.NewReader(save))
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := compile.Standalone(eval.IPv4, compile.Dump[iptsave.Dump]{Value: d, Name: "iptables-save"}, compile.Dump[ipset.Dump]{})
	res := JudgeReport(Evaluate(rs, []uint16{6379}), []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")})
	for _, s := range []result.State{result.Unknown, result.Critical} {
		for _, f := range findings(res, s) {
			if strings.Contains(f, "IPv4") {
				t.Errorf("%v: %s", s, f)
			}
		}
	}
	if ok := strings.Join(findings(res, result.OK), "\n"); !strings.Contains(ok, "tcp/6379 IPv4: accepted only from trusted 192.0.2.0/24") {
		t.Errorf("OK findings: %s", ok)
	}
}
