package nftjson

import (
	"encoding/json"
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
