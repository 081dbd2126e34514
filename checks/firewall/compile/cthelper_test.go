package compile

import (
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/ipset"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nfnl"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
)

// A helper given to the connection does not make helper matches hold for
// it: they read the helper of the connection's master, and a client's own
// connection has none (TestNamespaceCtHelper shows the kernel agreeing).

func TestIptablesHelperAfterCTHelper(t *testing.T) {
	save := `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p tcp -m tcp --dport 6379 -j CT --helper ftp
COMMIT
*filter
:INPUT DROP [0:0]
-A INPUT -m helper --helper ftp -j ACCEPT
-A INPUT -s 198.51.100.0/24 -m helper ! --helper ftp -j DROP
-A INPUT -s 198.51.100.0/24 -j ACCEPT
-A INPUT -s 203.0.113.0/24 -j ACCEPT
COMMIT
`
	rs, _ := Standalone(eval.IPv4, parseText(t, save, iptsave.Parse), Dump[ipset.Dump]{})
	res := evaluate(t, rs, eval.IPv4, 6379)
	if !res.Accepted.Equal(prefixSet(t, "203.0.113.0/24")) || len(res.Reasons) > 0 {
		t.Errorf("accepted %v, want 203.0.113.0/24; reasons %q", res.Accepted.Prefixes(), res.Reasons)
	}
}

// nft ends a rule whose "ct helper" it cannot load, for == and != alike.
func TestNftCtHelperNeverLoads(t *testing.T) {
	nft := `{"nftables":[{"table":{"family":"inet","name":"f","handle":1}},
{"ct helper":{"family":"inet","name":"ftp-standard","table":"f","handle":3,"type":"ftp","protocol":"tcp","l3proto":"inet"}},
{"chain":{"family":"inet","table":"f","name":"pre","handle":1,"type":"filter","hook":"prerouting","prio":0,"policy":"accept"}},
{"chain":{"family":"inet","table":"f","name":"in","handle":2,"type":"filter","hook":"input","prio":0,"policy":"drop"}},
{"rule":{"family":"inet","table":"f","chain":"pre","handle":4,"expr":[
 {"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":6379}},{"ct helper":"ftp-standard"}]}},
{"rule":{"family":"inet","table":"f","chain":"in","handle":8,"expr":[
 {"match":{"op":"==","left":{"ct":{"key":"helper"}},"right":"ftp"}},{"accept":null}]}},
{"rule":{"family":"inet","table":"f","chain":"in","handle":9,"expr":[
 {"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":{"prefix":{"addr":"198.51.100.0","len":24}}}},
 {"match":{"op":"!=","left":{"ct":{"key":"helper"}},"right":"ftp"}},{"drop":null}]}},
{"rule":{"family":"inet","table":"f","chain":"in","handle":10,"expr":[
 {"match":{"op":"==","left":{"ct":{"key":"helper"}},"right":{"set":["sip","ftp"]}}},{"accept":null}]}},
{"rule":{"family":"inet","table":"f","chain":"in","handle":12,"expr":[
 {"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":{"set":[{"prefix":{"addr":"198.51.100.0","len":24}},{"prefix":{"addr":"203.0.113.0","len":24}}]}}},
 {"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":6379}},{"accept":null}]}}]}`
	rs, _ := Build(Sources{NFT: parseText(t, nft, nftjson.Parse)})
	res := evaluate(t, rs, eval.IPv4, 6379)
	if !res.Accepted.Equal(prefixSet(t, "198.51.100.0/24", "203.0.113.0/24")) || len(res.Reasons) > 0 {
		t.Errorf("accepted %v, want 198.51.100.0/24 203.0.113.0/24; reasons %q", res.Accepted.Prefixes(), res.Reasons)
	}
}

// The same read back from the kernel's bytecode: "ct load helper" and a
// 16-byte NUL-padded comparison.
func TestBytecodeCtHelperNeverLoads(t *testing.T) {
	name := func(s string) []byte { b := make([]byte, 16); copy(b, s); return b }
	helper := func(op uint32, s string) []nfnl.Expr {
		return []nfnl.Expr{&nfnl.Ct{Key: 6, DReg: nfnl.Reg1}, &nfnl.Cmp{Op: op, SReg: nfnl.Reg1, Data: name(s)}}
	}
	rs := bcChain(nfnl.FamilyIPv4, 0,
		cat(helper(nfnl.CmpEq, "ftp"), []nfnl.Expr{verdict(nfnl.VerdictAccept)}),
		cat(saddr4("198.51.100.0/24"), helper(nfnl.CmpNeq, "ftp"), []nfnl.Expr{verdict(nfnl.VerdictDrop)}),
		cat(saddr4("198.51.100.0/24"), []nfnl.Expr{verdict(nfnl.VerdictAccept)}))
	res := evaluate(t, buildBytecode(t, rs), eval.IPv4, 6379)
	if !res.Accepted.Equal(prefixSet(t, "198.51.100.0/24")) || len(res.Reasons) > 0 {
		t.Errorf("accepted %v, want 198.51.100.0/24; reasons %q", res.Accepted.Prefixes(), res.Reasons)
	}
}
