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

// rpfilterConds: in loose mode the check passes for any source with a
// route back, which a client that completes a handshake has; in strict
// mode it depends on the way back (see reversePath).
func rpfilterConds(_ *iptCompiler, x *modMatch) []eval.Cond {
	loose, invert := false, false
	for _, o := range x.m.Options {
		switch o.Name {
		case "--loose":
			loose = true
		case "--invert":
			invert = true
		}
	}
	if loose {
		if invert {
			return []eval.Cond{constCond(eval.False)}
		}
		return nil
	}
	return []eval.Cond{reversePath(!invert)}
}

// reversePath is a strict reverse-path match (fib saddr . iif oif, -m
// rpfilter) that holds when the check passes (passes) or fails. It passes
// when the route back to the source leaves by the interface the packet
// came in on, as it does for most clients; a client whose replies are
// routed out another interface and still reach it (asymmetric routing,
// or a source address it picks for that) fails it. Neither outcome is
// assumed: the client is taken to reach the port if either one lets it.
func reversePath(passes bool) eval.Cond {
	asym := "from a source routed back by another interface than its SYN came in on (%s)"
	if passes {
		return eval.Choice("", asym)
	}
	return eval.Choice(asym, "")
}
