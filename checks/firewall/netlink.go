package firewall

import (
	"context"
	"errors"
	"io"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/compile"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nfnl"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/system"
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

// readNetlink reads the nf_tables ruleset and compiles it as it is read
// (compile.Stream), with the other sources once sources returns them:
// the model, never the whole reading, is what it holds. The recording
// goes to rec when given. The Dump it returns keeps only the tables.
func readNetlink(ctx context.Context, sys System, rec io.Writer, sources func() compile.Sources) (compile.Dump[nfnl.Ruleset], *Compiled) {
	const label = "nf_tables over netlink"
	ns, ok := sys.(NetlinkSystem)
	if !ok {
		return compile.Dump[nfnl.Ruleset]{Err: errNoNetlink, Name: label}, nil
	}
	// The sink resolves ipset names on the reading goroutine, in the
	// namespace being read.
	stream := compile.NewStream(sources, system.IPSetNamesHere)
	rs, err := ns.NFTables(ctx, rec, stream)
	stream.Close()
	if err != nil {
		return compile.Dump[nfnl.Ruleset]{Err: err, Name: label}, nil
	}
	model, notes := stream.Result()
	if model == nil {
		return compile.Dump[nfnl.Ruleset]{Err: errors.New("the reading compiled nothing"), Name: label}, nil
	}
	head := &nfnl.Ruleset{Generation: rs.Generation, Tables: rs.Tables}
	return compile.Dump[nfnl.Ruleset]{Value: head, Name: label}, &Compiled{Rules: model, Notes: notes}
}
