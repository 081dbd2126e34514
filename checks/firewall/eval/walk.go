package eval

import (
	"net/netip"
	"strings"
)

// outcome is the set of fates a packet may meet: accepted, refused, or
// both when an unknown condition decides.
type outcome uint8

const (
	accepted outcome = 1 << iota
	refused
	both = accepted | refused
)

// maxDepth bounds jump nesting; the kernel refuses loops and deeper
// nesting, so hitting it means the model is wrong, not the ruleset.
const maxDepth = 64

type frame struct {
	chain *Chain
	next  int
	// cand lists the rules that may match the current piece (see
	// srcIndex); nil means every rule.
	cand *candidates
	// via is the jumps and gotos that led to chain from the base chain;
	// nil in the base chain.
	via *hop
}

// walker follows one representative packet through the base chains of a
// path, forking on unknown conditions.
type walker struct {
	path    []*BaseChain
	budget  int
	reasons []string
	// choices are the client's choices the accepted outcome of the
	// current representative relies on (see choose).
	choices []string
	// allChoices collects choices over every accepted representative;
	// nil when not wanted.
	allChoices map[string]bool
	// routing, to and via serve the NAT path (nat.go).
	routing Routing
	to      uint16
	via     map[Delivery]bool
	// ix skips rules whose source conditions are false for the piece;
	// nil walks every rule.
	ix *srcIndex
	// scratch holds the packet and stack of each run in progress, reused
	// from one representative to the next: a run's packet would otherwise
	// move to the heap (conditions take it by pointer) for every piece.
	scratch []*scratch
	depth   int
	// dec is what decided the outcome of the last walk: the refusing rule
	// or policy, or the accept that matters most (see rank).
	dec verdictBy
	// hops interns the paths of jumps (see hop).
	hops map[hopKey]*hop
}

type scratch struct {
	p      Packet
	frames []frame
}

// enter gives a run its own copy of the packet and stack.
func (w *walker) enter(p *Packet, stack []frame) *scratch {
	if w.depth == len(w.scratch) {
		w.scratch = append(w.scratch, &scratch{})
	}
	s := w.scratch[w.depth]
	w.depth++
	s.p = *p
	s.frames = append(s.frames[:0], stack...)
	return s
}

// leave ends the innermost run, keeping its stack's storage.
func (w *walker) leave(s *scratch, stack []frame) {
	s.frames = stack[:0]
	w.depth--
}

// newWalker returns a walker over path whose representatives are the
// source pieces starting at starts.
func newWalker(path []*BaseChain, starts []netip.Addr) *walker {
	w := &walker{path: path}
	if !walkEveryRule {
		w.ix = newSrcIndex(path, starts)
	}
	return w
}

// walkEveryRule turns the source index off; tests compare both walks.
var walkEveryRule = false

func (w *walker) frame(c *Chain, via *hop) frame {
	return frame{chain: c, cand: w.ix.chain(c), via: via}
}

func (w *walker) note(reason string) {
	for _, r := range w.reasons {
		if r == reason {
			return
		}
	}
	w.reasons = append(w.reasons, reason)
}

// fromBase runs p through path[bi:]: every base chain must accept.
func (w *walker) fromBase(p Packet, bi int) outcome {
	for ; bi < len(w.path); bi++ {
		bc := w.path[bi]
		if (bc.Device != "" && bc.Device != p.IIf) || !onPath(bc, &p) {
			continue
		}
		first := [1]frame{w.frame(bc.Chain, nil)}
		p.CtStage = bc.ctStage()
		return w.run(&p, bi, first[:])
	}
	return w.delivered(p)
}

// run continues evaluation at the top of stack. It works on its own copy
// of the packet and the stack.
func (w *walker) run(pkt *Packet, bi int, stk []frame) outcome {
	s := w.enter(pkt, stk)
	p, stack := &s.p, s.frames
	defer func() { w.leave(s, stack) }()
	for {
		w.budget--
		if w.budget < 0 {
			w.note("too many undecided branches to follow")
			return both
		}
		top := &stack[len(stack)-1]
		if top.cand != nil && w.ix.valid(p) {
			// The rules skipped are false for this piece: each costs the
			// budget the visit that found it false would have.
			j := top.cand.next(top.next)
			w.budget -= j - top.next
			top.next = j
			if w.budget < 0 {
				w.note("too many undecided branches to follow")
				return both
			}
		}
		if top.next >= len(top.chain.Rules) {
			if len(stack) == 1 {
				return w.policy(*p, bi)
			}
			stack = stack[:len(stack)-1]
			continue
		}
		r := top.chain.Rules[top.next]
		top.next++
		if r.Map == nil && r.Verdict.Kind == Continue && len(r.Actions) == 0 {
			continue // LOG, counter: no effect on the fate
		}
		t, why := match(r, p)
		switch t {
		case False:
			continue
		case True:
			if o, done := w.fire(r, p, bi, &stack); done {
				return o
			}
		case Chosen:
			// The client takes whichever branch gets it in.
			q := *p
			st := cloneStack(stack)
			mark := len(w.choices)
			o, done := w.fire(r, &q, bi, &st)
			if !done {
				o = w.run(&q, bi, st)
			}
			if o == accepted {
				// The client takes this branch; the other need not be
				// walked (forks in a row would otherwise double the work
				// each time).
				y, _ := phrases(why)
				w.addChoice(y, r.Origin)
				return accepted
			}
			yes := append([]string(nil), w.choices[mark:]...)
			w.choices = w.choices[:mark]
			decYes := w.dec
			o2 := w.run(p, bi, stack)
			return w.choose(o, o2, mark, yes, why, r.Origin, decYes)
		default:
			w.note(why)
			q := *p
			st := cloneStack(stack)
			o, done := w.fire(r, &q, bi, &st)
			if !done {
				o = w.run(&q, bi, st)
			}
			if o == both {
				return both
			}
			return o | w.run(p, bi, stack)
		}
	}
}

// match evaluates a rule's conjunction. Unknown wins over Chosen: a
// branch the client cannot pick is followed as undecided.
func match(r *Rule, p *Packet) (Tri, string) {
	res, why := True, ""
	for _, c := range r.Conds {
		t, reason := c.Eval(p)
		switch {
		case t == False:
			return False, ""
		case t == Unknown && res != Unknown:
			res, why = Unknown, reason
		case t == Chosen && res == True:
			res, why = Chosen, reason
		case t == Chosen && res == Chosen:
			why = ""
		}
	}
	return res, why
}

// choose merges the two branches of a condition the client decides: o
// when it holds (with the choices yes that branch needed), o2 when it
// does not (its choices are w.choices[mark:]). The client gets in when
// either branch lets it; the choice it relies on is recorded.
//
// decYes is what decided the first branch; w.dec holds the second's.
func (w *walker) choose(o, o2 outcome, mark int, yes []string, why, origin string, decYes verdictBy) outcome {
	y, n := phrases(why)
	switch {
	case o == accepted && o2 == accepted:
		// Either way in: keep the branch that needs fewer choices.
		if len(yes) < len(w.choices)-mark {
			w.choices = append(w.choices[:mark], yes...)
			w.dec = decYes
		}
		return accepted
	case o == accepted:
		w.choices = append(w.choices[:mark], yes...)
		w.addChoice(y, origin)
		w.dec = decYes
		return accepted
	case o2 == accepted:
		w.addChoice(n, origin)
		return accepted
	}
	w.choices = w.choices[:mark]
	return o | o2
}

// addChoice records a choice phrase with the rule filled in; an empty
// phrase is the plain first SYN's branch and is not recorded.
func (w *walker) addChoice(phrase, origin string) {
	if phrase != "" {
		w.choices = append(w.choices, strings.ReplaceAll(phrase, "%s", origin))
	}
}

// fire applies a matched rule. It returns done=true with the outcome when
// the rule ended the walk; otherwise it has updated p and stack and the
// caller goes on.
func (w *walker) fire(r *Rule, p *Packet, bi int, stack *[]frame) (outcome, bool) {
	for _, a := range r.Actions {
		a.apply(p)
	}
	if r.Map == nil {
		return w.verdict(r.Verdict, r, p, bi, stack)
	}
	return w.fireMap(r, 0, p, bi, stack)
}

// fireMap looks up the verdict map of r from entry i on, after the rule's
// actions; see fire for the return values.
func (w *walker) fireMap(r *Rule, i int, p *Packet, bi int, stack *[]frame) (outcome, bool) {
	m := r.Map
	cand := w.ix.verdictMap(m, p)
	for i = cand.next(i); i < len(m.Entries); i = cand.next(i + 1) {
		e := m.Entries[i]
		t, why := e.Cond.Eval(p)
		switch t {
		case True:
			return w.verdict(e.Verdict, r, p, bi, stack)
		case Unknown, Chosen:
			if t == Unknown {
				w.note(why)
			}
			q := *p
			st := cloneStack(*stack)
			mark := len(w.choices)
			o, done := w.verdict(e.Verdict, r, &q, bi, &st)
			if !done {
				o = w.run(&q, bi, st)
			}
			yes := append([]string(nil), w.choices[mark:]...)
			decYes := w.dec
			if t == Chosen {
				w.choices = w.choices[:mark]
			}
			o2, done2 := w.fireMap(r, i+1, p, bi, stack)
			if !done2 {
				o2 = w.run(p, bi, *stack)
			}
			if t == Unknown {
				return o | o2, true
			}
			return w.choose(o, o2, mark, yes, why, "a verdict map element", decYes), true
		}
	}
	return 0, false
}

// verdict applies one verdict of rule r; see fire for the return values.
func (w *walker) verdict(v Verdict, r *Rule, p *Packet, bi int, stack *[]frame) (outcome, bool) {
	switch v.Kind {
	case Continue:
		return 0, false
	case Accept:
		// accept ends only this base chain; the next one still runs.
		o := w.fromBase(*p, bi+1)
		if o == accepted {
			w.acceptedBy(w.ruleDecision(r, bi, *stack))
		}
		return o, true
	case Drop, Reject:
		w.dec = w.ruleDecision(r, bi, *stack)
		return refused, true
	case Nat:
		// Like accept, after the rewrite.
		if why, ok := natVerdict(w.routing, v.Nat, p); !ok {
			w.note(why)
			return both, true
		}
		o := w.fromBase(*p, bi+1)
		if o == accepted {
			w.acceptedBy(w.ruleDecision(r, bi, *stack))
		}
		return o, true
	case Jump, Goto:
		if len(*stack) >= maxDepth {
			w.note("jumps nested deeper than " + itoa(maxDepth))
			return both, true
		}
		top := &(*stack)[len(*stack)-1]
		via := w.hop(r, top.via)
		if v.Kind == Goto {
			// goto replaces the current frame: the end of the target
			// returns to the chain that jumped here.
			*top = w.frame(v.Target, via)
		} else {
			*stack = append(*stack, w.frame(v.Target, via))
		}
		return 0, false
	case Return:
		if len(*stack) == 1 {
			return w.policy(*p, bi), true
		}
		*stack = (*stack)[:len(*stack)-1]
		return 0, false
	}
	w.note(v.Reason)
	return both, true
}

// policy applies the base chain's policy.
func (w *walker) policy(p Packet, bi int) outcome {
	if w.path[bi].Policy == Accept {
		o := w.fromBase(p, bi+1)
		if o == accepted {
			w.acceptedBy(w.policyDecision(bi))
		}
		return o
	}
	w.dec = w.policyDecision(bi)
	return refused
}

func cloneStack(s []frame) []frame {
	out := make([]frame, len(s), len(s)+4)
	copy(out, s)
	return out
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
