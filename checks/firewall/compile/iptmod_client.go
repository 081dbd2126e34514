package compile

import "github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"

// Modules whose outcome the client decides, or nothing in the dump does:
// their options need not be understood.

// historyModules decide on traffic already seen. The client makes that
// history (or, for time, picks the moment): it can keep under a limit or
// push past it, so both outcomes are its to choose.
var historyModules = map[string]string{
	"limit": "rate limit", "hashlimit": "per-source rate limit", "recent": "recent list",
	"connlimit": "connection count limit", "quota": "byte quota", "statistic": "random or nth sampling",
	"connbytes": "connection byte count", "time": "time window", "nfacct": "accounting counter",
}

// overOptions turn a history match around: it then holds past the bound.
var overOptions = map[string]bool{"--hashlimit-above": true, "--connlimit-above": true}

// clientModules match fields of the first SYN the client shapes freely
// (TTL, length, DSCP, ECN bits, extension headers, options, payload,
// source MAC, the receiving CPU through its flow hash).
var clientModules = []string{"ttl", "hl", "length", "mac", "tos", "dscp", "ecn", "string", "ipv6header", "osf", "cpu", "tcpmss"}

// extHeaderModules match only a packet carrying that IPv6 extension
// header, which a client adds or leaves out as it likes.
var extHeaderModules = []string{"rt", "frag", "hbh", "dst"}

// opaqueModules depend on what neither the ruleset dump nor the client
// decides, or on code the model does not run.
var opaqueModules = map[string]string{
	"u32": "raw header test (u32) can read the source address and is not evaluated",
	"bpf": "BPF program is not evaluated", "devgroup": "device groups are not in the dump",
	"realm": "routing realms are not in the dump", "cluster": "cluster node assignment is not in the dump",
	"ipvs": "IPVS state is not in the dump", "esp": "IPsec SPI matches are not modelled",
	"ah": "IPsec SPI matches are not modelled",
}

func clientModuleCompilers() map[string]moduleCompiler {
	t := map[string]moduleCompiler{
		// Mobility header: never a TCP SYN.
		"mh": {anyOptions: true, compile: func(*iptCompiler, *modMatch) []eval.Cond {
			return []eval.Cond{constCond(eval.False)}
		}},
	}
	for name, why := range historyModules {
		t[name] = moduleCompiler{anyOptions: true, compile: func(_ *iptCompiler, x *modMatch) []eval.Cond {
			over := false
			for _, o := range x.m.Options {
				over = over || overOptions[o.Name]
			}
			return []eval.Cond{chosenHistory(why, over)}
		}}
	}
	for _, name := range extHeaderModules {
		// These need the header present, whatever their options.
		t[name] = moduleCompiler{anyOptions: true, compile: func(_ *iptCompiler, x *modMatch) []eval.Cond {
			return []eval.Cond{chosenHeader("-m "+x.m.Module+" header", false)}
		}}
	}
	for _, name := range clientModules {
		t[name] = moduleCompiler{anyOptions: true, compile: func(_ *iptCompiler, x *modMatch) []eval.Cond {
			return []eval.Cond{chosenPacket("-m " + x.m.Module + " field")}
		}}
	}
	for name, why := range opaqueModules {
		t[name] = moduleCompiler{anyOptions: true, compile: func(_ *iptCompiler, x *modMatch) []eval.Cond {
			return x.unknown("%s", why)
		}}
	}
	return t
}
