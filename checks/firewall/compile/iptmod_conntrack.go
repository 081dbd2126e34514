package compile

import (
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
)

// Connection tracking modules: state, conntrack, helper.

func conntrackModuleCompilers() map[string]moduleCompiler {
	return map[string]moduleCompiler{
		"state":     {compile: conntrackConds},
		"conntrack": {compile: conntrackConds},
		"helper":    {compile: helperConds},
	}
}

// conntrackConds: the state is read in chains before conntrack too (it
// is INVALID there); the rest of the connection is eval.Tracked.
func conntrackConds(c *iptCompiler, x *modMatch) []eval.Cond {
	out := x.out
	for _, o := range x.m.Options {
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
				return x.bad(o, err)
			}
			out = append(out, cond)
		case "--ctproto":
			n, err := parseProto(o.Values[0])
			if err != nil {
				return x.bad(o, err)
			}
			out = append(out, eval.Tracked{C: eval.Proto{Protos: []uint8{n}, Neg: o.Neg}})
		case "--ctstatus":
			out = append(out, eval.Tracked{C: ctStatusOption(o)})
		case "--ctdir":
			out = append(out, eval.Tracked{C: constCond(negate(boolTri(strings.EqualFold(o.Values[0], "ORIGINAL")), o.Neg))})
		case "--ctorigsrc", "--ctorigdst", "--ctreplsrc", "--ctrepldst":
			// The original tuple keeps the addresses before DNAT and
			// SNAT (an SNAT in INPUT runs before filter chains of a
			// later priority); the reply tuple mirrors the rewritten ones.
			field := eval.Src
			switch o.Name {
			case "--ctorigsrc":
				field = eval.OrigSrc
			case "--ctorigdst":
				field = eval.OrigDst
			case "--ctreplsrc":
				field = eval.Dst
			}
			r, err := parseAddrOrPrefix(o.Values[0], x.fam)
			out = append(out, eval.Tracked{C: addrCond(field, x.fam, o.Neg, []rangeOrErr{{r, err}}, x.where())})
		case "--ctorigsrcport", "--ctorigdstport", "--ctreplsrcport", "--ctrepldstport":
			rs, err := parseIptPorts(o.Values[0])
			if err != nil {
				return x.bad(o, err)
			}
			f := eval.SPort
			switch o.Name {
			case "--ctorigdstport":
				f = eval.OrigDPort
			case "--ctreplsrcport":
				f = eval.DPort
			}
			out = append(out, eval.Tracked{C: eval.Port{Field: f, Ranges: rs, Neg: o.Neg}})
		default:
			return x.notModelled(o)
		}
	}
	return out
}

// ctStatusOption is "--ctstatus": a first SYN's connection has no status
// bit yet, bar DNAT once a rewrite happened.
func ctStatusOption(o iptsave.Option) eval.Cond {
	vals := strings.Split(o.Values[0], ",")
	none := true
	for _, s := range vals {
		if strings.ToUpper(s) != "NONE" {
			none = false
		}
	}
	if none {
		return negate1(eval.Not{C: eval.Conntrack{States: eval.CtDNAT}}, o.Neg)
	}
	return ctStatusCond(vals, o.Neg)
}

// helperConds: xt_helper matches on the helper of the connection's
// master, the one whose expectation it fulfils, and a client's own
// connection has none, whatever helper a raw "-j CT --helper" or nft's
// "ct helper set" gave it: "--helper" never matches, "! --helper" always.
func helperConds(_ *iptCompiler, x *modMatch) []eval.Cond {
	out := x.out
	for _, o := range x.m.Options {
		out = append(out, eval.Tracked{C: constCond(negate(eval.False, o.Neg))})
	}
	return out
}
