package eval

import "fmt"

// Hook is a netfilter hook.
type Hook uint8

const (
	Ingress Hook = iota
	Prerouting
	Input
	Forward
	Output
	Postrouting
)

func (h Hook) String() string {
	switch h {
	case Ingress:
		return "ingress"
	case Prerouting:
		return "prerouting"
	case Input:
		return "input"
	case Forward:
		return "forward"
	case Output:
		return "output"
	case Postrouting:
		return "postrouting"
	}
	return fmt.Sprintf("hook(%d)", uint8(h))
}

// Ruleset is every base chain the kernel runs, from every table, family
// and back end (nf_tables and iptables-legacy register separately, and all
// of them run).
type Ruleset struct {
	BaseChains []*BaseChain
	// Routing says where a DNAT target is routed: to this host (INPUT) or
	// elsewhere (FORWARD). Nil means unknown; see nat.go.
	Routing Routing
}

// BaseChain is a chain attached to a hook.
type BaseChain struct {
	// Origin names the chain for messages ("nft inet filter input",
	// "iptables-legacy filter INPUT").
	Origin string
	// Families the chain sees: an ip table sees IPv4, inet and netdev both.
	Families []Family
	Hook     Hook
	Priority int
	// Device restricts an ingress chain to one input interface.
	Device string
	// Policy is Accept or Drop.
	Policy VerdictKind
	Chain  *Chain
	// NAT marks a chain of type nat: it runs only for a connection's
	// first packet, and not at all once an earlier nat chain of the same
	// hook has rewritten the connection.
	NAT bool
	// orig is the chain this one was specialized from (see specialize).
	orig *BaseChain
}

func (b *BaseChain) sees(f Family) bool {
	for _, x := range b.Families {
		if x == f {
			return true
		}
	}
	return false
}

// Chain is a list of rules. Base and regular chains share the type.
type Chain struct {
	Name  string
	Rules []*Rule
}

// Rule is a conjunction of conditions, then actions, then a verdict (or a
// verdict map, when Map is set).
type Rule struct {
	// Origin locates the rule for messages ("iptables-save line 12").
	Origin  string
	Conds   []Cond
	Actions []Action
	Verdict Verdict
	Map     *VerdictMap
	// orig is the rule this one was specialized from (see specialize).
	orig *Rule
}

// VerdictKind is what a rule does with a packet it matches.
type VerdictKind uint8

const (
	// Continue goes on with the next rule (LOG, counter, MARK).
	Continue VerdictKind = iota
	Accept
	Drop
	Reject
	Jump
	Goto
	Return
	// Undecided is a verdict the model cannot decide (NFQUEUE, an unknown
	// target); Reason says why.
	Undecided
	// Nat rewrites the connection's address (DNAT, REDIRECT, SNAT,
	// MASQUERADE; Verdict.Nat says how) and ends the base chain like
	// accept.
	Nat
)

func (k VerdictKind) String() string {
	switch k {
	case Continue:
		return "continue"
	case Accept:
		return "accept"
	case Drop:
		return "drop"
	case Reject:
		return "reject"
	case Jump:
		return "jump"
	case Goto:
		return "goto"
	case Return:
		return "return"
	case Undecided:
		return "undecided"
	case Nat:
		return "nat"
	}
	return fmt.Sprintf("verdict(%d)", uint8(k))
}

// Verdict is a rule's decision. Target is set for Jump and Goto, Nat for
// Nat.
type Verdict struct {
	Kind   VerdictKind
	Target *Chain
	Reason string
	Nat    *NatTarget
}

// VerdictMap is "KEY vmap { ... }": the first entry whose condition holds
// gives the verdict; no entry means no verdict (the next rule runs).
type VerdictMap struct {
	Entries []MapEntry
}

// MapEntry is one element of a verdict map.
type MapEntry struct {
	Cond    Cond
	Verdict Verdict
}

// Action changes the packet without deciding its fate. The interface is
// sealed: the evaluator must know every effect.
type Action interface {
	apply(p *Packet)
}

// SetMark sets the packet (or connection) mark to (mark &^ Mask) ^ Xor,
// the form of MARK --set-xmark; "meta mark set V" is Mask=^0, Xor=V.
type SetMark struct {
	Conn      bool
	Mask, Xor uint32
}

func (a SetMark) apply(p *Packet) {
	if a.Conn {
		p.CtMark = p.CtMark&^a.Mask ^ a.Xor
		return
	}
	p.Mark = p.Mark&^a.Mask ^ a.Xor
}

// OpaqueMark records that a rule changed a mark in a way not modelled
// ("ct mark set meta mark", CONNMARK --restore-mark with masks ...).
type OpaqueMark struct{ Conn bool }

func (a OpaqueMark) apply(p *Packet) {
	if a.Conn {
		p.CtMarkUnknown = true
		return
	}
	p.MarkUnknown = true
}

// CopyMark copies the connection mark into the packet mark (or back),
// CONNMARK --restore-mark / --save-mark with full masks.
type CopyMark struct{ ToConn bool }

func (a CopyMark) apply(p *Packet) {
	if a.ToConn {
		p.CtMark, p.CtMarkUnknown = p.Mark, p.MarkUnknown
		return
	}
	p.Mark, p.MarkUnknown = p.CtMark, p.CtMarkUnknown
}

// NoTrack exempts the packet from connection tracking (raw NOTRACK, CT
// --notrack, nft "notrack"): its state becomes UNTRACKED.
type NoTrack struct{}

func (NoTrack) apply(p *Packet) { p.Ct = CtUntracked }
