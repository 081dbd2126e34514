package firewall

import (
	"net/netip"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// The live check names the kernel rule, by handle and text, that accepts
// an untrusted network and the one that drops a trusted network, for an
// nft ruleset and for the same rules written with iptables-nft.
func TestNamespaceFindingNamesTheRule(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "nft", "iptables-nft", "iptables-nft-save")
	trusted := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	cases := []struct {
		name, chain string // chain as "nft -a list chain" takes it
		load        func(t *testing.T, ns string)
		prefix      string // how the finding names the chain
		acceptText  string // how the accepting rule is printed, when checked
	}{
		{"nft", "inet fwexplain input", func(t *testing.T, ns string) {
			loadNft(t, ns, `
table inet fwexplain {
	chain input {
		type filter hook input priority 0; policy drop;
		iif "lo" accept
		ip saddr 192.0.2.0/24 tcp dport 6379 drop
		ip saddr 203.0.113.0/24 tcp dport 6379 accept
	}
}`)
		}, "nft inet fwexplain input handle ", ""},
		{"iptables-nft", "ip filter INPUT", func(t *testing.T, ns string) {
			for _, args := range [][]string{
				{"-P", "INPUT", "DROP"},
				{"-A", "INPUT", "-i", "lo", "-j", "ACCEPT"},
				{"-A", "INPUT", "-s", "192.0.2.0/24", "-p", "tcp", "--dport", "6379", "-j", "DROP"},
				{"-A", "INPUT", "-s", "203.0.113.0/24", "-p", "tcp", "--dport", "6379", "-j", "ACCEPT"},
			} {
				cmd := exec.Command("ip", append([]string{"netns", "exec", ns, "iptables-nft"}, args...)...)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("iptables-nft %v: %v: %s", args, err, out)
				}
			}
		}, "nft ip filter INPUT handle ", ""},
		// xt matches are printed as iptables prints them, with no chain.
		{"iptables-nft multiport", "ip filter INPUT", func(t *testing.T, ns string) {
			for _, args := range [][]string{
				{"-P", "INPUT", "DROP"},
				{"-A", "INPUT", "-i", "lo", "-j", "ACCEPT"},
				{"-A", "INPUT", "-s", "192.0.2.0/24", "-p", "tcp", "-m", "multiport", "--dports", "6379,80", "-j", "DROP"},
				{"-A", "INPUT", "-s", "203.0.113.0/24", "-p", "tcp", "-m", "multiport", "--dports", "6379,80", "-j", "ACCEPT"},
			} {
				cmd := exec.Command("ip", append([]string{"netns", "exec", ns, "iptables-nft"}, args...)...)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("iptables-nft %v: %v: %s", args, err, out)
				}
			}
		}, "nft ip filter INPUT handle ", "meta l4proto tcp ip saddr 203.0.113.0/24 -m multiport --dports 6379,80 counter accept"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			top := newTopology(t, "explain")
			c.load(t, top.server)
			accept := ruleHandle(t, top.server, c.chain, "203.0.113.0/24")
			drop := ruleHandle(t, top.server, c.chain, "192.0.2.0/24")
			_, _, rep := liveReport(t, top.server, []uint16{6379})
			res := JudgeReport(rep, trusted)
			var crit, warn string
			for _, f := range res.Findings {
				switch {
				case f.State == result.Critical && strings.HasPrefix(f.Text, "tcp/6379 IPv4:"):
					crit = f.Text
				case f.State == result.Warning && strings.HasPrefix(f.Text, "tcp/6379 IPv4: trusted"):
					warn = f.Text
				}
			}
			// The rule as text: its source match and its verdict, after
			// the handle.
			wantAcc := regexp.MustCompile(`^tcp/6379 IPv4: accepted from 203\.0\.113\.0/24; accepted by ` +
				regexp.QuoteMeta(c.prefix+accept) + `: .*203\.0\.113\.0/24.*(accept|ACCEPT)$`)
			if !wantAcc.MatchString(crit) {
				t.Errorf("untrusted finding %q does not match %v", crit, wantAcc)
			}
			if c.acceptText != "" && !strings.HasSuffix(crit, ": "+c.acceptText) {
				t.Errorf("untrusted finding %q does not print the rule as %q", crit, c.acceptText)
			}
			wantDrop := regexp.MustCompile(`^tcp/6379 IPv4: trusted 192\.0\.2\.0/24 not accepted; dropped by ` +
				regexp.QuoteMeta(c.prefix+drop) + `: .*192\.0\.2\.0/24.*(drop|DROP)$`)
			if !wantDrop.MatchString(warn) {
				t.Errorf("trusted finding %q does not match %v", warn, wantDrop)
			}
			for _, f := range res.Findings {
				t.Logf("%v: %s", f.State, f.Text)
			}
		})
	}
}

// ruleHandle is the handle nft gives the rule of chain that mentions
// addr.
func ruleHandle(t *testing.T, ns, chain, addr string) string {
	t.Helper()
	args := append([]string{"netns", "exec", ns, "nft", "-a", "list", "chain"}, strings.Fields(chain)...)
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("nft list chain %s: %v: %s", chain, err, out)
	}
	re := regexp.MustCompile(regexp.QuoteMeta(addr) + `.*# handle (\d+)`)
	m := re.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no rule on %s in:\n%s", addr, out)
	}
	return m[1]
}

// An iptables-legacy rule, which has no handle, is named by its line in
// iptables-legacy-save and given as the iptables line to change.
func TestNamespaceFindingNamesLegacyLine(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "iptables-legacy", "iptables-legacy-save")
	top := newTopology(t, "explainlegacy")
	for _, args := range [][]string{
		{"-P", "INPUT", "DROP"},
		{"-A", "INPUT", "-i", "lo", "-j", "ACCEPT"},
		{"-A", "INPUT", "-s", "192.0.2.0/24", "-p", "tcp", "--dport", "6379", "-j", "DROP"},
		{"-A", "INPUT", "-s", "203.0.113.0/24", "-p", "tcp", "--dport", "6379", "-j", "ACCEPT"},
	} {
		cmd := exec.Command("ip", append([]string{"netns", "exec", top.server, "iptables-legacy"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("iptables-legacy %v: %v: %s", args, err, out)
		}
	}
	_, _, rep := liveReport(t, top.server, []uint16{6379})
	res := JudgeReport(rep, []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")})
	want := map[string]bool{
		`^tcp/6379 IPv4: accepted from 203\.0\.113\.0/24; accepted by iptables-legacy-save line \d+: -t filter -A INPUT -s 203\.0\.113\.0/24 -p tcp -m tcp --dport 6379 -j ACCEPT$`: false,
		`^tcp/6379 IPv4: trusted 192\.0\.2\.0/24 not accepted; dropped by iptables-legacy-save line \d+: -t filter -A INPUT -s 192\.0\.2\.0/24 -p tcp -m tcp --dport 6379 -j DROP$`: false,
	}
	for _, f := range res.Findings {
		t.Logf("%v: %s", f.State, f.Text)
		for re := range want {
			if regexp.MustCompile(re).MatchString(f.Text) {
				want[re] = true
			}
		}
	}
	for re, ok := range want {
		if !ok {
			t.Errorf("no finding matches %s", re)
		}
	}
}

// The live check names, after a rule in a user chain, the jumps and
// gotos (by handle, as "nft -a list chain" gives them) that lead to it
// from the base chain: through a verdict map's jump and goto for nft,
// through -j and -g for iptables-nft. The loopback WARNING names the rule
// that drops the host's own traffic, with its path.
func TestNamespaceFindingNamesPathToTheRule(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "nft", "iptables-nft", "iptables-nft-save")
	trusted := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	// A rule of the ruleset: the chain ("nft -a list chain" takes it),
	// a text only that rule of the chain holds, and how the rule ends.
	type ref struct{ chain, text, verdict string }
	cases := []struct {
		name string
		load func(t *testing.T, ns string)
		// The rules that accept the untrusted network, drop the trusted
		// one and drop loopback, each with the jumps to it.
		accept, drop, loop []ref
	}{
		{"nft", func(t *testing.T, ns string) {
			loadNft(t, ns, `
table ip fwpath {
	chain input {
		type filter hook input priority 0; policy drop;
		iif "lo" jump lochain
		tcp dport 6379 jump svc
	}
	chain lochain {
		ip saddr 127.0.0.0/8 drop
	}
	chain svc {
		ip saddr vmap { 203.0.113.0/24 : jump inner, 192.0.2.0/24 : goto deny }
	}
	chain inner {
		ip saddr 203.0.113.0/24 accept
	}
	chain deny {
		ip saddr 192.0.2.0/24 drop
	}
}`)
		},
			[]ref{{"ip fwpath input", "jump svc", "jump svc"}, {"ip fwpath svc", "vmap", "}"}, {"ip fwpath inner", "203.0.113.0/24", "accept"}},
			[]ref{{"ip fwpath input", "jump svc", "jump svc"}, {"ip fwpath svc", "vmap", "}"}, {"ip fwpath deny", "192.0.2.0/24", "drop"}},
			[]ref{{"ip fwpath input", "jump lochain", "jump lochain"}, {"ip fwpath lochain", "127.0.0.0/8", "drop"}},
		},
		{"iptables-nft", func(t *testing.T, ns string) {
			for _, args := range [][]string{
				{"-N", "SVC"}, {"-N", "INNER"}, {"-N", "DENY"}, {"-N", "LOCAL"},
				{"-P", "INPUT", "DROP"},
				{"-A", "INPUT", "-i", "lo", "-j", "LOCAL"},
				{"-A", "INPUT", "-p", "tcp", "--dport", "6379", "-j", "SVC"},
				{"-A", "LOCAL", "-s", "127.0.0.0/8", "-j", "DROP"},
				{"-A", "SVC", "-s", "203.0.113.0/24", "-j", "INNER"},
				{"-A", "SVC", "-s", "192.0.2.0/24", "-g", "DENY"},
				{"-A", "INNER", "-s", "203.0.113.0/24", "-j", "ACCEPT"},
				{"-A", "DENY", "-s", "192.0.2.0/24", "-j", "DROP"},
			} {
				cmd := exec.Command("ip", append([]string{"netns", "exec", ns, "iptables-nft"}, args...)...)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("iptables-nft %v: %v: %s", args, err, out)
				}
			}
		},
			[]ref{{"ip filter INPUT", "jump SVC", "jump SVC"}, {"ip filter SVC", "203.0.113.0/24", "jump INNER"}, {"ip filter INNER", "203.0.113.0/24", "accept"}},
			[]ref{{"ip filter INPUT", "jump SVC", "jump SVC"}, {"ip filter SVC", "192.0.2.0/24", "goto DENY"}, {"ip filter DENY", "192.0.2.0/24", "drop"}},
			[]ref{{"ip filter INPUT", "jump LOCAL", "jump LOCAL"}, {"ip filter LOCAL", "127.0.0.0/8", "drop"}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			top := newTopology(t, "explainpath")
			c.load(t, top.server)
			// named is how a finding names the rule: "nft FAMILY TABLE
			// CHAIN handle N: TEXT", its text ending as the rule does.
			named := func(r ref) string {
				return regexp.QuoteMeta("nft "+r.chain+" handle "+ruleHandle(t, top.server, r.chain, r.text)+": ") +
					`[^()]*` + regexp.QuoteMeta(r.verdict)
			}
			// path is "RULE (reached from HOP → HOP)".
			path := func(rs []ref) string {
				hops := make([]string, 0, len(rs)-1)
				for _, r := range rs[:len(rs)-1] {
					hops = append(hops, named(r))
				}
				return named(rs[len(rs)-1]) + ` \(reached from ` + strings.Join(hops, " → ") + `\)$`
			}
			want := []*regexp.Regexp{
				regexp.MustCompile(`^tcp/6379 IPv4: accepted from 203\.0\.113\.0/24; accepted by ` + path(c.accept)),
				regexp.MustCompile(`^tcp/6379 IPv4: trusted 192\.0\.2\.0/24 not accepted; dropped by ` + path(c.drop)),
				regexp.MustCompile(`^tcp/6379 IPv4: loopback \(127\.0\.0\.1\) not accepted; dropped by ` + path(c.loop)),
			}
			_, _, rep := liveReport(t, top.server, []uint16{6379})
			res := JudgeReport(rep, trusted)
			for _, f := range res.Findings {
				t.Logf("%v: %s", f.State, f.Text)
			}
			for _, re := range want {
				found := false
				for _, f := range res.Findings {
					found = found || (f.State != result.OK && re.MatchString(f.Text))
				}
				if !found {
					t.Errorf("no finding matches %v", re)
				}
			}
		})
	}
}
