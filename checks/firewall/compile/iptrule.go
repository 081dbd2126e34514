package compile

import (
	"strings"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
)

// iptRule is an iptables-save rule compiled, before jump targets are
// resolved.
type iptRule struct {
	conds   []eval.Cond
	actions []eval.Action
	verdict eval.Verdict
	// target is the -j/-g name, resolved to a chain by the caller when
	// verdict.Kind is Jump or Goto.
	target string
	// class is the verdict as the merge compares it ("accept", "jump X",
	// "none" for a non-terminal target, ...).
	class string
}

// rule compiles one rule. chains says which targets are user chains of
// the same table.
func (c *iptCompiler) rule(r *iptsave.Rule, fam eval.Family, chains map[string]bool, origin string) iptRule {
	var out iptRule
	n := 0
	for _, m := range r.Matches {
		n += len(m.Options) + 1
	}
	out.conds = make([]eval.Cond, 0, n)
	proto := ""
	for _, m := range r.Matches {
		if m.Module == "" {
			for _, o := range m.Options {
				out.conds = append(out.conds, c.builtinOption(o, fam, origin))
				if (o.Name == "-p" || o.Name == "--protocol") && !o.Neg && len(o.Values) == 1 {
					proto = strings.ToLower(o.Values[0])
				}
			}
			continue
		}
		c.scratch = c.moduleConds(c.scratch[:0], m, fam, proto, origin)
		out.conds = append(out.conds, c.scratch...)
	}
	targetOf(r, fam, chains, origin, &out)
	return out
}

// builtinOption compiles an option of the "" match. Conditions that do
// not name the rule are shared through the cache.
func (c *iptCompiler) builtinOption(o iptsave.Option, fam eval.Family, origin string) eval.Cond {
	if o.Guessed {
		return unknown("%s: option %s not understood", origin, o.Name)
	}
	switch o.Name {
	case "-s", "--source", "--src", "-d", "--destination", "--dst":
		field := eval.Src
		if o.Name[1] == 'd' || o.Name == "--destination" || o.Name == "--dst" {
			field = eval.Dst
		}
		return c.cached(condID{kind: "addr", fam: fam, field: uint8(field), neg: o.Neg, value: o.Values[0]}, func() (eval.Cond, bool) {
			var ranges []netipx.IPRange
			for rest, more := o.Values[0], true; more; {
				var v string
				v, rest, more = strings.Cut(rest, ",")
				r, err := parseAddrOrPrefix(v, fam)
				if err != nil {
					return unknown("%s: %v", origin, err), false
				}
				ranges = append(ranges, r)
			}
			return eval.NewAddr(field, fam, o.Neg, ranges...), true
		})
	case "-p", "--protocol":
		return c.cached(condID{kind: "-p", neg: o.Neg, value: o.Values[0]}, func() (eval.Cond, bool) {
			v := strings.ToLower(o.Values[0])
			if v == "all" || v == "0" {
				return constCond(negate(eval.True, o.Neg)), true
			}
			n, err := parseProto(v)
			if err != nil {
				return unknown("%s: %v", origin, err), false
			}
			return eval.Proto{Protos: []uint8{n}, Neg: o.Neg}, true
		})
	case "-i", "--in-interface", "-o", "--out-interface":
		out := o.Name == "-o" || o.Name == "--out-interface"
		kind := "-i"
		if out {
			kind = "-o"
		}
		return c.cached(condID{kind: kind, neg: o.Neg, value: o.Values[0]}, func() (eval.Cond, bool) {
			return eval.Iface{Out: out, Names: []eval.IfName{parseIfName(o.Values[0])}, Neg: o.Neg}, true
		})
	case "-f", "--fragment":
		// A SYN is a first (or only) fragment: "-f" never matches it.
		return constCond(negate(eval.False, o.Neg))
	case "-4", "--ipv4":
		return eval.IsFamily{Family: eval.IPv4}
	case "-6", "--ipv6":
		return eval.IsFamily{Family: eval.IPv6}
	case "-c", "--set-counters":
		return constCond(eval.True)
	}
	return unknown("%s: option %s not understood", origin, o.Name)
}

func negate(t eval.Tri, neg bool) eval.Tri {
	if neg {
		return t.Not()
	}
	return t
}

// targetOf compiles the target and its options.
func targetOf(r *iptsave.Rule, fam eval.Family, chains map[string]bool, origin string, out *iptRule) {
	t := r.Target
	out.target = t
	set := func(k eval.VerdictKind, class string) {
		out.verdict = eval.Verdict{Kind: k}
		out.class = class
	}
	undecided := func(why string) {
		out.verdict = eval.Verdict{Kind: eval.Undecided, Reason: origin + ": " + why}
		out.class = "target " + t
	}
	for _, o := range r.TargetOptions {
		if o.Guessed {
			undecided("target " + t + " option " + o.Name + " not understood")
			return
		}
	}
	switch {
	case t == "":
		set(eval.Continue, "none")
		return
	case chains[t]:
		if r.Goto {
			set(eval.Goto, "goto "+t)
		} else {
			set(eval.Jump, "jump "+t)
		}
		return
	}
	switch t {
	case "ACCEPT":
		set(eval.Accept, "accept")
	case "DROP":
		set(eval.Drop, "drop")
	case "REJECT":
		set(eval.Reject, "reject")
	case "RETURN":
		set(eval.Return, "return")
	case "LOG", "NFLOG", "ULOG", "TRACE", "AUDIT", "TCPMSS", "TOS", "DSCP", "TTL", "HL",
		"CLASSIFY", "CHECKSUM", "SECMARK", "CONNSECMARK", "IDLETIMER", "LED", "TEE", "SET":
		// Non-terminal: they log, rewrite header fields no match here
		// reads, or copy the packet.
		set(eval.Continue, "none")
	case "MARK", "CONNMARK":
		set(eval.Continue, "none")
		out.actions = append(out.actions, markAction(t == "CONNMARK", r.TargetOptions))
	case "NOTRACK":
		set(eval.Continue, "none")
		out.actions = append(out.actions, eval.NoTrack{})
	case "CT":
		set(eval.Continue, "none")
		for _, o := range r.TargetOptions {
			if o.Name == "--notrack" {
				out.actions = append(out.actions, eval.NoTrack{})
			}
		}
	case "QUEUE", "NFQUEUE":
		undecided("verdict is decided by a user-space program (" + t + ")")
	case "DNAT", "REDIRECT", "SNAT", "MASQUERADE":
		v, err := natTargetOf(r, fam, origin)
		if err != nil {
			undecided(err.Error())
			break
		}
		out.verdict, out.class = v, "nat "+t
	case "SYNPROXY":
		undecided("target SYNPROXY " + synproxyHint)
	case "TPROXY", "NETMAP":
		undecided("target " + t + " is not evaluated yet")
	default:
		undecided("unknown target " + t)
	}
	if r.Goto && out.verdict.Kind != eval.Goto {
		undecided("goto to " + t + ", which is not a chain of the table")
	}
}

// markAction compiles MARK / CONNMARK options.
func markAction(conn bool, opts []iptsave.Option) eval.Action {
	vals := map[string]string{}
	for _, o := range opts {
		if o.Neg || len(o.Values) > 1 {
			return eval.OpaqueMark{Conn: conn}
		}
		v := ""
		if len(o.Values) == 1 {
			v = o.Values[0]
		}
		vals[o.Name] = v
	}
	full := func(names ...string) bool {
		for _, n := range names {
			if v, ok := vals[n]; ok {
				if m, err := parseUint32(v); err != nil || m != 0xffffffff {
					return false
				}
			}
		}
		return true
	}
	single := func() (string, string, bool) {
		if len(vals) != 1 {
			return "", "", false
		}
		for k, v := range vals {
			return k, v, true
		}
		return "", "", false
	}
	if _, ok := vals["--save-mark"]; ok && conn && full("--nfmask", "--ctmask", "--mask") {
		return eval.CopyMark{ToConn: true}
	}
	if _, ok := vals["--restore-mark"]; ok && conn && full("--nfmask", "--ctmask", "--mask") {
		return eval.CopyMark{}
	}
	name, val, ok := single()
	if !ok {
		return eval.OpaqueMark{Conn: conn}
	}
	switch name {
	case "--set-xmark", "--set-mark":
		v, m, err := parseMarkMask(val)
		if err != nil {
			return eval.OpaqueMark{Conn: conn}
		}
		if name == "--set-mark" {
			// --set-mark v/m clears m then ORs v.
			return eval.SetMark{Conn: conn, Mask: m | v, Xor: v}
		}
		return eval.SetMark{Conn: conn, Mask: m, Xor: v}
	case "--and-mark", "--or-mark", "--xor-mark":
		v, err := parseUint32(val)
		if err != nil {
			return eval.OpaqueMark{Conn: conn}
		}
		switch name {
		case "--and-mark":
			return eval.SetMark{Conn: conn, Mask: ^v}
		case "--or-mark":
			return eval.SetMark{Conn: conn, Mask: v, Xor: v}
		}
		return eval.SetMark{Conn: conn, Xor: v}
	}
	return eval.OpaqueMark{Conn: conn}
}
