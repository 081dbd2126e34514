package nftjson

import (
	"encoding/json"
	"fmt"
)

// Stmt is one statement of a rule. Only this package defines kinds.
type Stmt interface{ stmt() }

// Match is {"match": {"op": OP, "left": L, "right": R}}.
type Match struct {
	Op          string
	Left, Right Expr
}

// Verdict is accept, drop, continue, return, jump or goto.
type Verdict struct{ Kind, Target string }

// VMap is {"vmap": {"key": K, "data": D}}; D is an anonymous set of
// [key, verdict] pairs or a reference to a named verdict map.
type VMap struct{ Key, Data Expr }

// Mangle is {"mangle": {"key": K, "value": V}} ("meta mark set 1").
type Mangle struct{ Key, Value Expr }

// Xt is an xtables-compat match or target; nft shows only its name.
type Xt struct{ Type, Name string }

// Reject is {"reject": ...}. Type is "icmp", "icmpv6", "icmpx", "tcp
// reset" or empty; icmp and icmpv6 carry a family nft does not list.
type Reject struct{ Type string }

// Counter, Log and the like do not change the packet's fate.
type Passive struct{ Kind string }

// Notrack is {"notrack": null}.
type Notrack struct{}

// OtherStmt is a statement kind not modelled here (limit, quota, queue,
// dnat, ...), kept with its raw JSON.
type OtherStmt struct {
	Kind string
	Raw  json.RawMessage
}

func (Match) stmt()     {}
func (Verdict) stmt()   {}
func (VMap) stmt()      {}
func (Mangle) stmt()    {}
func (Xt) stmt()        {}
func (Reject) stmt()    {}
func (Passive) stmt()   {}
func (Notrack) stmt()   {}
func (OtherStmt) stmt() {}

// passiveKinds never change whether a packet is accepted.
var passiveKinds = map[string]bool{"counter": true, "log": true}

// decodeStmt decodes one statement object.
func decodeStmt(raw json.RawMessage) (Stmt, error) {
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
			l, err := decodeExpr(m.Left)
			if err != nil {
				return nil, err
			}
			r, err := decodeExpr(m.Right)
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
			key, err := decodeExpr(m.Key)
			if err != nil {
				return nil, err
			}
			data, err := decodeExpr(m.Data)
			if err != nil {
				return nil, err
			}
			return VMap{Key: key, Data: data}, nil
		case k == "mangle":
			var m struct{ Key, Value json.RawMessage }
			if err := json.Unmarshal(body, &m); err != nil || m.Key == nil || m.Value == nil {
				return nil, fmt.Errorf("%w: mangle needs key and value", ErrShape)
			}
			key, err := decodeExpr(m.Key)
			if err != nil {
				return nil, err
			}
			val, err := decodeExpr(m.Value)
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
