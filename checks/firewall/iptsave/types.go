package iptsave

// Dump is a parsed iptables-save output.
type Dump struct {
	Tables []*Table
}

// Table is one "*name ... COMMIT" block.
type Table struct {
	Name   string
	Line   int
	Chains []*Chain
	Rules  []*Rule
}

// Chain is a ":NAME POLICY [packets:bytes]" declaration. Policy is "-" for
// a user-defined chain.
type Chain struct {
	Name   string
	Policy string
	Line   int
}

// Rule is one "-A CHAIN ..." line.
type Rule struct {
	Line  int
	Chain string
	// Matches holds the built-in options (Module "") first, then one entry
	// per "-m module" in order.
	Matches []*Match
	// Target is the "-j" or "-g" argument, empty when the rule has none.
	Target string
	// Goto is set for "-g".
	Goto          bool
	TargetOptions []Option
}

// Match is a module and its options.
type Match struct {
	Module string
	// Implicit is set for a protocol module loaded by "-p tcp" without
	// "-m tcp" (accepted by iptables-restore, never printed by -save).
	Implicit bool
	Options  []Option
}

// Option is one "[!] --name value..." with its values unquoted.
type Option struct {
	Name   string
	Neg    bool
	Values []string
	// Guessed is set when the module or option is not in the arity table
	// and the values were taken up to the next option: the caller must
	// treat the option as not understood.
	Guessed bool
}

// Table returns the named table or nil.
func (d *Dump) Table(name string) *Table {
	for _, t := range d.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Chain returns the named chain declaration or nil.
func (t *Table) Chain(name string) *Chain {
	for _, c := range t.Chains {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// RulesOf returns the rules of one chain in order.
func (t *Table) RulesOf(chain string) []*Rule {
	var out []*Rule
	for _, r := range t.Rules {
		if r.Chain == chain {
			out = append(out, r)
		}
	}
	return out
}
