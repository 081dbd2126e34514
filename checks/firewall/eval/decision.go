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

// Span is a range of remote sources whose fate one rule or policy decided.
type Span struct {
	Range netipx.IPRange
	// Accepted is true for sources accepted (in some context), false for
	// sources refused in every context.
	Accepted bool
	Decision Decision
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

// Explain names what decided the fate of the remote sources in set: for
// the sources accepted, the rule or policy that accepted them (in the
// first context that does); for the sources refused in every context, what
// refused them in the first. Undecided sources are left out. It returns at
// most max spans in address order (every one when max <= 0) and the number
// of spans left out.
func (r *Result) Explain(set *netipx.IPSet, max int) (spans []Span, more int) {
	e := r.explained
	if e == nil || set == nil {
		return nil, 0
	}
	add := func(sp Span) {
		if n := len(spans); n > 0 && more == 0 {
			last := &spans[n-1]
			if last.Accepted == sp.Accepted && last.Decision == sp.Decision && last.Range.To().Next() == sp.Range.From() {
				last.Range = netipx.IPRangeFrom(last.Range.From(), sp.Range.To())
				return
			}
		}
		if max > 0 && len(spans) >= max {
			more++
			return
		}
		spans = append(spans, sp)
	}
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
			add(Span{Range: netipx.IPRangeFrom(from, to), Accepted: e.fate[i] == pieceAccepted, Decision: e.decs.table[e.decs.piece[i]]})
		}
	}
	return spans, more
}

func max0(i int) int {
	if i < 0 {
		return 0
	}
	return i
}
