package compile

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
)

// harmlessStmts never change whether a packet is delivered, nor anything a
// later match reads.
var harmlessStmts = map[string]bool{"counter": true, "log": true, "ct helper": true,
	"ct timeout": true, "ct expectation": true, "secmark": true, "dup": true, "flow": true,
	"meta": false}

// stmtInv reports the "inv" flag of a statement ("limit rate over",
// "ct count over", "quota over"): the match then holds past the bound.
func (b *builder) stmtInv(raw json.RawMessage, kind string) bool {
	// Read back from bytecode, the statements of a large ruleset repeat:
	// each is decoded once.
	if v, ok := b.invs[string(raw)]; ok {
		return v
	}
	v := decodeInv(raw, kind)
	if len(b.invs) < maxSharedConds {
		if b.invs == nil {
			b.invs = map[string]bool{}
		}
		b.invs[string(raw)] = v
	}
	return v
}

func decodeInv(raw json.RawMessage, kind string) bool {
	var body map[string]struct {
		Inv bool `json:"inv"`
	}
	if json.Unmarshal(raw, &body) != nil {
		return false
	}
	return body[kind].Inv
}

// dynsetOp reads the operation of a "set" or "map" statement ("add",
// "update", "delete").
func dynsetOp(raw json.RawMessage, kind string) string {
	var body map[string]struct {
		Op string `json:"op"`
	}
	if json.Unmarshal(raw, &body) != nil {
		return ""
	}
	return body[kind].Op
}

// dynsetName reads the set a "set", "map" or "meter" statement updates.
func dynsetName(raw json.RawMessage, kind string) string {
	var body map[string]map[string]json.RawMessage
	if json.Unmarshal(raw, &body) != nil {
		return "?"
	}
	key := kind
	if kind == "meter" {
		key = "name"
	}
	var name string
	if json.Unmarshal(body[kind][key], &name) != nil {
		return "?"
	}
	return strings.TrimPrefix(name, "@")
}

// synproxyHint says why a SYN proxy leaves the verdict open, and what to
// change.
const synproxyHint = "is not evaluated: the kernel answers the SYN itself and, once the client completes the handshake, " +
	"sends the server a SYN of its own for the connection, which the check does not follow. " +
	"Keep the SYN proxy off the Redis ports, or drop the sources Redis must not see before it"

// historyStmts make the rule depend on traffic already seen.
var historyStmts = map[string]string{"limit": "rate limit", "quota": "byte quota",
	"last": "last-seen time", "ct count": "connection count limit", "connlimit": "connection count limit"}

// harmlessMangle are keys whose rewrite no match of the model reads.
var harmlessMangle = map[string]bool{"meta priority": true, "meta nftrace": true,
	"ip dscp": true, "ip6 dscp": true, "ip ecn": true, "ip6 ecn": true, "ct label": true,
	"ct zone": true, "meta pkttype": false}

// rule compiles one nft rule and appends it to out; pos is its index in
// the chain, origin names it. A rule whose
// statement changes the packet before a later match becomes two rules, so
// the change happens whether or not the later match holds.
func (t *nftTable) rule(out []*eval.Rule, r *nftjson.Rule, pos int, origin string) []*eval.Rule {
	cur := t.b.newRule()
	cur.Origin = origin
	matches := 0
	for _, st := range r.Stmts {
		if _, ok := st.(nftjson.Match); ok {
			matches++
		}
	}
	if matches > 0 {
		cur.Conds = make([]eval.Cond, 0, matches)
	}
	var xtMatches []string
	xtTarget := ""
	undecided := func(why string) {
		cur.Verdict = eval.Verdict{Kind: eval.Undecided, Reason: origin + ": " + why}
	}
loop:
	for _, st := range r.Stmts {
		switch s := st.(type) {
		case nftjson.Match:
			if len(cur.Actions) > 0 {
				pre := &eval.Rule{Origin: origin, Conds: append([]eval.Cond(nil), cur.Conds...), Actions: cur.Actions}
				out = append(out, pre)
				cur.Actions = nil
			}
			cur.Conds = append(cur.Conds, t.match(s, origin))
		case nftjson.Verdict:
			cur.Verdict = t.verdict(nftjson.VerdictExpr{Kind: s.Kind, Target: s.Target}, origin)
			break loop
		case nftjson.VMap:
			cur.Map = t.vmap(s, origin)
			break loop
		case nftjson.Reject:
			// "reject with icmpv6 ..." in an inet table lists without the
			// "meta nfproto ipv6" it implies: the kernel rejects only that
			// family there and the other goes on.
			switch s.Type {
			case "icmp":
				cur.Conds = append(cur.Conds, eval.IsFamily{Family: eval.IPv4})
			case "icmpv6":
				cur.Conds = append(cur.Conds, eval.IsFamily{Family: eval.IPv6})
			}
			cur.Verdict = eval.Verdict{Kind: eval.Reject}
			break loop
		case nftjson.Xt:
			if s.Type == "target" {
				xtTarget = s.Name
				break loop
			}
			xtMatches = append(xtMatches, s.Name)
		case nftjson.Mangle:
			if a, ok := t.mangle(s); ok {
				if a != nil {
					cur.Actions = append(cur.Actions, a)
				}
				continue
			}
			undecided(fmt.Sprintf("rewrites %s, not modelled", exprName(s.Key)))
			break loop
		case nftjson.Notrack:
			cur.Actions = append(cur.Actions, eval.NoTrack{})
		case nftjson.Passive:
		case nftjson.OtherStmt:
			if harmlessStmts[s.Kind] {
				continue
			}
			if s.Kind == "set" || s.Kind == "map" || s.Kind == "meter" {
				// "add @s { ... }", "update @s { ... }" and "meter"
				// (nft -j's name for a dynamic set in the rule) end the rule
				// when the set is full or when a statement of the
				// element ("limit rate over", "ct count over") does not
				// match: the client decides both by the traffic it sends.
				// Only "delete @s { ... }" always goes on.
				if dynsetOp(s.Raw, s.Kind) != "delete" {
					cur.Conds = append(cur.Conds, eval.Choice("while the update of @"+dynsetName(s.Raw, s.Kind)+" succeeds",
						"while the update of @"+dynsetName(s.Raw, s.Kind)+" fails (set full or its element's limit not reached)"))
				}
				continue
			}
			if why, ok := historyStmts[s.Kind]; ok {
				// The client shapes the history: it can stay under a
				// limit or push past it.
				cur.Conds = append(cur.Conds, chosenHistory(why, t.b.stmtInv(s.Raw, s.Kind)))
				continue
			}
			switch s.Kind {
			case "queue":
				undecided("verdict is decided by a user-space program (queue)")
			case "dnat", "snat", "masquerade", "redirect":
				v, err := t.nftNat(s.Kind, s.Raw, origin)
				if err != nil {
					undecided(err.Error())
					break
				}
				cur.Verdict = v
			case "synproxy":
				undecided("synproxy " + synproxyHint)
			case "tproxy", "fwd":
				undecided(s.Kind + " is not evaluated yet")
			default:
				undecided("statement " + s.Kind + " not understood")
			}
			break loop
		default:
			undecided(fmt.Sprintf("statement %T not understood", st))
			break loop
		}
	}
	if len(xtMatches) > 0 || xtTarget != "" {
		if bc := t.b.cur; bc != nil {
			t.applyXt(cur, bc, xtTarget, origin)
		} else {
			t.mergeXt(cur, r, pos, xtMatches, xtTarget, origin)
		}
	}
	cur.Conds = append(cur.Conds, t.hiddenNexthdr(r)...)
	if len(cur.Conds) == 0 {
		cur.Conds = nil
	}
	return append(out, cur)
}

// hiddenNexthdr returns the Next Header comparisons the rule's bytecode
// makes that its JSON does not show (see nftjson.Netlink).
func (t *nftTable) hiddenNexthdr(r *nftjson.Rule) []eval.Cond {
	nl := t.b.src.NFTNetlink.Value
	if nl == nil {
		return nil
	}
	cmps := nl.Nexthdr[nftjson.RuleRef{Family: r.Family, Table: r.Table, Chain: r.Chain, Handle: r.Handle}]
	if len(cmps) == 0 {
		return nil
	}
	var shown []nftjson.NexthdrCmp
	for _, st := range r.Stmts {
		m, ok := st.(nftjson.Match)
		if !ok {
			continue
		}
		p, ok := m.Left.(nftjson.Payload)
		if !ok || p.Protocol != "ip6" || p.Field != "nexthdr" {
			continue
		}
		if v, err := protoValue(m.Right); err == nil && (m.Op == "==" || m.Op == "!=") {
			shown = append(shown, nftjson.NexthdrCmp{Value: v, Neg: m.Op == "!="})
		}
	}
	var out []eval.Cond
	for _, c := range cmps {
		if i := slices.Index(shown, c); i >= 0 {
			shown = slices.Delete(shown, i, i+1)
			continue
		}
		out = append(out, eval.NextHdr{Values: []uint8{c.Value}, Neg: c.Neg})
	}
	return out
}

// match compiles one match statement.
func (t *nftTable) match(m nftjson.Match, origin string) eval.Cond {
	if cc, ok := m.Left.(nftjson.Concat); ok {
		return tracked(t.concatCond(cc, m.Op, m.Right, origin), cc)
	}
	f := leftField(m.Left, t.tableFam)
	return tracked(t.valueCond(f, m.Op, m.Right, origin), m.Left)
}

// tracked wraps a condition on the connection other than its state, for
// chains that run before conntrack (see eval.Tracked).
func tracked(c eval.Cond, keys ...nftjson.Expr) eval.Cond {
	for _, k := range keys {
		if readsConn(k) {
			return eval.Tracked{C: c}
		}
	}
	return c
}

// readsConn tells whether an expression reads the connection beyond its
// state.
func readsConn(e nftjson.Expr) bool {
	switch x := e.(type) {
	case nftjson.Ct:
		return x.Key != "state"
	case nftjson.Binop:
		return readsConn(x.Left)
	case nftjson.Concat:
		for _, k := range x {
			if readsConn(k) {
				return true
			}
		}
	}
	return false
}

// concatCond compiles "a . b OP { x . y, ... }": one conjunction per
// element, joined by a disjunction.
func (t *nftTable) concatCond(keys nftjson.Concat, op string, right nftjson.Expr, origin string) eval.Cond {
	fields := make([]field, len(keys))
	var implied eval.And
	for i, k := range keys {
		fields[i] = leftField(k, t.tableFam)
		implied = append(implied, fields[i].implied()...)
	}
	if op != "==" && op != "!=" && op != "in" {
		return unknown("%s: operator %q on a concatenation not modelled", origin, op)
	}
	vals, err := t.elems(right)
	if err != nil {
		return unknown("%s: concatenation: %v", origin, err)
	}
	or, err := t.concatAlternatives(fields, vals)
	if err != nil {
		return unknown("%s: concatenation: %v", origin, err)
	}
	return append(implied, maybeNot(or, op == "!="))
}

func (t *nftTable) concatAlternatives(fields []field, vals []nftjson.Expr) (eval.Or, error) {
	var or eval.Or
	for _, v := range vals {
		parts, ok := v.(nftjson.Concat)
		if !ok {
			if l, isList := v.(nftjson.List); isList {
				parts = nftjson.Concat(l)
			} else {
				return nil, fmt.Errorf("element %v is not a concatenation", v)
			}
		}
		if len(parts) != len(fields) {
			return nil, fmt.Errorf("element has %d parts, key %d", len(parts), len(fields))
		}
		var and eval.And
		for i, f := range fields {
			if f.kind == kUnknown {
				and = append(and, unknown("%s", f.why))
				continue
			}
			if f.kind == kFalse {
				and = append(and, constCond(eval.False))
				continue
			}
			c, err := t.kindCond(f, "==", false, []nftjson.Expr{parts[i]})
			if err != nil {
				return nil, err
			}
			and = append(and, c)
		}
		or = append(or, and)
	}
	return or, nil
}

// verdict compiles a verdict, resolving chain names in the table.
func (t *nftTable) verdict(v nftjson.VerdictExpr, origin string) eval.Verdict {
	switch v.Kind {
	case "accept":
		return eval.Verdict{Kind: eval.Accept}
	case "drop":
		return eval.Verdict{Kind: eval.Drop}
	case "continue":
		return eval.Verdict{Kind: eval.Continue}
	case "return":
		return eval.Verdict{Kind: eval.Return}
	case "jump", "goto":
		c := t.chains[v.Target]
		if c == nil {
			return eval.Verdict{Kind: eval.Undecided, Reason: origin + ": " + v.Kind + " to missing chain " + v.Target}
		}
		k := eval.Jump
		if v.Kind == "goto" {
			k = eval.Goto
		}
		return eval.Verdict{Kind: k, Target: c}
	}
	return eval.Verdict{Kind: eval.Undecided, Reason: origin + ": verdict " + v.Kind + " not understood"}
}

// vmap compiles a verdict map lookup.
func (t *nftTable) vmap(m nftjson.VMap, origin string) *eval.VerdictMap {
	fail := func(format string, args ...any) *eval.VerdictMap {
		return &eval.VerdictMap{Entries: []eval.MapEntry{{
			Cond:    constCond(eval.True),
			Verdict: eval.Verdict{Kind: eval.Undecided, Reason: origin + ": verdict map: " + fmt.Sprintf(format, args...)},
		}}}
	}
	var pairs []nftjson.Expr
	switch d := m.Data.(type) {
	case nftjson.AnonSet:
		pairs = d
	case nftjson.SetRef:
		s := t.sets[d.Name]
		if s == nil || !s.IsMap() {
			return fail("map @%s not found", d.Name)
		}
		if t.dynamic[d.Name] || s.HasFlag("dynamic") {
			return fail("map @%s is filled by rules from past traffic", d.Name)
		}
		pairs = s.Elems
	default:
		return fail("data %v not modelled", m.Data)
	}
	var keyFields []field
	if cc, ok := m.Key.(nftjson.Concat); ok {
		for _, k := range cc {
			keyFields = append(keyFields, leftField(k, t.tableFam))
		}
	} else {
		keyFields = []field{leftField(m.Key, t.tableFam)}
	}
	var implied eval.And
	for _, f := range keyFields {
		implied = append(implied, f.implied()...)
	}
	vm := &eval.VerdictMap{}
	for _, p := range pairs {
		l, ok := p.(nftjson.List)
		if !ok || len(l) != 2 {
			return fail("element %v is not a key and a verdict", p)
		}
		ve, ok := l[1].(nftjson.VerdictExpr)
		if !ok {
			return fail("value %v is not a verdict", l[1])
		}
		keys, err := t.elems(l[0])
		if err != nil {
			return fail("%v", err)
		}
		var c eval.Cond
		if len(keyFields) == 1 {
			f := keyFields[0]
			switch f.kind {
			case kUnknown:
				c = unknown("%s: verdict map key: %s", origin, f.why)
			case kFalse:
				c = constCond(eval.False)
			default:
				c, err = t.kindCond(f, "==", false, keys)
			}
		} else {
			c, err = t.concatAlternatives(keyFields, keys)
		}
		if err != nil {
			return fail("%v", err)
		}
		if len(implied) > 0 {
			c = append(append(eval.And(nil), implied...), c)
		}
		c = tracked(c, m.Key)
		vm.Entries = append(vm.Entries, eval.MapEntry{Cond: c, Verdict: t.verdict(ve, origin)})
	}
	return vm
}

// mangle compiles "KEY set VALUE". ok=false means the rewrite is not
// understood; a nil action with ok=true is a harmless rewrite.
func (t *nftTable) mangle(m nftjson.Mangle) (eval.Action, bool) {
	name := exprName(m.Key)
	if harmlessMangle[name] {
		return nil, true
	}
	conn := false
	switch k := m.Key.(type) {
	case nftjson.Meta:
		if k.Key != "mark" {
			return nil, false
		}
	case nftjson.Ct:
		if k.Key != "mark" {
			return nil, false
		}
		conn = true
	default:
		return nil, false
	}
	switch v := m.Value.(type) {
	case nftjson.Literal:
		if v.IsNum {
			return eval.SetMark{Conn: conn, Mask: 0xffffffff, Xor: uint32(v.Num)}, true
		}
	case nftjson.Meta:
		if v.Key == "mark" && conn {
			return eval.CopyMark{ToConn: true}, true
		}
	case nftjson.Ct:
		if v.Key == "mark" && !conn {
			return eval.CopyMark{}, true
		}
	}
	return eval.OpaqueMark{Conn: conn}, true
}
