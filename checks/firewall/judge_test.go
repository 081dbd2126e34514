package firewall

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

func addrs(t *testing.T, items ...string) *netipx.IPSet {
	t.Helper()
	var b netipx.IPSetBuilder
	for _, s := range items {
		if s == "all4" {
			b.AddPrefix(eval.IPv4.All())
			b.RemovePrefix(eval.IPv4.Loopback())
			continue
		}
		if s == "all6" {
			b.AddPrefix(eval.IPv6.All())
			b.RemovePrefix(eval.IPv6.Loopback())
			continue
		}
		b.AddPrefix(netip.MustParsePrefix(s))
	}
	s, _ := b.IPSet()
	return s
}

func portReport(t *testing.T, fam eval.Family, accepted, undecided []string, loopback bool, reasons ...string) PortReport {
	res := &eval.Result{Query: eval.Query{Family: fam, Port: 6379}, Accepted: addrs(t, accepted...),
		Undecided: addrs(t, undecided...), LoopbackUndecided: addrs(t), Reasons: reasons, ContextCount: 1}
	res.LoopbackAccepted = addrs(t)
	if loopback {
		res.LoopbackAccepted = addrs(t, fam.Loopback().String())
	}
	return PortReport{Query: res.Query, Result: res}
}

func findings(r result.Result, s result.State) []string {
	var out []string
	for _, f := range r.Findings {
		if f.State == s {
			out = append(out, f.Text)
		}
	}
	return out
}

func TestJudge(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/64")}
	cases := []struct {
		name  string
		ports []PortReport
		state result.State
		text  string
	}{
		{"proven", []PortReport{portReport(t, eval.IPv4, []string{"192.0.2.0/24"}, nil, true)},
			result.OK, "tcp/6379 IPv4: accepted only from trusted 192.0.2.0/24"},
		{"IPv6 open", []PortReport{
			portReport(t, eval.IPv4, []string{"192.0.2.0/24"}, nil, true),
			portReport(t, eval.IPv6, []string{"all6"}, nil, true)},
			result.Critical, "tcp/6379 IPv6: accepted from ::/0: no rule restricts it"},
		{"all but trusted", []PortReport{portReport(t, eval.IPv6, []string{"2001:db8::/63"}, nil, true)},
			result.Critical, "tcp/6379 IPv6: accepted from 2001:db8:0:1::/64"},
		{"all but a hole", []PortReport{portReport(t, eval.IPv4, []string{"0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/4", "240.0.0.0/5", "248.0.0.0/6", "252.0.0.0/7", "254.0.0.0/8"}, nil, true)},
			result.Critical, "tcp/6379 IPv4: accepted from 0.0.0.0-192.0.1.255, 192.0.3.0-254.255.255.255"},
		{"all but trusted and a hole", []PortReport{portReport(t, eval.IPv4, []string{"0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/4", "240.0.0.0/5", "248.0.0.0/6", "252.0.0.0/7", "254.0.0.0/8", "255.0.0.0/9", "255.192.0.0/10"}, nil, true)},
			result.Critical, "tcp/6379 IPv4: accepted from 0.0.0.0/0 except trusted networks and 255.128.0.0/10"},
		{"extra range", []PortReport{portReport(t, eval.IPv4, []string{"192.0.2.0/24", "198.51.100.0/25"}, nil, true)},
			result.Critical, "tcp/6379 IPv4: accepted from 198.51.100.0/25"},
		{"trusted refused", []PortReport{portReport(t, eval.IPv4, []string{"192.0.2.0/25"}, nil, true)},
			result.Warning, "tcp/6379 IPv4: trusted 192.0.2.128/25 not accepted"},
		{"loopback refused", []PortReport{portReport(t, eval.IPv4, []string{"192.0.2.0/24"}, nil, false)},
			result.Warning, "tcp/6379 IPv4: loopback (127.0.0.1) not accepted"},
		{"undecided", []PortReport{portReport(t, eval.IPv4, []string{"192.0.2.0/24"}, []string{"203.0.113.0/24"}, true, "rate limit")},
			result.Unknown, "tcp/6379 IPv4: cannot tell whether 203.0.113.0/24 is accepted: rate limit"},
		{"critical outranks unknown", []PortReport{
			portReport(t, eval.IPv4, []string{"192.0.2.0/24", "198.51.100.7/32"}, []string{"203.0.113.0/24"}, true, "x")},
			result.Critical, "tcp/6379 IPv4: accepted from 198.51.100.7/32"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := JudgeReport(&Report{Ports: c.ports}, trusted)
			if r.State != c.state {
				t.Fatalf("state %v, want %v: %+v", r.State, c.state, r.Findings)
			}
			found := false
			for _, f := range findings(r, c.state) {
				found = found || f == c.text
			}
			if !found {
				t.Errorf("no finding %q in %+v", c.text, r.Findings)
			}
		})
	}
}

func TestJudgeListsAreCapped(t *testing.T) {
	var acc []string
	for i := 0; i < 20; i++ {
		acc = append(acc, netip.AddrFrom4([4]byte{198, 51, 100, byte(i * 2)}).String()+"/32")
	}
	r := JudgeReport(&Report{Ports: []PortReport{portReport(t, eval.IPv4, acc, nil, true)}}, nil)
	c := findings(r, result.Critical)
	if len(c) != 1 || !strings.HasSuffix(c[0], "and 12 more") {
		t.Errorf("findings %q", c)
	}
}

// Offline mode end to end: the dumps of a scenario, judged.
func TestCheckOffline(t *testing.T) {
	dir := fwdata(t, "scenarios", "ipt-nft-allowlist")
	cfg := Options{
		NftJSON:       filepath.Join(dir, "nft.json"),
		IptablesSave:  filepath.Join(dir, "iptables-nft.save"),
		Ip6tablesSave: filepath.Join(dir, "ip6tables-nft.save"),
		IpsetSave:     filepath.Join(dir, "ipset.save"),
		Trusted:       []netip.Prefix{netip.MustParsePrefix("192.0.2.0/25"), netip.MustParsePrefix("2001:db8::/64")},
		Ports:         []uint16{6379},
	}
	r := Check(context.Background(), cfg)
	if r.State != result.OK {
		t.Fatalf("state %v: %+v", r.State, r.Findings)
	}
	cfg.Trusted = cfg.Trusted[1:]
	r = Check(context.Background(), cfg)
	if r.State != result.Critical || !strings.Contains(r.Summary, "tcp/6379 IPv4: accepted from 192.0.2.0/25") {
		t.Fatalf("state %v summary %q", r.State, r.Summary)
	}
}

// Offline with only an IPv4 iptables-save: IPv6 was not given, so it is
// unknown, never "no rules".
func TestCheckOfflineMissingFamilyIsUnknown(t *testing.T) {
	dir := fwdata(t, "scenarios", "ipv6-gap")
	r := Check(context.Background(), Options{IptablesSave: filepath.Join(dir, "iptables-nft.save"), Ports: []uint16{6379},
		Trusted: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/32")}})
	var v6 []string
	for _, f := range r.Findings {
		if strings.Contains(f.Text, "IPv6") {
			v6 = append(v6, f.State.String()+" "+f.Text)
		}
	}
	if len(v6) == 0 || !strings.HasPrefix(v6[0], "UNKNOWN") || !strings.Contains(v6[0], "not given") {
		t.Fatalf("IPv6 findings %q", v6)
	}
}

type noPrivilege struct{ Host }

func (noPrivilege) Privileged() error { return fmt.Errorf("%w: needs CAP_NET_ADMIN", ErrPrivilege) }

func TestCheckWithoutPrivilegeIsUnknown(t *testing.T) {
	r := Check(context.Background(), Options{System: noPrivilege{}})
	if r.State != result.Unknown || !strings.Contains(r.Summary, "CAP_NET_ADMIN") {
		t.Fatalf("%v %q", r.State, r.Summary)
	}
}

// The offline check runs under the runner's context like the live one: a
// deadline already past is UNKNOWN with the reason, not a verdict.
func TestOfflineUnderContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := Check(ctx, Options{IptablesSave: fwdata(t, "scenarios", "ipt-nft-allowlist", "iptables-nft.save")})
	if r.State != result.Unknown || !strings.Contains(r.Summary, "context canceled") {
		t.Errorf("%v: %s", r.State, r.Summary)
	}
}
