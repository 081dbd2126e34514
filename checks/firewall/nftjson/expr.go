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
