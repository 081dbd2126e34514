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

// rank orders the chains an accepted packet crossed by how much each
// says about it: a filtering rule over a policy over a nat chain's accept
// over nothing at all. The highest rank, latest on the path, is named.
func (d Decision) rank() int {
	switch {
	case d.Kind == NoBaseChain || d.Kind == Unattributed:
		return 0
	case d.Base.NAT:
		return 1
	case d.Kind == ByPolicy:
		return 2
	}
	return 3
}

// ruleDecision names r in base chain bi of the walker's path, both
// mapped back to the caller's ruleset.
func (w *walker) ruleDecision(r *Rule, bi int) Decision {
	return Decision{Kind: ByRule, Rule: r.original(), Base: w.path[bi].original()}
}

func (w *walker) policyDecision(bi int) Decision {
	return Decision{Kind: ByPolicy, Base: w.path[bi].original()}
}

// acceptedBy merges the accept of an earlier base chain with what decided
// the rest of the path.
func (w *walker) acceptedBy(d Decision) {
	if d.rank() > w.dec.rank() {
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

// decisions holds one decision per source piece, each stored once: a
// ruleset has far fewer deciding rules than pieces.
type decisions struct {
	ids   map[Decision]int32
	table []Decision
	piece []int32
}

func (d *decisions) init(n int) {
	d.ids = map[Decision]int32{}
	d.piece = make([]int32, n)
}

func (d *decisions) set(i int, x Decision) {
	id, ok := d.ids[x]
	if !ok {
		id = int32(len(d.table))
		d.table = append(d.table, x)
		d.ids[x] = id
	}
	d.piece[i] = id
}

// explanation is what decided each source piece of one Evaluate.
type explanation struct {
	srcs []netip.Addr
	fam  Family
	fate []uint8
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
}

// Explain names what decided the fate of the remote sources in set: for
// the sources accepted, the rule or policy that accepted them (in the
// first context that does); for the sources refused in every context, what
// refused them in the first. Undecided sources are left out.
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
	// left out.
	group := map[key]int{}
	last, lastGroup := netipx.IPRange{}, 0
	leftOut := 0
	for _, want := range set.Ranges() {
		// The first piece holding want.From().
		i := sort.Search(len(e.srcs), func(i int) bool { return e.srcs[i].Compare(want.From()) > 0 }) - 1
		for i = max0(i); i < len(e.srcs) && e.srcs[i].Compare(want.To()) <= 0; i++ {
			if e.fate[i] != pieceAccepted && e.fate[i] != pieceRefused {
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
			k := key{e.decs.table[e.decs.piece[i]], e.fate[i] == pieceAccepted}
			g, ok := group[k]
			if !ok {
				leftOut--
				g = leftOut
				if max <= 0 || len(out) < max {
					g = len(out)
					out = append(out, Attribution{Decision: k.d, Accepted: k.acc})
				}
				group[k] = g
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
