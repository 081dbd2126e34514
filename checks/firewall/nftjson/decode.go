package nftjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// decode reads a whole dump: {"nftables": [item, ...]}, other members
// checked as JSON and skipped. Each item is decoded as soon as it is
// read: its nodes are then dead, and their block is reused.
func decode(text string) (*Ruleset, error) {
	p := newScanner(text)
	rs := &Ruleset{}
	lines := lineCounter{s: text, line: 1}
	fail := func() (*Ruleset, error) {
		return nil, &SyntaxError{Line: lines.at(p.errOff), Offset: int64(p.errOff), Err: p.err}
	}
	shape := func(format string, args ...any) (*Ruleset, error) {
		p.failWith(ErrShape, format, args...)
		return fail()
	}
	p.ws()
	if p.i >= len(text) || text[p.i] != '{' {
		return shape("the dump is not a JSON object")
	}
	p.i++
	found := false
	p.ws()
	if p.i < len(text) && text[p.i] == '}' {
		p.i++
	} else {
		for {
			p.ws()
			if p.i >= len(text) || text[p.i] != '"' {
				p.fail("invalid character %s looking for an object key", p.found())
				return fail()
			}
			keyAt := p.i
			key, ok := p.str()
			if !ok {
				return fail()
			}
			if key.kind != jStr {
				p.i = keyAt
				p.unusual("escaped or non-ASCII key %s", key.raw)
				return fail()
			}
			p.ws()
			if p.i >= len(text) || text[p.i] != ':' {
				p.fail("invalid character %s after an object key", p.found())
				return fail()
			}
			p.i++
			if key.text() == "nftables" {
				found = true
				if !p.items(rs, &lines) {
					return fail()
				}
			} else if _, ok := p.value(); !ok {
				return fail()
			}
			p.ws()
			if p.i < len(text) && text[p.i] == ',' {
				p.i++
				continue
			}
			if p.i >= len(text) || text[p.i] != '}' {
				p.fail("invalid character %s after an object value", p.found())
				return fail()
			}
			p.i++
			break
		}
	}
	p.ws()
	if p.i != len(text) {
		return shape("data after the ruleset")
	}
	if !found {
		p.i = 0
		return shape("no \"nftables\" array")
	}
	return rs, nil
}

// items reads the "nftables" array.
func (p *scanner) items(rs *Ruleset, lines *lineCounter) bool {
	p.ws()
	if p.i >= len(p.s) || p.s[p.i] != '[' {
		p.failWith(ErrShape, "\"nftables\" is not an array")
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
		if !ok {
			return false
		}
		if err := rs.addItem(&item, lines.at(off)); err != nil {
			// A shape error is located at the item.
			p.err, p.errOff = err, off
			return false
		}
		p.kids = p.kids[:0]
		p.ws()
		if p.i >= len(p.s) {
			p.fail("unexpected end of input in the \"nftables\" array")
			return false
		}
		if p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.s[p.i] != ']' {
			p.fail("invalid character %s after an array element", p.found())
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
	if off < l.off {
		l.off, l.line = 0, 1
	}
	l.line += strings.Count(l.s[l.off:off], "\n")
	l.off = off
	return l.line
}

// The members read of each object; others are ignored.
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
	rejectFields   = []string{"type"}
)

// errNotObject is what fields says of a value that is neither an object
// nor null; callers name what they expected.
var errNotObject = errors.New("not an object")

// fields finds the members of an object by name. A key that differs from
// a name only in case is unusual: encoding/json would have taken it.
func fields(n *jnode, names []string, out []*jnode) error {
	switch n.kind {
	case jNull:
		return nil
	case jObj:
	default:
		return errNotObject
	}
	for i := 0; i < len(n.kids); i += 2 {
		key := n.kids[i].raw[1 : len(n.kids[i].raw)-1]
		for j, name := range names {
			if key == name {
				out[j] = &n.kids[i+1]
				break
			}
			if strings.EqualFold(key, name) {
				return fmt.Errorf("%w: key %q for %q", ErrUnusual, key, name)
			}
		}
	}
	return nil
}

// shapeErr is err when it is unusual JSON, else ErrShape with msg.
func shapeErr(err error, format string, args ...any) error {
	if errors.Is(err, ErrUnusual) {
		return err
	}
	return fmt.Errorf("%w: "+format, append([]any{ErrShape}, args...)...)
}

// strField is a string member: absent or null leaves it empty.
func strField(n *jnode) (string, bool) {
	switch {
	case n == nil || n.kind == jNull:
		return "", true
	case n.isStr():
		return n.text(), true
	}
	return "", false
}

// intField is an integer member: absent or null is 0.
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

// rawField is a member's text.
func rawField(n *jnode) json.RawMessage {
	if n == nil {
		return nil
	}
	return json.RawMessage(n.raw)
}

// strListNode reads a string or a list (other elements as JSON text).
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

// addItem decodes one item of the "nftables" array.
func (rs *Ruleset) addItem(n *jnode, line int) error {
	if n.kind != jObj {
		return fmt.Errorf("%w: ruleset item is not an object", ErrShape)
	}
	if len(n.kids) != 2 {
		return fmt.Errorf("%w: ruleset item has %d keys", ErrShape, len(n.kids)/2)
	}
	kind, body := n.kids[0].text(), &n.kids[1]
	switch kind {
	case "metainfo":
		var f [1]*jnode
		if err := fields(body, metainfoFields, f[:]); err != nil {
			return shapeErr(err, "metainfo is not an object")
		}
		v, ok := intField(f[0])
		if !ok {
			return fmt.Errorf("%w: metainfo: json_schema_version is not an integer", ErrShape)
		}
		rs.SchemaVersion = int(v)
	case "table":
		var f [3]*jnode
		err := fields(body, tableFields, f[:])
		fam, ok1 := strField(f[0])
		name, ok2 := strField(f[1])
		h, ok3 := intField(f[2])
		if err != nil || !ok1 || !ok2 || !ok3 || fam == "" || name == "" {
			return shapeErr(err, "table needs family and name")
		}
		rs.Tables = append(rs.Tables, &Table{Family: fam, Name: name, Handle: h, Line: line})
	case "chain":
		var f [9]*jnode
		err := fields(body, chainFields, f[:])
		ch := &Chain{Line: line}
		var ok [8]bool
		ch.Family, ok[0] = strField(f[0])
		ch.Table, ok[1] = strField(f[1])
		ch.Name, ok[2] = strField(f[2])
		ch.Handle, ok[3] = intField(f[3])
		ch.Type, ok[4] = strField(f[4])
		ch.Hook, ok[5] = strField(f[5])
		ch.Policy, ok[6] = strField(f[7])
		prio, okPrio := intField(f[6])
		ok[7] = okPrio
		if err != nil || ok != [8]bool{true, true, true, true, true, true, true, true} || ch.Family == "" || ch.Table == "" || ch.Name == "" {
			return shapeErr(err, "chain needs family, table and name")
		}
		if ch.Hook != "" {
			if f[6] == nil || f[6].kind == jNull {
				return fmt.Errorf("%w: base chain %s without a priority", ErrShape, ch.Name)
			}
			ch.Prio = int(prio)
		}
		if f[8] != nil {
			ch.Devices = strListNode(f[8])
		}
		rs.Chains = append(rs.Chains, ch)
	case "set", "map":
		var f [7]*jnode
		err := fields(body, setFields, f[:])
		set := &Set{Line: line}
		var ok1, ok2, ok3 bool
		set.Family, ok1 = strField(f[0])
		set.Table, ok2 = strField(f[1])
		set.Name, ok3 = strField(f[2])
		if err != nil || !ok1 || !ok2 || !ok3 || set.Family == "" || set.Table == "" || set.Name == "" {
			return shapeErr(err, "%s needs family, table and name", kind)
		}
		set.Type = strListNode(f[3])
		set.Map = strListNode(f[4])
		set.Flags = strListNode(f[5])
		if kind == "map" && len(set.Map) == 0 {
			return fmt.Errorf("%w: map %s without a value type", ErrShape, set.Name)
		}
		if f[6] != nil {
			items, err := listOfNode(f[6])
			if err != nil {
				return fmt.Errorf("set %s: %w", set.Name, err)
			}
			set.Elems = items
		}
		rs.Sets = append(rs.Sets, set)
	case "rule":
		var f [5]*jnode
		err := fields(body, ruleFields, f[:])
		r := &Rule{Line: line}
		var ok [4]bool
		r.Family, ok[0] = strField(f[0])
		r.Table, ok[1] = strField(f[1])
		r.Chain, ok[2] = strField(f[2])
		r.Handle, ok[3] = intField(f[3])
		e := f[4]
		if err != nil || ok != [4]bool{true, true, true, true} || r.Family == "" || r.Table == "" || r.Chain == "" ||
			(e != nil && e.kind != jNull && e.kind != jArr) {
			return shapeErr(err, "rule needs family, table and chain")
		}
		if e != nil && len(e.kids) > 0 {
			r.Stmts = make([]Stmt, 0, len(e.kids))
			for i := range e.kids {
				st, err := decodeStmtNode(&e.kids[i])
				if err != nil {
					return fmt.Errorf("rule %s %s %s handle %d: %w", r.Family, r.Table, r.Chain, r.Handle, err)
				}
				r.Stmts = append(r.Stmts, st)
			}
		}
		rs.Rules = append(rs.Rules, r)
	default:
		rs.Others = append(rs.Others, Other{Kind: kind, Raw: rawField(body), Line: line})
	}
	return nil
}

// passiveKinds never change whether a packet is accepted.
var passiveKinds = map[string]bool{"counter": true, "log": true}

// decodeStmtNode decodes one statement.
func decodeStmtNode(n *jnode) (Stmt, error) {
	switch n.kind {
	case jNull:
		return OtherStmt{Kind: "object", Raw: rawField(n)}, nil
	case jObj:
	default:
		return nil, fmt.Errorf("%w: statement is not an object", ErrShape)
	}
	if len(n.kids) != 2 {
		return OtherStmt{Kind: "object", Raw: rawField(n)}, nil
	}
	k, body := n.kids[0].text(), &n.kids[1]
	switch {
	case k == "match":
		var f [3]*jnode
		err := fields(body, matchFields, f[:])
		op, ok := strField(f[0])
		if err != nil || !ok || f[1] == nil || f[2] == nil {
			return nil, shapeErr(err, "match needs op, left and right")
		}
		l, err := toExprNode(f[1], true)
		if err != nil {
			return nil, err
		}
		r, err := toExprNode(f[2], true)
		if err != nil {
			return nil, err
		}
		if op == "" {
			op = "=="
		}
		return Match{Op: op, Left: l, Right: r}, nil
	case verdictKinds[k]:
		// Any body other than an object (null for accept, drop, ...)
		// leaves the target empty.
		v := Verdict{Kind: k}
		if body.kind == jObj {
			var f [1]*jnode
			if err := fields(body, targetFields, f[:]); err != nil {
				return nil, err
			}
			if f[0] != nil && f[0].isStr() {
				v.Target = f[0].text()
			}
		}
		if (k == "jump" || k == "goto") && v.Target == "" {
			return nil, fmt.Errorf("%w: %s without a target", ErrShape, k)
		}
		return v, nil
	case k == "vmap" || k == "mangle":
		names, second := keyDataFields, "data"
		if k == "mangle" {
			names, second = keyValueFields, "value"
		}
		var f [2]*jnode
		if err := fields(body, names, f[:]); err != nil || f[0] == nil || f[1] == nil {
			return nil, shapeErr(err, "%s needs key and %s", k, second)
		}
		key, err := toExprNode(f[0], true)
		if err != nil {
			return nil, err
		}
		val, err := toExprNode(f[1], true)
		if err != nil {
			return nil, err
		}
		if k == "vmap" {
			return VMap{Key: key, Data: val}, nil
		}
		return Mangle{Key: key, Value: val}, nil
	case k == "xt":
		var f [2]*jnode
		err := fields(body, xtFields, f[:])
		typ, ok1 := strField(f[0])
		name, ok2 := strField(f[1])
		if err != nil || !ok1 || !ok2 {
			return nil, shapeErr(err, "xt is not an object")
		}
		return Xt{Type: typ, Name: name}, nil
	case k == "reject":
		// A body that is not {"type": "..."} leaves the type empty.
		var f [1]*jnode
		if err := fields(body, rejectFields, f[:]); errors.Is(err, ErrUnusual) {
			return nil, err
		}
		typ, _ := strField(f[0])
		return Reject{Type: typ}, nil
	case k == "notrack":
		return Notrack{}, nil
	case passiveKinds[k]:
		return Passive{Kind: k}, nil
	}
	return OtherStmt{Kind: k, Raw: rawField(n)}, nil
}

// verdictKinds are the verdicts nft writes as {"kind": ...}.
var verdictKinds = map[string]bool{"accept": true, "drop": true, "continue": true,
	"return": true, "jump": true, "goto": true}

// toExprNode decodes an expression; top says the node is a whole member,
// whose text is kept as is for an expression not modelled.
func toExprNode(n *jnode, top bool) (Expr, error) {
	switch n.kind {
	case jNull:
		return Literal{Null: true}, nil
	case jTrue:
		return Literal{Str: "true"}, nil
	case jFalse:
		return Literal{Str: "false"}, nil
	case jNum:
		x, err := strconv.ParseFloat(n.raw, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: number %.20s out of range", ErrUnusual, n.raw)
		}
		v := int64(x)
		if float64(v) != x {
			return nil, fmt.Errorf("%w: non-integer number %v", ErrShape, x)
		}
		return Literal{Num: v, IsNum: true}, nil
	case jStr, jStrEsc:
		s := n.text()
		if len(s) > 1 && s[0] == '@' {
			return SetRef{Name: s[1:]}, nil
		}
		return Literal{Str: s}, nil
	case jArr:
		l := make(List, 0, len(n.kids))
		for i := range n.kids {
			e, err := toExprNode(&n.kids[i], false)
			if err != nil {
				return nil, err
			}
			l = append(l, e)
		}
		return l, nil
	}
	if len(n.kids) != 2 {
		return OtherExpr{Kind: "object", Raw: remarshalNode(n, top)}, nil
	}
	return objExprNode(n.kids[0].text(), &n.kids[1], n, top)
}

// remarshalNode is the text of a whole member, or the value encoded
// again by encoding/json (its keys sorted, blanks dropped).
func remarshalNode(n *jnode, top bool) json.RawMessage {
	if top {
		return rawField(n)
	}
	var v any
	_ = json.Unmarshal([]byte(n.raw), &v)
	b, _ := json.Marshal(v)
	return b
}

// strOf is the value of a string node, else "".
func strOf(n *jnode) string {
	if n != nil && n.isStr() {
		return n.text()
	}
	return ""
}

// numOf is the value of an integer node.
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

// listOfNode reads a list, or a single value as a list of one.
func listOfNode(n *jnode) ([]Expr, error) {
	if n.kind != jArr {
		e, err := toExprNode(n, false)
		if err != nil {
			return nil, err
		}
		return []Expr{e}, nil
	}
	out := make([]Expr, 0, len(n.kids))
	for i := range n.kids {
		e, err := toExprNode(&n.kids[i], false)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func objExprNode(k string, body, whole *jnode, top bool) (Expr, error) {
	obj := body
	if body.kind != jObj {
		obj = nil
	}
	notObject := func() (Expr, error) { return nil, fmt.Errorf("%w: %s is not an object", ErrShape, k) }
	switch k {
	case "set":
		items, err := listOfNode(body)
		if err != nil {
			return nil, err
		}
		return AnonSet(items), nil
	case "prefix":
		if obj == nil {
			return notObject()
		}
		n, ok := numOf(obj.member("len"))
		addr := obj.member("addr")
		if !ok || addr == nil || !addr.isStr() {
			return nil, fmt.Errorf("%w: prefix needs addr and len", ErrShape)
		}
		return Prefix{Addr: addr.text(), Len: int(n)}, nil
	case "range":
		items, err := listOfNode(body)
		if err != nil {
			return nil, err
		}
		if len(items) != 2 {
			return nil, fmt.Errorf("%w: range needs two values", ErrShape)
		}
		return Range{Lo: items[0], Hi: items[1]}, nil
	case "payload":
		if obj == nil {
			return notObject()
		}
		p := Payload{Protocol: strOf(obj.member("protocol")), Field: strOf(obj.member("field")), Base: strOf(obj.member("base"))}
		p.Offset, _ = numOf(obj.member("offset"))
		p.Len, _ = numOf(obj.member("len"))
		return p, nil
	case "meta":
		if obj == nil {
			return notObject()
		}
		return Meta{Key: strOf(obj.member("key"))}, nil
	case "ct":
		if obj == nil {
			return notObject()
		}
		return Ct{Key: strOf(obj.member("key")), Dir: strOf(obj.member("dir")), Family: strOf(obj.member("family"))}, nil
	case "fib":
		if obj == nil {
			return notObject()
		}
		return Fib{Result: strOf(obj.member("result")), Flags: strListNode(obj.member("flags"))}, nil
	case "&", "|", "^", "<<", ">>":
		items, err := listOfNode(body)
		if err != nil {
			return nil, err
		}
		if len(items) != 2 {
			return nil, fmt.Errorf("%w: %s needs two operands", ErrShape, k)
		}
		return Binop{Op: k, Left: items[0], Right: items[1]}, nil
	case "concat":
		items, err := listOfNode(body)
		if err != nil {
			return nil, err
		}
		return Concat(items), nil
	case "elem":
		if obj == nil {
			return notObject()
		}
		val := Expr(Literal{Null: true})
		if v := obj.member("val"); v != nil {
			var err error
			if val, err = toExprNode(v, false); err != nil {
				return nil, err
			}
		}
		return Elem{Val: val}, nil
	}
	if verdictKinds[k] {
		ve := VerdictExpr{Kind: k}
		if obj != nil {
			ve.Target = strOf(obj.member("target"))
		}
		if (k == "jump" || k == "goto") && ve.Target == "" {
			return nil, fmt.Errorf("%w: %s without a target", ErrShape, k)
		}
		return ve, nil
	}
	return OtherExpr{Kind: k, Raw: remarshalNode(whole, top)}, nil
}
