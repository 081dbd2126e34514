package system

import (
	"fmt"
	"os"
	"os/user"
)

// binary is the check's binary, named in the advice when os.Executable
// cannot say where it runs from.
const binary = "redis-firewall-check"

// privilegeAdvice says exactly what to grant a check that runs without
// CAP_NET_ADMIN: a sudoers rule for this binary, or the offline mode fed
// by a root job. It names the running user and binary when it can.
func privilegeAdvice() string {
	who := "sensu"
	if u, err := user.Current(); err == nil && u.Username != "" {
		who = u.Username
	}
	bin := "/usr/local/bin/" + binary
	if p, err := os.Executable(); err == nil {
		bin = p
	}
	return fmt.Sprintf("reading nf_tables and iptables needs CAP_NET_ADMIN, which user %s lacks; grant one of: "+
		"(1) sudo: the sudoers line `%s ALL=(root) NOPASSWD: %s` and run `sudo -n %s [flags]`; "+
		"(2) offline mode: a root cron job or systemd timer writing `nft -j list ruleset`, `iptables-nft-save`, "+
		"`ip6tables-nft-save`, `ipset save` and `ip -j route show table all` to files this check reads with "+
		"--nft-json, --iptables-save, --ip6tables-save, --ipset-save and --routes "+
		"(or systemd AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW for the agent)", who, who, bin, bin)
}
