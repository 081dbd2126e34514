package eval

import (
	"fmt"
	"net/netip"
	"sort"

	"go4.org/netipx"
)

// DecisionKind says what decided a packet's fate.
type DecisionKind uint8

const (
	// Unattributed: the fate was not decided by one rule or policy (a
	// connection not sent on to the queried port, or an undecided fate).
	Unattributed DecisionKind = iota
	// ByRule: Rule gave the verdict, in a chain reached from Base.
	ByRule
	// ByPolicy: Base's policy gave the verdict.
	ByPolicy
	// NoBaseChain: no base chain on the path looked at the packet.
	NoBaseChain
)

// Decision names the rule or policy that decided a packet's fate. It
// holds pointers into the Ruleset given to Evaluate (never into its
// per-query copies), so callers can format them only when reporting.
type Decision struct {
	Kind DecisionKind
	Rule *Rule
	Base *BaseChain
}

func (d Decision) String() string {
	switch d.Kind {
	case ByRule:
		return d.Rule.Origin
	case ByPolicy:
		return fmt.Sprintf("the %s policy of %s (hook %v, priority %d)", d.Base.Policy, d.Base.Origin, d.Base.Hook, d.Base.Priority)
	case NoBaseChain:
		return "no base chain on this hook"
	}
	return "no single rule"
}

// verdictBy is what the walker records of a decision: the rule (the
// ruleset's own), the index of its base chain in the path and the jumps
// that led to the rule's chain.
type verdictBy struct {
	kind DecisionKind
	bi   int32
	rule *Rule
	via  *hop
}

// hop is a jump or goto on the way from a base chain to a rule, linked to
// the hops before it. Hops are interned per evaluation, so a decision
// holds one pointer and equal paths are the same pointer.
type hop struct {
	rule *Rule // the ruleset's own
	up   *hop
}

type hopKey struct {
	r  *Rule // as walked (specialized)
	up *hop
}

// hop returns the path up followed by the jump or goto of r.
func (w *walker) hop(r *Rule, up *hop) *hop {
	k := hopKey{r, up}
	if h, ok := w.hops[k]; ok {
		return h
	}
	if w.hops == nil {
		w.hops = map[hopKey]*hop{}
	}
	h := &hop{rule: r.original(), up: up}
	w.hops[k] = h
	return h
}

// rules lists the path's rules from the base chain on.
func (h *hop) rules() []*Rule {
	n := 0
	for x := h; x != nil; x = x.up {
		n++
	}
	out := make([]*Rule, n)
	for x := h; x != nil; x = x.up {
		n--
		out[n] = x.rule
	}
	return out
}

// rank orders the chains an accepted packet crossed by how much each
// says about it: a filtering rule over a policy over a nat chain's accept
// over nothing at all. The highest rank, latest on the path, is named.
func (w *walker) rank(d verdictBy) int {
	switch {
	case d.kind == NoBaseChain || d.kind == Unattributed:
		return 0
	case w.path[d.bi].NAT:
		return 1
	case d.kind == ByPolicy:
		return 2
	}
	return 3
}

// ruleDecision names r in base chain bi of the walker's path, reached
// through the jumps of the top of stack.
func (w *walker) ruleDecision(r *Rule, bi int, stack []frame) verdictBy {
	return verdictBy{kind: ByRule, bi: int32(bi), rule: r.original(), via: stack[len(stack)-1].via}
}

func (w *walker) policyDecision(bi int) verdictBy {
	return verdictBy{kind: ByPolicy, bi: int32(bi)}
}

// acceptedBy merges the accept of an earlier base chain with what decided
// the rest of the path.
func (w *walker) acceptedBy(d verdictBy) {
	if w.rank(d) > w.rank(w.dec) {
		w.dec = d
	}
}

// Piece fates, in the order they override one another across contexts.
const (
	pieceUnseen uint8 = iota
	pieceRefused
	pieceUndecided
	pieceAccepted
)

// decisions holds one decision per source piece. Its kind shares a
// byte with the piece's fate; a map from decisions to small numbers would
// cost more than the pointer when every rule decides some piece.
type decisions struct {
	fate  []uint8 // piece fate | kind<<4
	rule  []*Rule
	via   []*hop
	bi    []int32
	bases []*BaseChain // the ruleset's own base chain of each path index
}

func newDecisions(n int, path []*BaseChain) decisions {
	d := decisions{fate: make([]uint8, n), rule: make([]*Rule, n), via: make([]*hop, n), bi: make([]int32, n), bases: make([]*BaseChain, len(path))}
	for i, b := range path {
		d.bases[i] = b.original()
	}
	return d
}

// pieceFate is the piece fate of one walk's outcome.
func pieceFate(o outcome) uint8 {
	switch o {
	case accepted:
		return pieceAccepted
	case both:
		return pieceUndecided
	}
	return pieceRefused
}

func (d *decisions) fateOf(i int) uint8 { return d.fate[i] & 0xf }

func (d *decisions) set(i int, fate uint8, x verdictBy) {
	d.fate[i] = fate | uint8(x.kind)<<4
	d.rule[i], d.via[i], d.bi[i] = x.rule, x.via, x.bi
}

func (d *decisions) get(i int) Decision {
	k := DecisionKind(d.fate[i] >> 4)
	switch k {
	case ByRule:
		return Decision{Kind: k, Rule: d.rule[i], Base: d.bases[d.bi[i]]}
	case ByPolicy:
		return Decision{Kind: k, Base: d.bases[d.bi[i]]}
	}
	return Decision{Kind: k}
}

// explanation is what decided each source piece of one Evaluate.
type explanation struct {
	srcs []netip.Addr
	fam  Family
	decs decisions
}

// Attribution is the ranges of remote sources whose fate one rule or
// policy decided.
type Attribution struct {
	Decision Decision
	// Accepted is true for sources accepted (in some context), false for
	// sources refused in every context.
	Accepted bool
	Ranges   []netipx.IPRange
	// Path lists the jump and goto rules (the ruleset's own, a verdict
	// map's rule for its jump) that led from the base chain to the
	// deciding rule's chain, for the first source attributed; empty when
	// the rule is in the base chain or a policy decided.
	Path []*Rule
	// OtherPaths is true when some of the Ranges reached the rule by
	// another path.
	OtherPaths bool
}

// Explain names what decided the fate of the remote sources in set: for
// the sources accepted, the rule or policy that accepted them (in the
// first context that does); for the sources refused in every context, what
// refused them in the first. Undecided sources are left out.
//
// The host's own traffic is explained for the pieces of the loopback
// range, the remote sources for all others.
//
// It returns one attribution per deciding rule or policy, in the address
// order of their first range, at most max of them (every one when max <=
// 0), and the number of ranges of the attributions left out.
func (r *Result) Explain(set *netipx.IPSet, max int) (out []Attribution, more int) {
	e := r.explained
	if e == nil || set == nil {
		return nil, 0
	}
	type key struct {
		d   Decision
		acc bool
	}
	// group is the index in out, or a negative number for each group
	// left out; via is the path of each group's first piece in out.
	group := map[key]int{}
	var via []*hop
	last, lastGroup := netipx.IPRange{}, 0
	leftOut := 0
	for _, want := range set.Ranges() {
		// The first piece holding want.From().
		i := sort.Search(len(e.srcs), func(i int) bool { return e.srcs[i].Compare(want.From()) > 0 }) - 1
		for i = max0(i); i < len(e.srcs) && e.srcs[i].Compare(want.To()) <= 0; i++ {
			fate := e.decs.fateOf(i)
			if fate != pieceAccepted && fate != pieceRefused {
				continue
			}
			pr := pieceRange(e.srcs, i, e.fam)
			from, to := pr.From(), pr.To()
			if from.Less(want.From()) {
				from = want.From()
			}
			if want.To().Less(to) {
				to = want.To()
			}
			k := key{e.decs.get(i), fate == pieceAccepted}
			g, ok := group[k]
			if !ok {
				leftOut--
				g = leftOut
				if max <= 0 || len(out) < max {
					g = len(out)
					out = append(out, Attribution{Decision: k.d, Accepted: k.acc, Path: e.decs.via[i].rules()})
					via = append(via, e.decs.via[i])
				}
				group[k] = g
			}
			if g >= 0 && e.decs.via[i] != via[g] {
				out[g].OtherPaths = true
			}
			// Adjacent pieces of one group make one range.
			if g == lastGroup && last.IsValid() && last.To().Next() == from {
				last = netipx.IPRangeFrom(last.From(), to)
				if g >= 0 {
					rs := out[g].Ranges
					rs[len(rs)-1] = last
				}
				continue
			}
			last, lastGroup = netipx.IPRangeFrom(from, to), g
			if g < 0 {
				more++
				continue
			}
			out[g].Ranges = append(out[g].Ranges, last)
		}
	}
	return out, more
}

func max0(i int) int {
	if i < 0 {
		return 0
	}
	return i
}
