package firewall

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/compile"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nfnl"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/system"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/xt"
)

// NetlinkSystem is a System that reads nf_tables over netlink.
type NetlinkSystem = system.Netlink

// errNoNetlink is a System that cannot read nf_tables over netlink.
var errNoNetlink = errors.New("this system cannot read nf_tables over netlink")

// IPSetNamesHere resolves ipset indexes in the calling thread's network
// namespace.
func IPSetNamesHere(indexes []uint16) (map[uint16]string, error) {
	return system.IPSetNamesHere(indexes)
}

// readNetlink reads the nf_tables ruleset and the names of the ipsets its
// xt expressions use. The recording goes to rec when given.
func readNetlink(ctx context.Context, sys System, rec io.Writer) (compile.Dump[nfnl.Ruleset], func(uint16) (string, error)) {
	const label = "nf_tables over netlink"
	ns, ok := sys.(NetlinkSystem)
	if !ok {
		return compile.Dump[nfnl.Ruleset]{Err: errNoNetlink, Name: label}, nil
	}
	rs, err := ns.NFTables(ctx, rec)
	if err != nil {
		return compile.Dump[nfnl.Ruleset]{Err: err, Name: label}, nil
	}
	d := compile.Dump[nfnl.Ruleset]{Value: rs, Name: label}
	var want []uint16
	seen := map[uint16]bool{}
	for _, r := range rs.Rules {
		for _, e := range r.Exprs {
			var idx []uint16
			switch x := e.(type) {
			case *nfnl.Match:
				idx = xt.SetIndexes("match", x.MatchName, x.Rev, x.Info)
			case *nfnl.Target:
				idx = xt.SetIndexes("target", x.TargetName, x.Rev, x.Info)
			}
			for _, i := range idx {
				if !seen[i] {
					seen[i] = true
					want = append(want, i)
				}
			}
		}
	}
	if len(want) == 0 {
		return d, nil
	}
	names, err := ns.IPSetNames(ctx, want)
	return d, func(i uint16) (string, error) {
		if err != nil {
			return "", err
		}
		if n, ok := names[i]; ok {
			return n, nil
		}
		return "", fmt.Errorf("no ipset with index %d", i)
	}
}
