package firewall

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/compile"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/ipset"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nfnl"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/system"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/netns"
)

// The namespace test systems read nf_tables over netlink from inside
// their namespace, as the binary does on a host.

func (s netnsSystem) NFTables(ctx context.Context, rec io.Writer, sink nfnl.Sink) (*nfnl.Ruleset, error) {
	return nftablesIn(ctx, s.ns, rec, sink)
}

func (s netnsSystem) IPSetNames(_ context.Context, idx []uint16) (map[uint16]string, error) {
	return ipsetNamesIn(s.ns, idx)
}

func (s nsenterSystem) NFTables(ctx context.Context, rec io.Writer, sink nfnl.Sink) (*nfnl.Ruleset, error) {
	return nftablesIn(ctx, s.ns, rec, sink)
}

func (s nsenterSystem) IPSetNames(_ context.Context, idx []uint16) (map[uint16]string, error) {
	return ipsetNamesIn(s.ns, idx)
}

func (s netnsSystem) Routes(ctx context.Context) ([]system.Route, system.Links, error) {
	return routesIn(ctx, s.ns)
}

func (s nsenterSystem) Routes(ctx context.Context) ([]system.Route, system.Links, error) {
	return routesIn(ctx, s.ns)
}

func (s netnsSystem) IPSets(ctx context.Context) (*ipset.Dump, error) { return ipsetsIn(ctx, s.ns) }

func (s nsenterSystem) IPSets(ctx context.Context) (*ipset.Dump, error) { return ipsetsIn(ctx, s.ns) }

func ipsetsIn(ctx context.Context, ns string) (*ipset.Dump, error) {
	var d *ipset.Dump
	err := (&netns.Host{Name: ns, NS: ns}).Do(func() (err error) {
		d, err = ipset.Read(ctx, ipset.Limits{})
		return err
	})
	return d, err
}

func routesIn(ctx context.Context, ns string) ([]system.Route, system.Links, error) {
	var list []system.Route
	var links system.Links
	err := (&netns.Host{Name: ns, NS: ns}).Do(func() (err error) {
		list, links, err = system.RoutesHere(ctx, system.RouteLimits{})
		return err
	})
	return list, links, err
}

func nftablesIn(ctx context.Context, ns string, rec io.Writer, sink nfnl.Sink) (*nfnl.Ruleset, error) {
	var rs *nfnl.Ruleset
	err := (&netns.Host{Name: ns, NS: ns}).Do(func() (err error) {
		rs, err = nfnl.Read(ctx, nfnl.Options{Record: rec, Sink: sink})
		return err
	})
	return rs, err
}

func ipsetNamesIn(ns string, idx []uint16) (map[uint16]string, error) {
	var names map[uint16]string
	err := (&netns.Host{Name: ns, NS: ns}).Do(func() (err error) {
		names, err = IPSetNamesHere(idx)
		return err
	})
	return names, err
}

// textInput reads the nf_tables ruleset as the check did before it read
// netlink: nft -j list ruleset, nft --debug=netlink for the ip6 nexthdr
// dependencies nft -j hides, and iptables-nft-save / ip6tables-nft-save
// for xt parameters. It is the oracle the netlink reader is compared
// with, and the same readers serve the offline options.
func textInput(ctx context.Context, sys System) (*Facts, error) {
	in := Gather(ctx, Options{System: sys})
	if in.Err != nil {
		return nil, in.Err
	}
	s := &in.Sources
	s.NFTBytecode, s.SetNames = compile.Dump[nfnl.Ruleset]{}, nil
	s.NFT = runParse(ctx, sys, nftjson.Parse, "nft", "-j", "list", "ruleset")
	if hasIPv6Tables(s.NFT.Value) {
		s.NFTNetlink = runParse(ctx, sys, nftjson.ParseNetlink, "nft", "--debug=netlink", "list", "ruleset")
	}
	s.IptNFT = runParse(ctx, sys, iptsave.Parse, "iptables-nft-save")
	s.Ip6tNFT = runParse(ctx, sys, iptsave.Parse, "ip6tables-nft-save")
	return in, nil
}

func hasIPv6Tables(rs *nftjson.Ruleset) bool {
	if rs == nil {
		return false
	}
	for _, t := range rs.Tables {
		if t.Family != "ip" && t.Family != "arp" {
			return true
		}
	}
	return false
}

// crossCheckText evaluates the namespace's ruleset read by the text
// readers and fails the test where its verdicts differ from rep's (the
// netlink reader's). known lists differences the test expects (the text
// readers' blind spots, such as a hidden nexthdr), by port report index.
func crossCheckText(t *testing.T, sys System, rep *Report) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60e9)
	defer cancel()
	in, err := textInput(ctx, sys)
	if err != nil {
		t.Fatalf("text readers: %v", err)
	}
	rs, _ := Build(in)
	old := Evaluate(rs, portsOf(rep))
	if d := verdictDiff(old, rep); d != "" {
		t.Errorf("text readers and netlink disagree:\n%s", d)
	}
}

func portsOf(rep *Report) []uint16 {
	var out []uint16
	seen := map[uint16]bool{}
	for _, p := range rep.Ports {
		if p.Query.To == 0 && !seen[p.Query.Port] {
			seen[p.Query.Port] = true
			out = append(out, p.Query.Port)
		}
	}
	return out
}

// verdictDiff compares two reports' accepted and undecided source sets.
func verdictDiff(a, b *Report) string {
	key := func(q eval.Query) string { return fmt.Sprintf("%v port %d to %d", q.Family, q.Port, q.To) }
	type sets struct{ acc, und, lacc, lund, why string }
	index := func(r *Report) map[string]sets {
		m := map[string]sets{}
		for _, p := range r.Ports {
			if p.Err != nil || p.Result == nil {
				m[key(p.Query)] = sets{acc: "error: " + fmt.Sprint(p.Err)}
				continue
			}
			res := p.Result
			m[key(p.Query)] = sets{fmt.Sprint(res.Accepted.Prefixes()), fmt.Sprint(res.Undecided.Prefixes()),
				fmt.Sprint(res.LoopbackAccepted.Prefixes()), fmt.Sprint(res.LoopbackUndecided.Prefixes()),
				strings.Join(res.Reasons, "; ")}
		}
		return m
	}
	ia, ib := index(a), index(b)
	var out []string
	for k, x := range ia {
		y, ok := ib[k]
		switch {
		case !ok:
			out = append(out, k+": only in the text readers' report")
		case x.acc != y.acc || x.und != y.und || x.lacc != y.lacc || x.lund != y.lund:
			out = append(out, fmt.Sprintf("%s:\n  text    accepted %.300s undecided %.300s (lo %s/%s) %s\n  netlink accepted %.300s undecided %.300s (lo %s/%s) %s",
				k, x.acc, x.und, x.lacc, x.lund, x.why, y.acc, y.und, y.lacc, y.lund, y.why))
		}
	}
	for k := range ib {
		if _, ok := ia[k]; !ok {
			out = append(out, k+": only in the netlink report")
		}
	}
	return strings.Join(out, "\n")
}
