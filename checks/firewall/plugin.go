package firewall

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/cidr"
	"github.com/sensu-community/sensu-redis-security-checks/checks/plugin"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Name is the binary's name.
const Name = "redis-firewall-check"

// flags holds the option values before they are turned into Options.
type flags struct {
	ports                                 string
	trusted                               []string
	nftJSON, iptSave, ip6tSave, ipsetSave string
	nftNetlink, nftBytecode, dumpRuleset  string
	routes, ufwDir, firewalldDir          string
	cfg                                   Options
}

// New returns the check, ready for plugin.Main.
func New() plugin.Check {
	f := &flags{}
	file := func(path, usage string, dst *string) plugin.ConfigOption {
		return &plugin.Option[string]{Path: path, Argument: path, Value: dst, Usage: usage}
	}
	return plugin.Check{
		Name:  Name,
		Short: "Compute which sources the kernel's firewall lets reach each Redis port",
		Long: `Reads the ruleset the kernel runs (nf_tables over netlink, as the bytecode the kernel
evaluates, iptables-nft's rules included; iptables-legacy tables; ipsets and routes over netlink) and computes,
for a new TCP connection to each Redis port, the exact set of source addresses that would be
accepted, separately for IPv4 and IPv6. CRITICAL when an untrusted source is accepted or no rule
restricts a port; WARNING when a trusted range is locked out; UNKNOWN, with the reasons, when the
verdict depends on something the evaluator does not understand or neither the ruleset nor the
client decides. What a client chooses counts against the ruleset: the shape of its first SYN (TCP
flags such as an ECN client's SYN|ECE|CWR, IPv6 extension headers before TCP, TTL, DSCP and ECN
bits, length, options) and the history of its own traffic (rate limits, recent lists, connection
counts, quotas); a source is accepted when some such choice gets it in, and the finding names the
choice. Ports published through DNAT
(Docker, podman, CNI) are followed through FORWARD, where INPUT rules (ufw, firewalld) do not
apply, including host ports DNAT'd to a Redis port. The verdict is also explained in ufw's and
firewalld's own terms (firewalld: its running zones over D-Bus, its zone XML otherwise), and a
difference between firewalld's runtime and permanent zones that changes a port's verdict after a
reload is a WARNING. Reading the live ruleset needs CAP_NET_ADMIN (root or sudo); the offline
options evaluate saved dumps instead.`,
		Options: []plugin.ConfigOption{
			&plugin.Option[string]{Path: "ports", Argument: "ports", Default: "6379,16379,26379", Value: &f.ports,
				Usage: "Redis ports to audit (comma-separated)"},
			&plugin.SliceOption[string]{Path: "trusted", Argument: "trusted", Value: &f.trusted, UseCobraStringArray: true,
				Usage: "CIDR or address allowed to reach Redis (repeatable; commas also separate); loopback is always trusted"},
			file("nft-json", "offline: `FILE` holding the output of nft -j list ruleset, evaluated instead of the live system", &f.nftJSON),
			file("nft-netlink", "offline: `FILE` holding the output of nft --debug=netlink list ruleset, with --nft-json (shows the ip6 nexthdr matches nft -j hides)", &f.nftNetlink),
			file("nft-bytecode", "offline: `FILE` holding a recording of the nf_tables ruleset as --dump-ruleset writes it (the kernel's bytecode; replaces --nft-json and the iptables-nft-save files)", &f.nftBytecode),
			file("dump-ruleset", "live: write the nf_tables ruleset read (the kernel's bytecode, as read over netlink) to `FILE`, for --nft-bytecode", &f.dumpRuleset),
			file("iptables-save", "offline: `FILE` holding iptables-save output (iptables-nft-save with --nft-json)", &f.iptSave),
			file("ip6tables-save", "offline: `FILE` holding ip6tables-save output (ip6tables-nft-save with --nft-json)", &f.ip6tSave),
			file("ipset-save", "offline: `FILE` holding ipset save output, for set matches", &f.ipsetSave),
			file("ufw-dir", "ufw's configuration directory `DIR`, to explain results in ufw's terms (default /etc/ufw when the live system is read; its defaults come from DIR/../default/ufw)", &f.ufwDir),
			file("firewalld-dir", "firewalld's configuration directory `DIR`, to explain results in firewalld's terms and report runtime/permanent drift (default /etc/firewalld when the live system is read, over the packaged /usr/lib/firewalld; offline, firewalld is explained only when given)", &f.firewalldDir),
			file("routes", "offline: `FILE` holding the routing tables (ip -j route show table all, both families), to tell where DNAT targets go", &f.routes),
		},
		DefaultTimeout: 20 * time.Second,
		Validate:       func(func(string) string) error { return f.validate() },
		Run:            func(ctx context.Context) result.Result { return Check(ctx, f.cfg) },
	}
}

func (f *flags) validate() error {
	cfg := Options{NftJSON: f.nftJSON, NftNetlink: f.nftNetlink, NftBytecode: f.nftBytecode, DumpRuleset: f.dumpRuleset, IptablesSave: f.iptSave, Ip6tablesSave: f.ip6tSave, IpsetSave: f.ipsetSave, Routes: f.routes, UFWDir: f.ufwDir, FirewalldDir: f.firewalldDir}
	if cfg.Routes != "" && !cfg.Offline() {
		return fmt.Errorf("--routes is for offline mode: give the ruleset dumps too (the live routing tables are read otherwise)")
	}
	seen := map[uint16]bool{}
	for _, w := range strings.Split(f.ports, ",") {
		w = strings.TrimSpace(w)
		if w == "" {
			continue
		}
		n, err := strconv.Atoi(w)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("--ports: %q is not a port number", w)
		}
		if !seen[uint16(n)] {
			seen[uint16(n)] = true
			cfg.Ports = append(cfg.Ports, uint16(n))
		}
	}
	if len(cfg.Ports) == 0 {
		return fmt.Errorf("--ports: no port given")
	}
	trusted, err := cidr.ParseList("--trusted", f.trusted)
	if err != nil {
		return err
	}
	cfg.Trusted = trusted
	if cfg.DumpRuleset != "" && cfg.Offline() {
		return fmt.Errorf("--dump-ruleset is for the live system: it records what is read there")
	}
	if cfg.NftBytecode != "" && (cfg.NftJSON != "" || cfg.NftNetlink != "" || cfg.IptablesSave != "" || cfg.Ip6tablesSave != "") {
		return fmt.Errorf("--nft-bytecode: holds the whole nf_tables ruleset; give it without --nft-json, --nft-netlink, --iptables-save or --ip6tables-save")
	}
	if cfg.NftNetlink != "" && cfg.NftJSON == "" {
		return fmt.Errorf("--nft-netlink: needs --nft-json")
	}
	for flag, path := range map[string]string{"--nft-json": cfg.NftJSON, "--nft-netlink": cfg.NftNetlink, "--nft-bytecode": cfg.NftBytecode, "--iptables-save": cfg.IptablesSave,
		"--ip6tables-save": cfg.Ip6tablesSave, "--ipset-save": cfg.IpsetSave, "--routes": cfg.Routes, "--ufw-dir": cfg.UFWDir, "--firewalld-dir": cfg.FirewalldDir} {
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%s %s: %v", flag, path, err)
		}
	}
	f.cfg = cfg
	return nil
}
