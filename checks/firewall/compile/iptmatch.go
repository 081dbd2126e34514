package compile

import (
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

// modMatch is one "-m module" being compiled: its options, the rule's
// family and -p protocol, and the conditions compiled so far for the rule.
type modMatch struct {
	out    []eval.Cond
	m      *iptsave.Match
	fam    eval.Family
	proto  string
	origin string
}

// where locates the module in messages; only unknowns need it.
func (x *modMatch) where() string { return x.origin + ": -m " + x.m.Module }

// unknown gives the module up: one unknown condition replaces the rule's.
func (x *modMatch) unknown(format string, args ...any) []eval.Cond {
	return []eval.Cond{unknown("%s: "+format, append([]any{x.where()}, args...)...)}
}

// bad gives the module up on an option whose value does not parse.
func (x *modMatch) bad(o iptsave.Option, err error) []eval.Cond {
	return []eval.Cond{unknown("%s %s: %v", x.where(), o.Name, err)}
}

// notModelled gives the module up on an option it does not know.
func (x *modMatch) notModelled(o iptsave.Option) []eval.Cond {
	return x.unknown("option %s not modelled", o.Name)
}

// moduleCompiler compiles one module. anyOptions marks a module whose
// outcome does not depend on its options being understood (the client
// decides it, or it is never a TCP SYN): it compiles even with options the
// arity table had to guess.
type moduleCompiler struct {
	compile    func(c *iptCompiler, x *modMatch) []eval.Cond
	anyOptions bool
}

// moduleCompilers are the modules understood, by name: one table per
// family of modules (iptmod_*.go), merged once.
var moduleCompilers = merge(clientModuleCompilers(), portModuleCompilers(), conntrackModuleCompilers(),
	addrModuleCompilers(), hostModuleCompilers())

func merge(tables ...map[string]moduleCompiler) map[string]moduleCompiler {
	all := map[string]moduleCompiler{}
	for _, t := range tables {
		for name, mc := range t {
			if _, dup := all[name]; dup {
				panic("compile: module " + name + " in two tables")
			}
			all[name] = mc
		}
	}
	return all
}

// moduleConds compiles one "-m module" with its options, appending to
// out (which a module that turns unknown gives up for its one unknown).
func (c *iptCompiler) moduleConds(out []eval.Cond, m *iptsave.Match, fam eval.Family, proto string, origin string) []eval.Cond {
	x := &modMatch{out: out, m: m, fam: fam, proto: proto, origin: origin}
	mc, ok := moduleCompilers[m.Module]
	if ok && mc.anyOptions {
		return mc.compile(c, x)
	}
	for _, o := range m.Options {
		if o.Guessed {
			return x.unknown("option %s not understood", o.Name)
		}
	}
	if !ok {
		return x.unknown("module not understood")
	}
	return mc.compile(c, x)
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
