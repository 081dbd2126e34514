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

// liveIPSet reads the ipsets with `ipset save`, unless the kernel has no
// ipset: then there are no sets (no rule can match one without the
// module), and the process, which would also load the module, is not run.
func liveIPSet(ctx context.Context, sys System) compile.Dump[ipset.Dump] {
	if dr, ok := sys.(system.DirReader); ok {
		if _, err := dr.ReadDir(ctx, ipsetModule); errors.Is(err, fs.ErrNotExist) {
			return compile.Dump[ipset.Dump]{Value: &ipset.Dump{}, Name: "ipset (no ip_set module)"}
		}
	}
	return runParse(ctx, sys, ipset.Parse, "ipset", "save")
}
