package compile

import (
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
)

// Address and mark modules: iprange, set, addrtype, mark, connmark.

func addrModuleCompilers() map[string]moduleCompiler {
	return map[string]moduleCompiler{
		"iprange":  {compile: iprangeConds},
		"set":      {compile: setConds},
		"addrtype": {compile: addrtypeConds},
		"mark":     {compile: markConds},
		"connmark": {compile: markConds},
	}
}

func iprangeConds(_ *iptCompiler, x *modMatch) []eval.Cond {
	out := x.out
	for _, o := range x.m.Options {
		r, err := parseRange(o.Values[0], x.fam)
		field := eval.Src
		if o.Name == "--dst-range" {
			field = eval.Dst
		}
		out = append(out, addrCond(field, x.fam, o.Neg, []rangeOrErr{{r, err}}, x.where()))
	}
	return out
}

func setConds(c *iptCompiler, x *modMatch) []eval.Cond {
	out := x.out
	for _, o := range x.m.Options {
		switch o.Name {
		case "--match-set", "--set":
			out = append(out, c.sets.cond(o.Values[0], o.Values[1], o.Neg, x.fam, 0))
		case "--return-nomatch":
			return x.unknown("--return-nomatch not modelled")
		case "--update-counters", "--update-subcounters":
		default:
			return x.unknown("counter comparison %s depends on past traffic", o.Name)
		}
	}
	return out
}

func addrtypeConds(_ *iptCompiler, x *modMatch) []eval.Cond {
	out := x.out
	ifaceIn := false
	for _, o := range x.m.Options {
		ifaceIn = ifaceIn || o.Name == "--limit-iface-in"
	}
	for _, o := range x.m.Options {
		switch o.Name {
		case "--src-type", "--dst-type":
			t, err := parseAddrTypes(strings.Split(o.Values[0], ","))
			if err != nil {
				return x.bad(o, err)
			}
			field := eval.Src
			if o.Name == "--dst-type" {
				field = eval.Dst
			}
			out = append(out, eval.AddrType{Field: field, Types: t, Neg: o.Neg, IfaceIn: ifaceIn, XT6: true})
		case "--limit-iface-in":
		default:
			return x.notModelled(o)
		}
	}
	return out
}

func markConds(_ *iptCompiler, x *modMatch) []eval.Cond {
	out := x.out
	for _, o := range x.m.Options {
		v, mask, err := parseMarkMask(o.Values[0])
		if err != nil {
			return x.bad(o, err)
		}
		var m eval.Cond = eval.Mark{Conn: x.m.Module == "connmark", Mask: mask, Value: v & mask, Neg: o.Neg}
		if x.m.Module == "connmark" {
			m = eval.Tracked{C: m}
		}
		out = append(out, m)
	}
	return out
}
