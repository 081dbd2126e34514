package compile

import (
	"strings"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
)

type rangeOrErr struct {
	r   netipx.IPRange
	err error
}

// addrCond builds an address match from parsed ranges.
func addrCond(field eval.AddrField, fam eval.Family, neg bool, rs []rangeOrErr, origin string) eval.Cond {
	var ranges []netipx.IPRange
	for _, r := range rs {
		if r.err != nil {
			return unknown("%s: %v", origin, r.err)
		}
		ranges = append(ranges, r.r)
	}
	return eval.NewAddr(field, fam, neg, ranges...)
}

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
var clientModules = map[string]bool{
	"ttl": true, "hl": true, "length": true, "mac": true, "tos": true, "dscp": true,
	"ecn": true, "string": true, "ipv6header": true, "osf": true, "cpu": true,
	"tcpmss": true,
}

// extHeaderModules match only a packet carrying that IPv6 extension
// header, which a client adds or leaves out as it likes.
var extHeaderModules = map[string]bool{"rt": true, "frag": true, "hbh": true, "dst": true}

// opaqueModules depend on what neither the ruleset dump nor the client
// decides, or on code the model does not run.
var opaqueModules = map[string]string{
	"u32": "raw header test (u32) can read the source address and is not evaluated",
	"bpf": "BPF program is not evaluated", "devgroup": "device groups are not in the dump",
	"realm": "routing realms are not in the dump", "cluster": "cluster node assignment is not in the dump",
	"ipvs": "IPVS state is not in the dump", "esp": "IPsec SPI matches are not modelled",
	"ah": "IPsec SPI matches are not modelled",
}

// moduleConds compiles one "-m module" with its options, appending to
// out (which a module that turns unknown gives up for its one unknown).
func (c *iptCompiler) moduleConds(out []eval.Cond, m *iptsave.Match, fam eval.Family, proto string, origin string) []eval.Cond {
	// where locates the module in messages; only unknowns need it.
	where := func() string { return origin + ": -m " + m.Module }
	if m.Module == "mh" {
		// Mobility header: never a TCP SYN.
		return []eval.Cond{constCond(eval.False)}
	}
	// Whatever their options say, these match what the client decides.
	if why, ok := historyModules[m.Module]; ok {
		over := false
		for _, o := range m.Options {
			over = over || overOptions[o.Name]
		}
		return []eval.Cond{chosenHistory(why, over)}
	}
	if extHeaderModules[m.Module] {
		// These need the header present, whatever their options.
		return []eval.Cond{chosenHeader("-m "+m.Module+" header", false)}
	}
	if clientModules[m.Module] {
		return []eval.Cond{chosenPacket("-m " + m.Module + " field")}
	}
	if why, ok := opaqueModules[m.Module]; ok {
		return []eval.Cond{unknown("%s: %s", where(), why)}
	}
	for _, o := range m.Options {
		if o.Guessed {
			return []eval.Cond{unknown("%s: option %s not understood", where(), o.Name)}
		}
	}
	bad := func(o iptsave.Option, err error) []eval.Cond {
		return []eval.Cond{unknown("%s %s: %v", where(), o.Name, err)}
	}
	switch m.Module {
	case "comment":
		return nil
	case "tcp", "udp", "udplite", "sctp", "dccp":
		p, _ := parseProto(m.Module)
		for _, o := range m.Options {
			switch o.Name {
			case "--sport", "--source-port", "--dport", "--destination-port":
				f := eval.DPort
				if o.Name == "--sport" || o.Name == "--source-port" {
					f = eval.SPort
				}
				cond, err := c.portCond(f, p, o.Neg, o.Values[0])
				if err != nil {
					return bad(o, err)
				}
				out = append(out, cond)
			case "--tcp-flags", "--syn":
				mask, comp := uint8(eval.TCPFin|eval.TCPSyn|eval.TCPRst|eval.TCPAck), uint8(eval.TCPSyn)
				if o.Name == "--tcp-flags" {
					var err error
					if mask, err = parseTCPFlags(o.Values[0]); err != nil {
						return bad(o, err)
					}
					if comp, err = parseTCPFlags(o.Values[1]); err != nil {
						return bad(o, err)
					}
				}
				out = append(out, eval.TCPFlags{Mask: mask, Comp: comp, Neg: o.Neg})
			case "--tcp-option":
				out = append(out, chosenHeader("TCP options", o.Neg))
			default:
				return []eval.Cond{unknown("%s: option %s not modelled", where(), o.Name)}
			}
		}
		// The module itself requires its protocol.
		out = append(out, c.protoCond(p))
		return out
	case "multiport":
		p, err := parseProto(proto)
		if err != nil {
			return []eval.Cond{unknown("%s: needs -p tcp or udp", where())}
		}
		for _, o := range m.Options {
			switch o.Name {
			case "--dports", "--destination-ports", "--sports", "--source-ports":
				f := eval.DPort
				if o.Name == "--sports" || o.Name == "--source-ports" {
					f = eval.SPort
				}
				cond, err := c.portCond(f, p, o.Neg, o.Values[0])
				if err != nil {
					return bad(o, err)
				}
				out = append(out, cond)
				continue
			}
			rs, err := parseIptPorts(o.Values[0])
			if err != nil {
				return bad(o, err)
			}
			switch o.Name {
			case "--ports":
				either := eval.Or{
					eval.Port{Field: eval.DPort, Protos: []uint8{p}, Ranges: rs},
					eval.Port{Field: eval.SPort, Protos: []uint8{p}, Ranges: rs},
				}
				if o.Neg {
					out = append(out, eval.And{eval.Proto{Protos: []uint8{p}}, eval.Not{C: either}})
				} else {
					out = append(out, either)
				}
			}
		}
		return out
	case "state", "conntrack":
		for _, o := range m.Options {
			switch o.Name {
			case "--state", "--ctstate":
				var err error
				cond := c.cached(condID{kind: "ctstate", neg: o.Neg, value: o.Values[0]}, func() (eval.Cond, bool) {
					var s eval.CtState
					if s, err = parseCtStates(strings.Split(o.Values[0], ",")); err != nil {
						return nil, false
					}
					return eval.Conntrack{States: s, Neg: o.Neg}, true
				})
				if err != nil {
					return bad(o, err)
				}
				out = append(out, cond)
			case "--ctproto":
				n, err := parseProto(o.Values[0])
				if err != nil {
					return bad(o, err)
				}
				out = append(out, eval.Proto{Protos: []uint8{n}, Neg: o.Neg})
			case "--ctstatus":
				// A first SYN's connection has no status bit yet, bar
				// DNAT once a rewrite happened.
				vals := strings.Split(o.Values[0], ",")
				none := true
				for _, s := range vals {
					if strings.ToUpper(s) != "NONE" {
						none = false
					}
				}
				if none {
					out = append(out, negate1(eval.Not{C: eval.Conntrack{States: eval.CtDNAT}}, o.Neg))
				} else {
					out = append(out, ctStatusCond(vals, o.Neg))
				}
			case "--ctdir":
				out = append(out, constCond(negate(boolTri(strings.EqualFold(o.Values[0], "ORIGINAL")), o.Neg)))
			case "--ctorigsrc", "--ctorigdst", "--ctreplsrc", "--ctrepldst":
				// The original tuple keeps the destination before DNAT;
				// the reply tuple mirrors the rewritten one (no SNAT
				// happens before the filter hooks).
				field := eval.Src
				switch o.Name {
				case "--ctorigdst":
					field = eval.OrigDst
				case "--ctreplsrc":
					field = eval.Dst
				}
				r, err := parseAddrOrPrefix(o.Values[0], fam)
				out = append(out, addrCond(field, fam, o.Neg, []rangeOrErr{{r, err}}, where()))
			case "--ctorigsrcport", "--ctorigdstport", "--ctreplsrcport", "--ctrepldstport":
				rs, err := parseIptPorts(o.Values[0])
				if err != nil {
					return bad(o, err)
				}
				f := eval.SPort
				switch o.Name {
				case "--ctorigdstport":
					f = eval.OrigDPort
				case "--ctreplsrcport":
					f = eval.DPort
				}
				out = append(out, eval.Port{Field: f, Ranges: rs, Neg: o.Neg})
			default:
				return []eval.Cond{unknown("%s: option %s not modelled", where(), o.Name)}
			}
		}
		return out
	case "iprange":
		for _, o := range m.Options {
			r, err := parseRange(o.Values[0], fam)
			field := eval.Src
			if o.Name == "--dst-range" {
				field = eval.Dst
			}
			out = append(out, addrCond(field, fam, o.Neg, []rangeOrErr{{r, err}}, where()))
		}
		return out
	case "set":
		for _, o := range m.Options {
			switch o.Name {
			case "--match-set", "--set":
				out = append(out, c.sets.cond(o.Values[0], o.Values[1], o.Neg, fam, 0))
			case "--return-nomatch", "--update-counters", "--update-subcounters":
				if o.Name == "--return-nomatch" {
					return []eval.Cond{unknown("%s: --return-nomatch not modelled", where())}
				}
			default:
				return []eval.Cond{unknown("%s: counter comparison %s depends on past traffic", where(), o.Name)}
			}
		}
		return out
	case "mark", "connmark":
		for _, o := range m.Options {
			v, mask, err := parseMarkMask(o.Values[0])
			if err != nil {
				return bad(o, err)
			}
			out = append(out, eval.Mark{Conn: m.Module == "connmark", Mask: mask, Value: v & mask, Neg: o.Neg})
		}
		return out
	case "addrtype":
		for _, o := range m.Options {
			switch o.Name {
			case "--src-type", "--dst-type":
				t, err := parseAddrTypes(strings.Split(o.Values[0], ","))
				if err != nil {
					return bad(o, err)
				}
				field := eval.Src
				if o.Name == "--dst-type" {
					field = eval.Dst
				}
				out = append(out, eval.AddrType{Field: field, Types: t, Neg: o.Neg})
			case "--limit-iface-in":
				// Types are then looked up on the input interface only;
				// for local addresses that gives the same answer.
			default:
				return []eval.Cond{unknown("%s: option %s not modelled", where(), o.Name)}
			}
		}
		return out
	case "icmp", "icmp6", "ipv6-icmp":
		// An ICMP type match requires ICMP: never a TCP SYN.
		return []eval.Cond{constCond(eval.False)}
	case "pkttype":
		// A SYN to a local address is a unicast packet for this host.
		for _, o := range m.Options {
			out = append(out, constCond(negate(boolTri(strings.EqualFold(o.Values[0], "unicast") || strings.EqualFold(o.Values[0], "host")), o.Neg)))
		}
		return out
	case "rpfilter":
		// A client that completes a handshake is routed back through the
		// interface its SYN came in on, so the reverse-path check passes.
		for _, o := range m.Options {
			if o.Name == "--invert" {
				return []eval.Cond{constCond(eval.False)}
			}
		}
		return nil
	case "owner":
		return []eval.Cond{unknown("%s: owner matches apply to locally generated packets only", where())}
	case "physdev":
		return []eval.Cond{unknown("%s: bridge port matches are not modelled", where())}
	case "socket":
		return []eval.Cond{unknown("%s: socket lookup is not modelled", where())}
	case "policy":
		return []eval.Cond{unknown("%s: IPsec policy matches are not modelled", where())}
	case "helper":
		// A new connection has no helper assigned by its own first packet.
		for _, o := range m.Options {
			out = append(out, constCond(negate(eval.False, o.Neg)))
		}
		return out
	}
	return []eval.Cond{unknown("%s: module not understood", where())}
}

func boolTri(b bool) eval.Tri {
	if b {
		return eval.True
	}
	return eval.False
}

// negate1 applies an optional "!" to a condition.
func negate1(c eval.Cond, neg bool) eval.Cond {
	if neg {
		return eval.Not{C: c}
	}
	return c
}
