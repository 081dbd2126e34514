package nftjson

import "encoding/json"

// Ruleset is the parsed dump, objects in the order nft listed them.
type Ruleset struct {
	SchemaVersion int
	Tables        []*Table
	Chains        []*Chain
	Sets          []*Set
	Rules         []*Rule
	// Others are objects of kinds the evaluator does not need (flowtable,
	// counter, quota, ct helper, ...), kept so callers can list them.
	Others []Other
}

// Table is an nf_tables table.
type Table struct {
	Family, Name string
	Handle       int64
	Line         int
}

// Chain is a chain; Hook is empty for a regular chain.
type Chain struct {
	Family, Table, Name string
	Handle              int64
	Type, Hook          string
	Prio                int
	Policy              string
	Devices             []string
	Line                int
}

// Base reports whether the chain is attached to a hook.
func (c *Chain) Base() bool { return c.Hook != "" }

// Set is a named set or map. Map is empty for a set; for a verdict map it
// is ["verdict"].
type Set struct {
	Family, Table, Name string
	Type                []string
	Map                 []string
	Flags               []string
	Elems               []Expr
	Line                int
}

// IsMap reports whether the set maps keys to values.
func (s *Set) IsMap() bool { return len(s.Map) > 0 }

// HasFlag reports whether the set carries a flag ("interval", "dynamic").
func (s *Set) HasFlag(f string) bool {
	for _, x := range s.Flags {
		if x == f {
			return true
		}
	}
	return false
}

// Rule is one rule of a chain.
type Rule struct {
	Family, Table, Chain string
	Handle               int64
	Stmts                []Stmt
	Line                 int
}

// Other is a top-level object of a kind not modelled here.
type Other struct {
	Kind string
	Raw  json.RawMessage
	Line int
}
