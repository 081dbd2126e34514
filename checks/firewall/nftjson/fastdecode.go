package nftjson

import (
	"encoding/json"
	"strconv"
	"strings"
)

// parseFast decodes a dump with the single-pass reader. Every decision
// below mirrors parseStd and the encoding/json rules it relies on; where
// mirroring them would take more than a few lines, it gives up instead.
func parseFast(text string) (*Ruleset, bool) {
	p := newScanner(text)
	rs := &Ruleset{}
	lines := lineCounter{s: text, line: 1}
	p.ws()
	if p.i >= len(text) || text[p.i] != '{' {
		return nil, false
	}
	p.i++
	found := false
	for {
		p.ws()
		if p.i >= len(text) || text[p.i] != '"' {
			return nil, false
		}
		key, ok := p.str()
		if !ok || key.kind != jStr {
			return nil, false
		}
		p.ws()
		if p.i >= len(text) || text[p.i] != ':' {
			return nil, false
		}
		p.i++
		if key.text() == "nftables" {
			found = true
			if !p.items(rs, &lines) {
				return nil, false
			}
		} else if _, ok := p.value(); !ok {
			return nil, false
		}
		p.ws()
		if p.i < len(text) && text[p.i] == ',' {
			p.i++
			continue
		}
		if p.i >= len(text) || text[p.i] != '}' {
			return nil, false
		}
		p.i++
		break
	}
	p.ws()
	if p.i != len(text) || !found {
		return nil, false
	}
	return rs, true
}

// items reads the "nftables" array, decoding each item as soon as it is
// read: its nodes are then dead, and their block is reused.
func (p *scanner) items(rs *Ruleset, lines *lineCounter) bool {
	p.ws()
	if p.i >= len(p.s) || p.s[p.i] != '[' {
		return false
	}
	p.i++
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return true
	}
	for {
		p.ws()
		off := p.i
		item, ok := p.value()
		if !ok || !rs.addFast(&item, lines.at(off)) {
			return false
		}
		p.kids = p.kids[:0]
		p.ws()
		if p.i >= len(p.s) {
			return false
		}
		if p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.s[p.i] != ']' {
			return false
		}
		p.i++
		return true
	}
}

// lineCounter gives the line of increasing offsets.
type lineCounter struct {
	s    string
	off  int
	line int
}

func (l *lineCounter) at(off int) int {
	l.line += strings.Count(l.s[l.off:off], "\n")
	l.off = off
	return l.line
}

// The fields encoding/json fills for the structs of parseStd.
var (
	metainfoFields = []string{"json_schema_version"}
	tableFields    = []string{"family", "name", "handle"}
	chainFields    = []string{"family", "table", "name", "handle", "type", "hook", "prio", "policy", "dev"}
	setFields      = []string{"family", "table", "name", "type", "map", "flags", "elem"}
	ruleFields     = []string{"family", "table", "chain", "handle", "expr"}
	matchFields    = []string{"op", "left", "right"}
	targetFields   = []string{"target"}
	keyDataFields  = []string{"key", "data"}
	keyValueFields = []string{"key", "value"}
	xtFields       = []string{"type", "name"}
)

// fields finds the members of an object that encoding/json would store in
// a struct with the named fields. It gives up on a key that differs from
// a field name only in case (encoding/json would use it), and on a value
// that is neither an object nor null (encoding/json reports an error).
var rejectFields = []string{"type"}

func fields(n *jnode, names []string, out []*jnode) bool {
	switch n.kind {
	case jNull:
		return true
	case jObj:
	default:
		return false
	}
	for i := 0; i < len(n.kids); i += 2 {
		key := n.kids[i].raw[1 : len(n.kids[i].raw)-1]
		for j, name := range names {
			if key == name {
				out[j] = &n.kids[i+1]
				break
			}
			if strings.EqualFold(key, name) {
				return false
			}
		}
	}
	return true
}

// strField is a string struct field: absent or null leaves it empty.
func strField(n *jnode) (string, bool) {
	switch {
	case n == nil || n.kind == jNull:
		return "", true
	case n.isStr():
		return n.text(), true
	}
	return "", false
}

// intField is an integer struct field.
func intField(n *jnode) (int64, bool) {
	switch {
	case n == nil || n.kind == jNull:
		return 0, true
	case n.kind == jNum:
		v, err := strconv.ParseInt(n.raw, 10, 64)
		return v, err == nil
	}
	return 0, false
}

// rawField is a json.RawMessage struct field.
func rawField(n *jnode) json.RawMessage {
	if n == nil {
		return nil
	}
	return json.RawMessage(n.raw)
}

// strListNode is strList of the value decoded into an interface.
func strListNode(n *jnode) []string {
	switch {
	case n == nil:
		return nil
	case n.isStr():
		return []string{n.text()}
	case n.kind == jArr:
		var out []string
		for i := range n.kids {
			if !n.kids[i].isStr() {
				var v any
				_ = json.Unmarshal([]byte(n.raw), &v)
				return strList(v)
			}
			out = append(out, n.kids[i].text())
		}
		return out
	}
	return nil
}

func (rs *Ruleset) addFast(n *jnode, line int) bool {
	if n.kind != jObj || len(n.kids) != 2 {
		return false
	}
	kind, body := n.kids[0].text(), &n.kids[1]
	switch kind {
	case "metainfo":
		var f [1]*jnode
		if !fields(body, metainfoFields, f[:]) {
			return false
		}
		v, ok := intField(f[0])
		if !ok {
			return false
		}
		rs.SchemaVersion = int(v)
	case "table":
		var f [3]*jnode
		if !fields(body, tableFields, f[:]) {
			return false
		}
		fam, ok1 := strField(f[0])
		name, ok2 := strField(f[1])
		h, ok3 := intField(f[2])
		if !ok1 || !ok2 || !ok3 || fam == "" || name == "" {
			return false
		}
		rs.Tables = append(rs.Tables, &Table{Family: fam, Name: name, Handle: h, Line: line})
	case "chain":
		var f [9]*jnode
		if !fields(body, chainFields, f[:]) {
			return false
		}
		ch := &Chain{Line: line}
		var ok [7]bool
		ch.Family, ok[0] = strField(f[0])
		ch.Table, ok[1] = strField(f[1])
		ch.Name, ok[2] = strField(f[2])
		ch.Handle, ok[3] = intField(f[3])
		ch.Type, ok[4] = strField(f[4])
		ch.Hook, ok[5] = strField(f[5])
		ch.Policy, ok[6] = strField(f[7])
		if ok != [7]bool{true, true, true, true, true, true, true} || ch.Family == "" || ch.Table == "" || ch.Name == "" {
			return false
		}
		prio, okPrio := intField(f[6])
		if !okPrio {
			return false
		}
		if ch.Hook != "" {
			if f[6] == nil || f[6].kind == jNull {
				return false // base chain without a priority
			}
			ch.Prio = int(prio)
		}
		if f[8] != nil {
			ch.Devices = strListNode(f[8])
		}
		rs.Chains = append(rs.Chains, ch)
	case "set", "map":
		var f [7]*jnode
		if !fields(body, setFields, f[:]) {
			return false
		}
		set := &Set{Line: line}
		var ok1, ok2, ok3 bool
		set.Family, ok1 = strField(f[0])
		set.Table, ok2 = strField(f[1])
		set.Name, ok3 = strField(f[2])
		if !ok1 || !ok2 || !ok3 || set.Family == "" || set.Table == "" || set.Name == "" {
			return false
		}
		set.Type = strListNode(f[3])
		set.Map = strListNode(f[4])
		set.Flags = strListNode(f[5])
		if kind == "map" && len(set.Map) == 0 {
			return false
		}
		if f[6] != nil {
			items, ok := listOfNode(f[6])
			if !ok {
				return false
			}
			set.Elems = items
		}
		rs.Sets = append(rs.Sets, set)
	case "rule":
		var f [5]*jnode
		if !fields(body, ruleFields, f[:]) {
			return false
		}
		r := &Rule{Line: line}
		var ok [4]bool
		r.Family, ok[0] = strField(f[0])
		r.Table, ok[1] = strField(f[1])
		r.Chain, ok[2] = strField(f[2])
		r.Handle, ok[3] = intField(f[3])
		if ok != [4]bool{true, true, true, true} || r.Family == "" || r.Table == "" || r.Chain == "" {
			return false
		}
		if e := f[4]; e != nil && e.kind != jNull {
			if e.kind != jArr {
				return false
			}
			if len(e.kids) > 0 {
				r.Stmts = make([]Stmt, 0, len(e.kids))
			}
			for i := range e.kids {
				st, ok := decodeStmtNode(&e.kids[i])
				if !ok {
					return false
				}
				r.Stmts = append(r.Stmts, st)
			}
		}
		rs.Rules = append(rs.Rules, r)
	default:
		rs.Others = append(rs.Others, Other{Kind: kind, Raw: rawField(body), Line: line})
	}
	return true
}

// decodeStmtNode is decodeStmt over a node.
func decodeStmtNode(n *jnode) (Stmt, bool) {
	switch n.kind {
	case jNull:
		return OtherStmt{Kind: "object", Raw: rawField(n)}, true
	case jObj:
	default:
		return nil, false
	}
	if len(n.kids) != 2 {
		return OtherStmt{Kind: "object", Raw: rawField(n)}, true
	}
	k, body := n.kids[0].text(), &n.kids[1]
	switch {
	case k == "match":
		var f [3]*jnode
		if !fields(body, matchFields, f[:]) || f[1] == nil || f[2] == nil {
			return nil, false
		}
		op, ok := strField(f[0])
		if !ok {
			return nil, false
		}
		l, ok1 := toExprNode(f[1], true)
		r, ok2 := toExprNode(f[2], true)
		if !ok1 || !ok2 {
			return nil, false
		}
		if op == "" {
			op = "=="
		}
		return Match{Op: op, Left: l, Right: r}, true
	case verdictKinds[k]:
		// parseStd ignores the error of decoding the body: any value
		// other than an object leaves the target empty.
		v := Verdict{Kind: k}
		if body.kind == jObj {
			var f [1]*jnode
			if !fields(body, targetFields, f[:]) {
				return nil, false
			}
			if f[0] != nil && f[0].isStr() {
				v.Target = f[0].text()
			}
		}
		if (k == "jump" || k == "goto") && v.Target == "" {
			return nil, false
		}
		return v, true
	case k == "vmap" || k == "mangle":
		names := keyDataFields
		if k == "mangle" {
			names = keyValueFields
		}
		var f [2]*jnode
		if !fields(body, names, f[:]) || f[0] == nil || f[1] == nil {
			return nil, false
		}
		key, ok1 := toExprNode(f[0], true)
		val, ok2 := toExprNode(f[1], true)
		if !ok1 || !ok2 {
			return nil, false
		}
		if k == "vmap" {
			return VMap{Key: key, Data: val}, true
		}
		return Mangle{Key: key, Value: val}, true
	case k == "xt":
		var f [2]*jnode
		if !fields(body, xtFields, f[:]) {
			return nil, false
		}
		typ, ok1 := strField(f[0])
		name, ok2 := strField(f[1])
		if !ok1 || !ok2 {
			return nil, false
		}
		return Xt{Type: typ, Name: name}, true
	case k == "reject":
		var f [1]*jnode
		if !fields(body, rejectFields, f[:]) {
			return nil, false
		}
		typ, ok := strField(f[0])
		if !ok {
			return nil, false
		}
		return Reject{Type: typ}, true
	case k == "notrack":
		return Notrack{}, true
	case passiveKinds[k]:
		return Passive{Kind: k}, true
	}
	return OtherStmt{Kind: k, Raw: rawField(n)}, true
}

// toExprNode is toExpr over a node; top says the node is a whole struct
// field, whose text toExpr keeps as is for an unmodelled expression.
func toExprNode(n *jnode, top bool) (Expr, bool) {
	switch n.kind {
	case jNull:
		return Literal{Null: true}, true
	case jTrue:
		return Literal{Str: "true"}, true
	case jFalse:
		return Literal{Str: "false"}, true
	case jNum:
		x, err := strconv.ParseFloat(n.raw, 64)
		if err != nil {
			return nil, false
		}
		v := int64(x)
		if float64(v) != x {
			return nil, false
		}
		return Literal{Num: v, IsNum: true}, true
	case jStr, jStrEsc:
		s := n.text()
		if len(s) > 1 && s[0] == '@' {
			return SetRef{Name: s[1:]}, true
		}
		return Literal{Str: s}, true
	case jArr:
		l := make(List, 0, len(n.kids))
		for i := range n.kids {
			e, ok := toExprNode(&n.kids[i], false)
			if !ok {
				return nil, false
			}
			l = append(l, e)
		}
		return l, true
	case jObj:
		if len(n.kids) != 2 {
			return OtherExpr{Kind: "object", Raw: remarshalNode(n, top)}, true
		}
		return objExprNode(n.kids[0].text(), &n.kids[1], n, top)
	}
	return nil, false
}

// remarshalNode is remarshal: the text of a whole field, or the value
// encoded again by encoding/json.
func remarshalNode(n *jnode, top bool) json.RawMessage {
	if top {
		return rawField(n)
	}
	var v any
	_ = json.Unmarshal([]byte(n.raw), &v)
	b, _ := json.Marshal(v)
	return b
}

// strOf is str: the value of a string node, else "".
func strOf(n *jnode) string {
	if n != nil && n.isStr() {
		return n.text()
	}
	return ""
}

// numOf is num over a node.
func numOf(n *jnode) (int64, bool) {
	if n == nil || n.kind != jNum {
		return 0, false
	}
	x, err := strconv.ParseFloat(n.raw, 64)
	if err != nil {
		return 0, false
	}
	return int64(x), float64(int64(x)) == x
}

// listOfNode is listOf over a node.
func listOfNode(n *jnode) ([]Expr, bool) {
	if n.kind != jArr {
		e, ok := toExprNode(n, false)
		return []Expr{e}, ok
	}
	out := make([]Expr, 0, len(n.kids))
	for i := range n.kids {
		e, ok := toExprNode(&n.kids[i], false)
		if !ok {
			return nil, false
		}
		out = append(out, e)
	}
	return out, true
}

func objExprNode(k string, body, whole *jnode, top bool) (Expr, bool) {
	obj := body
	if body.kind != jObj {
		obj = nil
	}
	switch k {
	case "set":
		items, ok := listOfNode(body)
		return AnonSet(items), ok
	case "prefix":
		if obj == nil {
			return nil, false
		}
		n, ok := numOf(obj.member("len"))
		addr := obj.member("addr")
		if !ok || addr == nil || !addr.isStr() {
			return nil, false
		}
		return Prefix{Addr: addr.text(), Len: int(n)}, true
	case "range":
		items, ok := listOfNode(body)
		if !ok || len(items) != 2 {
			return nil, false
		}
		return Range{Lo: items[0], Hi: items[1]}, true
	case "payload":
		if obj == nil {
			return nil, false
		}
		p := Payload{Protocol: strOf(obj.member("protocol")), Field: strOf(obj.member("field")), Base: strOf(obj.member("base"))}
		p.Offset, _ = numOf(obj.member("offset"))
		p.Len, _ = numOf(obj.member("len"))
		return p, true
	case "meta":
		if obj == nil {
			return nil, false
		}
		return Meta{Key: strOf(obj.member("key"))}, true
	case "ct":
		if obj == nil {
			return nil, false
		}
		return Ct{Key: strOf(obj.member("key")), Dir: strOf(obj.member("dir")), Family: strOf(obj.member("family"))}, true
	case "fib":
		if obj == nil {
			return nil, false
		}
		return Fib{Result: strOf(obj.member("result")), Flags: strListNode(obj.member("flags"))}, true
	case "&", "|", "^", "<<", ">>":
		items, ok := listOfNode(body)
		if !ok || len(items) != 2 {
			return nil, false
		}
		return Binop{Op: k, Left: items[0], Right: items[1]}, true
	case "concat":
		items, ok := listOfNode(body)
		return Concat(items), ok
	case "elem":
		if obj == nil {
			return nil, false
		}
		val := Expr(Literal{Null: true})
		if v := obj.member("val"); v != nil {
			var ok bool
			if val, ok = toExprNode(v, false); !ok {
				return nil, false
			}
		}
		return Elem{Val: val}, true
	}
	if verdictKinds[k] {
		ve := VerdictExpr{Kind: k}
		if obj != nil {
			ve.Target = strOf(obj.member("target"))
		}
		if (k == "jump" || k == "goto") && ve.Target == "" {
			return nil, false
		}
		return ve, true
	}
	return OtherExpr{Kind: k, Raw: remarshalNode(whole, top)}, true
}
