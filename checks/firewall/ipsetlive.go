package firewall

import (
	"context"
	"errors"
	"io/fs"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/compile"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/ipset"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/system"
)

// ipsetModule is present when the kernel has ipset, loaded or built in
// (its max_sets parameter gives it a directory either way); ipset has no
// /proc/net file.
const ipsetModule = "/sys/module/ip_set"

// liveIPSet lists the ipsets over netlink, or with `ipset save` when the
// System cannot or a set is one the netlink decoder does not write as
// ipset save would. A kernel without ipset has no sets (no rule can match
// one without the module): nothing is asked then, which would load the
// module.
func liveIPSet(ctx context.Context, sys System) compile.Dump[ipset.Dump] {
	if dr, ok := sys.(system.DirReader); ok {
		if _, err := dr.ReadDir(ctx, ipsetModule); errors.Is(err, fs.ErrNotExist) {
			return compile.Dump[ipset.Dump]{Value: &ipset.Dump{}, Name: "ipset (no ip_set module)"}
		}
	}
	if r, ok := sys.(system.IPSetReader); ok {
		const label = "ipset over netlink"
		d, err := r.IPSets(ctx)
		switch {
		case err == nil:
			return compile.Dump[ipset.Dump]{Value: d, Name: label}
		case !errors.Is(err, ipset.ErrNotDecoded):
			return compile.Dump[ipset.Dump]{Err: err, Name: label}
		}
	}
	return runParse(ctx, sys, ipset.Parse, "ipset", "save")
}
