package compile

import (
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
)

// Modules decided by what a first SYN to this host is (unicast, never
// ICMP, routed back the way it came), or left unknown because they look
// at what the model does not have (sockets, bridge ports, IPsec policy).

func hostModuleCompilers() map[string]moduleCompiler {
	never := func(*iptCompiler, *modMatch) []eval.Cond { return []eval.Cond{constCond(eval.False)} }
	unknownBecause := func(why string) moduleCompiler {
		return moduleCompiler{compile: func(_ *iptCompiler, x *modMatch) []eval.Cond { return x.unknown("%s", why) }}
	}
	return map[string]moduleCompiler{
		"comment": {compile: func(*iptCompiler, *modMatch) []eval.Cond { return nil }},
		// An ICMP type match requires ICMP: never a TCP SYN.
		"icmp":      {compile: never},
		"icmp6":     {compile: never},
		"ipv6-icmp": {compile: never},
		"pkttype":   {compile: pkttypeConds},
		"rpfilter":  {compile: rpfilterConds},
		"owner":     unknownBecause("owner matches apply to locally generated packets only"),
		"physdev":   unknownBecause("bridge port matches are not modelled"),
		"socket":    unknownBecause("socket lookup is not modelled"),
		"policy":    unknownBecause("IPsec policy matches are not modelled"),
	}
}

// pkttypeConds: a SYN to a local address is a unicast packet for this
// host.
func pkttypeConds(_ *iptCompiler, x *modMatch) []eval.Cond {
	out := x.out
	for _, o := range x.m.Options {
		out = append(out, constCond(negate(boolTri(strings.EqualFold(o.Values[0], "unicast") || strings.EqualFold(o.Values[0], "host")), o.Neg)))
	}
	return out
}

// rpfilterConds: a client that completes a handshake is routed back
// through the interface its SYN came in on, so the reverse-path check
// passes.
func rpfilterConds(_ *iptCompiler, x *modMatch) []eval.Cond {
	for _, o := range x.m.Options {
		if o.Name == "--invert" {
			return []eval.Cond{constCond(eval.False)}
		}
	}
	return nil
}
