package nftjson

// The encoding/json decoder the single-pass reader replaced, kept while
// the differential fuzz compares them.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// parseStd decodes a dump with encoding/json.
func old_parseStd(data []byte) (*Ruleset, error) {
	// Lines are counted incrementally: offsets only grow while streaming.
	lastOff, lastLine := int64(0), 1
	lineAt := func(off int64) int {
		if off > int64(len(data)) {
			off = int64(len(data))
		}
		if off < lastOff {
			lastOff, lastLine = 0, 1
		}
		lastLine += bytes.Count(data[lastOff:off], []byte{'\n'})
		lastOff = off
		return lastLine
	}
	fail := func(off int64, err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = se.Offset
		}
		return &SyntaxError{Line: lineAt(off), Offset: off, Err: err}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := old_expectDelim(dec, '{'); err != nil {
		return nil, fail(dec.InputOffset(), err)
	}
	rs := &Ruleset{}
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail(dec.InputOffset(), err)
		}
		if key, _ := tok.(string); key != "nftables" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, fail(dec.InputOffset(), err)
			}
			continue
		}
		found = true
		if err := old_expectDelim(dec, '['); err != nil {
			return nil, fail(dec.InputOffset(), err)
		}
		for dec.More() {
			off := dec.InputOffset()
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, fail(dec.InputOffset(), err)
			}
			// InputOffset is where the previous token ended; skip the
			// separator and blanks to locate the item itself.
			for off < int64(len(data)) && (data[off] == ',' || data[off] == ' ' || data[off] == '\n' || data[off] == '\t' || data[off] == '\r') {
				off++
			}
			if err := old_add(rs, raw, lineAt(off)); err != nil {
				return nil, fail(off, err)
			}
		}
		if err := old_expectDelim(dec, ']'); err != nil {
			return nil, fail(dec.InputOffset(), err)
		}
	}
	if err := old_expectDelim(dec, '}'); err != nil {
		return nil, fail(dec.InputOffset(), err)
	}
	if !found {
		return nil, fail(0, fmt.Errorf("%w: no \"nftables\" array", ErrShape))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail(dec.InputOffset(), fmt.Errorf("%w: data after the ruleset", ErrShape))
	}
	return rs, nil
}

// expectDelim reads one token and checks it is the given delimiter.
func old_expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != d {
		return fmt.Errorf("%w: expected %v, got %v", ErrShape, d, tok)
	}
	return nil
}

func old_add(rs *Ruleset, raw json.RawMessage, line int) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return fmt.Errorf("%w: ruleset item is not an object", ErrShape)
	}
	if len(obj) != 1 {
		return fmt.Errorf("%w: ruleset item has %d keys", ErrShape, len(obj))
	}
	for kind, body := range obj {
		switch kind {
		case "metainfo":
			var m struct {
				V int `json:"json_schema_version"`
			}
			if err := json.Unmarshal(body, &m); err != nil {
				return fmt.Errorf("%w: metainfo: %v", ErrShape, err)
			}
			rs.SchemaVersion = m.V
		case "table":
			var t struct {
				Family, Name string
				Handle       int64
			}
			if err := json.Unmarshal(body, &t); err != nil || t.Family == "" || t.Name == "" {
				return fmt.Errorf("%w: table needs family and name", ErrShape)
			}
			rs.Tables = append(rs.Tables, &Table{Family: t.Family, Name: t.Name, Handle: t.Handle, Line: line})
		case "chain":
			var c struct {
				Family, Table, Name string
				Handle              int64
				Type, Hook          string
				Prio                *int
				Policy              string
				Dev                 json.RawMessage
			}
			if err := json.Unmarshal(body, &c); err != nil || c.Family == "" || c.Table == "" || c.Name == "" {
				return fmt.Errorf("%w: chain needs family, table and name", ErrShape)
			}
			ch := &Chain{Family: c.Family, Table: c.Table, Name: c.Name, Handle: c.Handle,
				Type: c.Type, Hook: c.Hook, Policy: c.Policy, Line: line}
			if c.Hook != "" {
				if c.Prio == nil {
					return fmt.Errorf("%w: base chain %s without a priority", ErrShape, c.Name)
				}
				ch.Prio = *c.Prio
			}
			if c.Dev != nil {
				var v any
				_ = json.Unmarshal(c.Dev, &v)
				ch.Devices = strList(v)
			}
			rs.Chains = append(rs.Chains, ch)
		case "set", "map":
			var s struct {
				Family, Table, Name string
				Type, Map, Flags    json.RawMessage
				Elem                json.RawMessage
			}
			if err := json.Unmarshal(body, &s); err != nil || s.Family == "" || s.Table == "" || s.Name == "" {
				return fmt.Errorf("%w: %s needs family, table and name", ErrShape, kind)
			}
			set := &Set{Family: s.Family, Table: s.Table, Name: s.Name, Line: line}
			set.Type = old_rawStrList(s.Type)
			set.Map = old_rawStrList(s.Map)
			set.Flags = old_rawStrList(s.Flags)
			if kind == "map" && len(set.Map) == 0 {
				return fmt.Errorf("%w: map %s without a value type", ErrShape, s.Name)
			}
			if s.Elem != nil {
				var v any
				if err := json.Unmarshal(s.Elem, &v); err != nil {
					return fmt.Errorf("%w: elements of %s", ErrShape, s.Name)
				}
				items, err := old_listOf(v)
				if err != nil {
					return fmt.Errorf("set %s: %w", s.Name, err)
				}
				set.Elems = items
			}
			rs.Sets = append(rs.Sets, set)
		case "rule":
			var r struct {
				Family, Table, Chain string
				Handle               int64
				Expr                 []json.RawMessage
			}
			if err := json.Unmarshal(body, &r); err != nil || r.Family == "" || r.Table == "" || r.Chain == "" {
				return fmt.Errorf("%w: rule needs family, table and chain", ErrShape)
			}
			rule := &Rule{Family: r.Family, Table: r.Table, Chain: r.Chain, Handle: r.Handle, Line: line}
			for _, e := range r.Expr {
				st, err := old_decodeStmt(e)
				if err != nil {
					return fmt.Errorf("rule %s %s %s handle %d: %w", r.Family, r.Table, r.Chain, r.Handle, err)
				}
				rule.Stmts = append(rule.Stmts, st)
			}
			rs.Rules = append(rs.Rules, rule)
		default:
			rs.Others = append(rs.Others, Other{Kind: kind, Raw: body, Line: line})
		}
	}
	return nil
}

// rawStrList decodes a string or a list of strings.
func old_rawStrList(raw json.RawMessage) []string {
	if raw == nil {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return strList(v)
}

// decodeExpr turns raw JSON into an Expr.
func old_decodeExpr(raw json.RawMessage) (Expr, error) {
	var v any
	if err := old_unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return old_toExpr(v, raw)
}

func old_unmarshal(raw json.RawMessage, v any) error {
	return json.Unmarshal(raw, v)
}

// toExpr converts a generic JSON value. raw is the same value, kept for
// Other nodes.
func old_toExpr(v any, raw json.RawMessage) (Expr, error) {
	switch x := v.(type) {
	case nil:
		return Literal{Null: true}, nil
	case bool:
		if x {
			return Literal{Str: "true"}, nil
		}
		return Literal{Str: "false"}, nil
	case float64:
		n := int64(x)
		if float64(n) != x {
			return nil, fmt.Errorf("%w: non-integer number %v", ErrShape, x)
		}
		return Literal{Num: n, IsNum: true}, nil
	case json.Number:
		n, err := x.Int64()
		if err != nil {
			return nil, fmt.Errorf("%w: number %v", ErrShape, x)
		}
		return Literal{Num: n, IsNum: true}, nil
	case string:
		if len(x) > 1 && x[0] == '@' {
			return SetRef{Name: x[1:]}, nil
		}
		return Literal{Str: x}, nil
	case []any:
		l := make(List, 0, len(x))
		for _, e := range x {
			ee, err := old_toExpr(e, nil)
			if err != nil {
				return nil, err
			}
			l = append(l, ee)
		}
		return l, nil
	case map[string]any:
		if len(x) != 1 {
			return OtherExpr{Kind: "object", Raw: old_remarshal(v, raw)}, nil
		}
		for k, body := range x {
			return old_objExpr(k, body, v, raw)
		}
	}
	return nil, fmt.Errorf("%w: unexpected JSON value %T", ErrShape, v)
}

func old_objExpr(k string, body, whole any, raw json.RawMessage) (Expr, error) {
	obj, _ := body.(map[string]any)
	switch k {
	case "set":
		items, err := old_listOf(body)
		if err != nil {
			return nil, err
		}
		return AnonSet(items), nil
	case "prefix":
		if obj == nil {
			return nil, fmt.Errorf("%w: prefix is not an object", ErrShape)
		}
		n, ok := old_num(obj["len"])
		addr, ok2 := obj["addr"].(string)
		if !ok || !ok2 {
			return nil, fmt.Errorf("%w: prefix needs addr and len", ErrShape)
		}
		return Prefix{Addr: addr, Len: int(n)}, nil
	case "range":
		items, err := old_listOf(body)
		if err != nil {
			return nil, err
		}
		if len(items) != 2 {
			return nil, fmt.Errorf("%w: range needs two values", ErrShape)
		}
		return Range{Lo: items[0], Hi: items[1]}, nil
	case "payload":
		if obj == nil {
			return nil, fmt.Errorf("%w: payload is not an object", ErrShape)
		}
		p := Payload{Protocol: old_str(obj["protocol"]), Field: old_str(obj["field"]), Base: old_str(obj["base"])}
		p.Offset, _ = old_num(obj["offset"])
		p.Len, _ = old_num(obj["len"])
		return p, nil
	case "meta":
		if obj == nil {
			return nil, fmt.Errorf("%w: meta is not an object", ErrShape)
		}
		return Meta{Key: old_str(obj["key"])}, nil
	case "ct":
		if obj == nil {
			return nil, fmt.Errorf("%w: ct is not an object", ErrShape)
		}
		return Ct{Key: old_str(obj["key"]), Dir: old_str(obj["dir"]), Family: old_str(obj["family"])}, nil
	case "fib":
		if obj == nil {
			return nil, fmt.Errorf("%w: fib is not an object", ErrShape)
		}
		return Fib{Result: old_str(obj["result"]), Flags: strList(obj["flags"])}, nil
	case "&", "|", "^", "<<", ">>":
		items, err := old_listOf(body)
		if err != nil {
			return nil, err
		}
		if len(items) != 2 {
			return nil, fmt.Errorf("%w: %s needs two operands", ErrShape, k)
		}
		return Binop{Op: k, Left: items[0], Right: items[1]}, nil
	case "concat":
		items, err := old_listOf(body)
		if err != nil {
			return nil, err
		}
		return Concat(items), nil
	case "elem":
		if obj == nil {
			return nil, fmt.Errorf("%w: elem is not an object", ErrShape)
		}
		val, err := old_toExpr(obj["val"], nil)
		if err != nil {
			return nil, err
		}
		return Elem{Val: val}, nil
	}
	if verdictKinds[k] {
		ve := VerdictExpr{Kind: k}
		if obj != nil {
			ve.Target = old_str(obj["target"])
		}
		if (k == "jump" || k == "goto") && ve.Target == "" {
			return nil, fmt.Errorf("%w: %s without a target", ErrShape, k)
		}
		return ve, nil
	}
	return OtherExpr{Kind: k, Raw: old_remarshal(whole, raw)}, nil
}

// listOf accepts a list or a single value.
func old_listOf(v any) ([]Expr, error) {
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	out := make([]Expr, 0, len(items))
	for _, it := range items {
		e, err := old_toExpr(it, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func old_remarshal(v any, raw json.RawMessage) json.RawMessage {
	if raw != nil {
		return raw
	}
	b, _ := json.Marshal(v)
	return b
}

func old_str(v any) string {
	s, _ := v.(string)
	return s
}

func old_num(v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		return int64(x), float64(int64(x)) == x
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

// decodeStmt decodes one statement object.
func old_decodeStmt(raw json.RawMessage) (Stmt, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("%w: statement is not an object", ErrShape)
	}
	if len(obj) != 1 {
		return OtherStmt{Kind: "object", Raw: raw}, nil
	}
	for k, body := range obj {
		switch {
		case k == "match":
			var m struct {
				Op          string
				Left, Right json.RawMessage
			}
			if err := json.Unmarshal(body, &m); err != nil || m.Left == nil || m.Right == nil {
				return nil, fmt.Errorf("%w: match needs op, left and right", ErrShape)
			}
			l, err := old_decodeExpr(m.Left)
			if err != nil {
				return nil, err
			}
			r, err := old_decodeExpr(m.Right)
			if err != nil {
				return nil, err
			}
			if m.Op == "" {
				m.Op = "=="
			}
			return Match{Op: m.Op, Left: l, Right: r}, nil
		case verdictKinds[k]:
			v := Verdict{Kind: k}
			var t struct{ Target string }
			_ = json.Unmarshal(body, &t) // null for accept, drop, ...
			v.Target = t.Target
			if (k == "jump" || k == "goto") && v.Target == "" {
				return nil, fmt.Errorf("%w: %s without a target", ErrShape, k)
			}
			return v, nil
		case k == "vmap":
			var m struct{ Key, Data json.RawMessage }
			if err := json.Unmarshal(body, &m); err != nil || m.Key == nil || m.Data == nil {
				return nil, fmt.Errorf("%w: vmap needs key and data", ErrShape)
			}
			key, err := old_decodeExpr(m.Key)
			if err != nil {
				return nil, err
			}
			data, err := old_decodeExpr(m.Data)
			if err != nil {
				return nil, err
			}
			return VMap{Key: key, Data: data}, nil
		case k == "mangle":
			var m struct{ Key, Value json.RawMessage }
			if err := json.Unmarshal(body, &m); err != nil || m.Key == nil || m.Value == nil {
				return nil, fmt.Errorf("%w: mangle needs key and value", ErrShape)
			}
			key, err := old_decodeExpr(m.Key)
			if err != nil {
				return nil, err
			}
			val, err := old_decodeExpr(m.Value)
			if err != nil {
				return nil, err
			}
			return Mangle{Key: key, Value: val}, nil
		case k == "xt":
			var x struct{ Type, Name string }
			if err := json.Unmarshal(body, &x); err != nil {
				return nil, fmt.Errorf("%w: xt is not an object", ErrShape)
			}
			return Xt{Type: x.Type, Name: x.Name}, nil
		case k == "reject":
			var x struct{ Type string }
			if json.Unmarshal(body, &x) != nil {
				return Reject{}, nil
			}
			return Reject{Type: x.Type}, nil
		case k == "notrack":
			return Notrack{}, nil
		case passiveKinds[k]:
			return Passive{Kind: k}, nil
		}
		return OtherStmt{Kind: k, Raw: raw}, nil
	}
	panic("unreachable")
}
