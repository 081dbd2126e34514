package nftjson

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Expr is an nft expression. Only this package defines expression kinds.
type Expr interface{ expr() }

// Literal is a string, number, boolean or null value.
type Literal struct {
	Str   string
	Num   int64
	IsNum bool
	Null  bool
}

// SetRef is "@name", a reference to a named set or map.
type SetRef struct{ Name string }

// List is a JSON array: a flag list (["established","related"]), a
// concatenated value or a map element [key, value].
type List []Expr

// AnonSet is {"set": [...]}, an anonymous set.
type AnonSet []Expr

// Prefix is {"prefix": {"addr": A, "len": N}}.
type Prefix struct {
	Addr string
	Len  int
}

// Range is {"range": [lo, hi]}.
type Range struct{ Lo, Hi Expr }

// Payload is a header field ({"payload": {"protocol": "ip", "field":
// "saddr"}}) or raw bytes (Base, Offset, Len) when Protocol is empty.
type Payload struct {
	Protocol, Field string
	Base            string
	Offset, Len     int64
}

// Meta is {"meta": {"key": K}}.
type Meta struct{ Key string }

// Ct is {"ct": {"key": K, "dir": D, "family": F}}.
type Ct struct{ Key, Dir, Family string }

// Fib is {"fib": {"result": R, "flags": [...]}}.
type Fib struct {
	Result string
	Flags  []string
}

// Binop is a bitwise operation, {"&": [a, b]} and friends.
type Binop struct {
	Op          string
	Left, Right Expr
}

// Concat is {"concat": [...]}.
type Concat []Expr

// Elem is {"elem": {"val": V, ...}}: a set element with options.
type Elem struct{ Val Expr }

// VerdictExpr is a verdict used as a value (in a verdict map).
type VerdictExpr struct{ Kind, Target string }

// OtherExpr is an expression kind not modelled here.
type OtherExpr struct {
	Kind string
	Raw  json.RawMessage
}

func (Literal) expr()     {}
func (SetRef) expr()      {}
func (List) expr()        {}
func (AnonSet) expr()     {}
func (Prefix) expr()      {}
func (Range) expr()       {}
func (Payload) expr()     {}
func (Meta) expr()        {}
func (Ct) expr()          {}
func (Fib) expr()         {}
func (Binop) expr()       {}
func (Concat) expr()      {}
func (Elem) expr()        {}
func (VerdictExpr) expr() {}
func (OtherExpr) expr()   {}

func (l Literal) String() string {
	switch {
	case l.IsNum:
		return strconv.FormatInt(l.Num, 10)
	case l.Null:
		return "null"
	}
	return l.Str
}

// verdictKinds are the verdicts nft writes as {"kind": ...}.
var verdictKinds = map[string]bool{"accept": true, "drop": true, "continue": true,
	"return": true, "jump": true, "goto": true}

// decodeExpr turns raw JSON into an Expr.
func decodeExpr(raw json.RawMessage) (Expr, error) {
	var v any
	if err := unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return toExpr(v, raw)
}

func unmarshal(raw json.RawMessage, v any) error {
	return json.Unmarshal(raw, v)
}

// toExpr converts a generic JSON value. raw is the same value, kept for
// Other nodes.
func toExpr(v any, raw json.RawMessage) (Expr, error) {
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
			ee, err := toExpr(e, nil)
			if err != nil {
				return nil, err
			}
			l = append(l, ee)
		}
		return l, nil
	case map[string]any:
		if len(x) != 1 {
			return OtherExpr{Kind: "object", Raw: remarshal(v, raw)}, nil
		}
		for k, body := range x {
			return objExpr(k, body, v, raw)
		}
	}
	return nil, fmt.Errorf("%w: unexpected JSON value %T", ErrShape, v)
}

func objExpr(k string, body, whole any, raw json.RawMessage) (Expr, error) {
	obj, _ := body.(map[string]any)
	switch k {
	case "set":
		items, err := listOf(body)
		if err != nil {
			return nil, err
		}
		return AnonSet(items), nil
	case "prefix":
		if obj == nil {
			return nil, fmt.Errorf("%w: prefix is not an object", ErrShape)
		}
		n, ok := num(obj["len"])
		addr, ok2 := obj["addr"].(string)
		if !ok || !ok2 {
			return nil, fmt.Errorf("%w: prefix needs addr and len", ErrShape)
		}
		return Prefix{Addr: addr, Len: int(n)}, nil
	case "range":
		items, err := listOf(body)
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
		p := Payload{Protocol: str(obj["protocol"]), Field: str(obj["field"]), Base: str(obj["base"])}
		p.Offset, _ = num(obj["offset"])
		p.Len, _ = num(obj["len"])
		return p, nil
	case "meta":
		if obj == nil {
			return nil, fmt.Errorf("%w: meta is not an object", ErrShape)
		}
		return Meta{Key: str(obj["key"])}, nil
	case "ct":
		if obj == nil {
			return nil, fmt.Errorf("%w: ct is not an object", ErrShape)
		}
		return Ct{Key: str(obj["key"]), Dir: str(obj["dir"]), Family: str(obj["family"])}, nil
	case "fib":
		if obj == nil {
			return nil, fmt.Errorf("%w: fib is not an object", ErrShape)
		}
		return Fib{Result: str(obj["result"]), Flags: strList(obj["flags"])}, nil
	case "&", "|", "^", "<<", ">>":
		items, err := listOf(body)
		if err != nil {
			return nil, err
		}
		if len(items) != 2 {
			return nil, fmt.Errorf("%w: %s needs two operands", ErrShape, k)
		}
		return Binop{Op: k, Left: items[0], Right: items[1]}, nil
	case "concat":
		items, err := listOf(body)
		if err != nil {
			return nil, err
		}
		return Concat(items), nil
	case "elem":
		if obj == nil {
			return nil, fmt.Errorf("%w: elem is not an object", ErrShape)
		}
		val, err := toExpr(obj["val"], nil)
		if err != nil {
			return nil, err
		}
		return Elem{Val: val}, nil
	}
	if verdictKinds[k] {
		ve := VerdictExpr{Kind: k}
		if obj != nil {
			ve.Target = str(obj["target"])
		}
		if (k == "jump" || k == "goto") && ve.Target == "" {
			return nil, fmt.Errorf("%w: %s without a target", ErrShape, k)
		}
		return ve, nil
	}
	return OtherExpr{Kind: k, Raw: remarshal(whole, raw)}, nil
}

// listOf accepts a list or a single value.
func listOf(v any) ([]Expr, error) {
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	out := make([]Expr, 0, len(items))
	for _, it := range items {
		e, err := toExpr(it, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func remarshal(v any, raw json.RawMessage) json.RawMessage {
	if raw != nil {
		return raw
	}
	b, _ := json.Marshal(v)
	return b
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		return int64(x), float64(int64(x)) == x
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

// strList accepts a string or a list of strings.
func strList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}
