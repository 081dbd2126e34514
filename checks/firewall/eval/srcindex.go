package eval

import (
	"math/bits"
	"net/netip"
	"slices"
	"sort"
)

// The walk evaluates one representative per source piece, and each piece
// would otherwise test every rule of every chain it enters: pieces × rules,
// quadratic on a long chain of per-source rules. srcIndex removes, before
// the walk sees them, the rules that cannot change the fate of the
// current piece:
//
//   - a rule whose conjunction holds a source-address condition false for
//     the piece: it is false whatever its other conditions say;
//   - a rule without effect (LOG, counter), which the walk skips anyway;
//   - a plain jump (no actions) to a chain in which every rule is removed:
//     the target falls off its end and the walk resumes after the jump,
//     as if the jump had not matched.
//
// Source conditions are constant within a piece and change only at piece
// boundaries, so a sweep over the pieces in address order keeps, for every
// rule, the number of its source conditions that hold, updated by +1/-1
// events where a condition's ranges begin and end. Each chain (and each
// verdict map) keeps the positions left in a bit set that the walk asks
// for "the next position at or after i". A chain's emptiness is updated
// with its bit set and passed on to the jumps that target it; chains form
// no cycles (the kernel refuses them), so the propagation ends.

// candidates is the bit set of one rule list (a chain's rules or a
// verdict map's entries). A nil *candidates means every position.
type candidates struct {
	words []uint64
	n     int
	// live counts the positions set; users are the slots of the jumps
	// elided while live is zero.
	live  int
	users []int32
}

func newCandidates(n int) *candidates {
	return &candidates{words: make([]uint64, (n+63)/64), n: n}
}

// next returns the first candidate position at or after i, or n.
func (c *candidates) next(i int) int {
	if c == nil {
		return i
	}
	if i >= c.n {
		return c.n
	}
	wi := i >> 6
	w := c.words[wi] & (^uint64(0) << (i & 63))
	for {
		if w != 0 {
			return min(wi<<6+bits.TrailingZeros64(w), c.n)
		}
		wi++
		if wi >= len(c.words) {
			return c.n
		}
		w = c.words[wi]
	}
}

func (c *candidates) set(i int, on bool) {
	if on {
		c.words[i>>6] |= 1 << (i & 63)
		c.live++
	} else {
		c.words[i>>6] &^= 1 << (i & 63)
		c.live--
	}
}

// slot is one rule or map entry whose presence changes during the sweep.
type slot struct {
	list *candidates
	pos  int32
	// need is the number of indexed source conditions; init how many of
	// them hold before the first piece (the negated ones).
	need, init int32
	// target is the chain a plain jump goes to: the rule is present only
	// while the target is not empty.
	target *candidates
	on     bool
}

// sweepEvent changes a slot's count of holding conditions at the start of
// a piece.
type sweepEvent struct {
	piece, slot, delta int32
}

type srcIndex struct {
	starts []netip.Addr
	keys   []addrKey // starts as integers, for fast searches
	chains map[*Chain]*candidates
	maps   map[*VerdictMap]*candidates
	slots  []slot
	count  []int32
	events []sweepEvent // sorted by piece

	piece int // current piece, -1 before the sweep starts
	ev    int // first event not applied
	// src is the address the candidate sets are valid for: the walk uses
	// them only while the packet's source is this representative.
	src netip.Addr
}

// newSrcIndex indexes every rule and map entry of the chains reachable
// from path over the pieces that start at starts (sorted, exact: every
// range bound of a source condition is a piece start, as Points made it).
func newSrcIndex(path []*BaseChain, starts []netip.Addr) *srcIndex {
	keys := make([]addrKey, len(starts))
	for i, a := range starts {
		keys[i] = keyOf(a)
	}
	ix := &srcIndex{
		starts: starts,
		keys:   keys,
		chains: map[*Chain]*candidates{},
		maps:   map[*VerdictMap]*candidates{},
		piece:  -1,
		// Most indexed rules have one range: a start and an end.
		events: make([]sweepEvent, 0, 2*len(starts)),
	}
	chains := reachable(path)
	for _, c := range chains {
		ix.chains[c] = newCandidates(len(c.Rules))
	}
	// Emptiness passed along a cycle of jumps could hold itself up; the
	// kernel refuses such rulesets, and the walk reports them (and nesting
	// too deep) as undecided, so only a model whose walks never reach the
	// depth limit elides jumps.
	height, ok := jumpHeight(chains)
	elide := ok && height < maxDepth-1
	// A chain at conntrack's own priority leaves the state unknown.
	ctKnown := true
	for _, b := range path {
		ctKnown = ctKnown && b.ctStage() != CtMaybe
	}
	for _, c := range chains {
		cl := ix.chains[c]
		for i, r := range c.Rules {
			if r.Map == nil && r.Verdict.Kind == Continue && len(r.Actions) == 0 {
				continue // no effect on the fate: never a candidate
			}
			var target *candidates
			if elide && r.Map == nil && r.Verdict.Kind == Jump && len(r.Actions) == 0 && decided(r.Conds, ctKnown) {
				target = ix.chains[r.Verdict.Target]
			}
			ix.add(cl, i, r.Conds, target)
			if r.Map == nil {
				continue
			}
			ml := newCandidates(len(r.Map.Entries))
			ix.maps[r.Map] = ml
			for j, e := range r.Map.Entries {
				ix.add(ml, j, []Cond{e.Cond}, nil)
			}
		}
	}
	ix.events = sortByPiece(ix.events, len(starts))
	ix.count = make([]int32, len(ix.slots))
	ix.reset()
	return ix
}

// jumpHeight returns the longest chain of jumps, gotos and verdict-map
// targets among chains, or false when they form a cycle.
func jumpHeight(chains []*Chain) (int, bool) {
	const open = -1
	height := make(map[*Chain]int, len(chains))
	var visit func(c *Chain) (int, bool)
	visit = func(c *Chain) (int, bool) {
		if h, seen := height[c]; seen {
			return h, h != open
		}
		height[c] = open
		h, ok := 0, true
		below := func(t *Chain) {
			if t != nil && ok {
				var th int
				th, ok = visit(t)
				h = max(h, th+1)
			}
		}
		for _, r := range c.Rules {
			below(r.Verdict.Target)
			if r.Map != nil {
				for _, e := range r.Map.Entries {
					below(e.Verdict.Target)
				}
			}
		}
		if !ok {
			return 0, false
		}
		height[c] = h
		return h, true
	}
	h := 0
	for _, c := range chains {
		ch, ok := visit(c)
		if !ok {
			return 0, false
		}
		h = max(h, ch)
	}
	return h, true
}

// decided reports whether conds can never be Unknown. Only a jump whose
// conditions are decided is elided: an unknown one would fork the walk
// and record its reason, which the result reports.
func decided(conds []Cond, ctKnown bool) bool {
	for _, c := range conds {
		switch c := c.(type) {
		case Addr, Port, Proto, IsFamily:
		case Conntrack:
			if !ctKnown {
				return false
			}
		case AddrType:
			if c.IfaceIn {
				return false // chosen for the host's own addresses
			}
		case Iface:
			if c.Out {
				return false // unknown on the forward path without routes
			}
		case Const:
			if c.Value == Unknown || c.Value == Chosen {
				return false
			}
		case And:
			if !decided(c, ctKnown) {
				return false
			}
		case Or:
			if !decided(c, ctKnown) {
				return false
			}
		case Not:
			if !decided([]Cond{c.C}, ctKnown) {
				return false
			}
		default:
			return false // Mark, and any kind added later
		}
	}
	return true
}

// add indexes position i of list by the source conditions among conds
// and their conjuncts, and by the emptiness of target when it is set. A
// position with neither, or whose bounds are not piece starts and that
// has no target, is a candidate for every piece.
func (ix *srcIndex) add(list *candidates, i int, conds []Cond, target *candidates) {
	id := int32(len(ix.slots))
	s := slot{list: list, pos: int32(i), target: target}
	mark := len(ix.events)
	if !ix.addConds(&s, conds) {
		ix.events = ix.events[:mark]
		s.need, s.init = 0, 0
	}
	if s.need == 0 && target == nil {
		list.set(i, true)
		return
	}
	ix.slots = append(ix.slots, s)
	for k := mark; k < len(ix.events); k++ {
		ix.events[k].slot = id
	}
	if target != nil {
		target.users = append(target.users, id)
	}
}

// addConds appends the events of the source conditions among conds and
// their conjuncts to ix.events, counting them in s. It reports false
// when a bound is not a piece start.
func (ix *srcIndex) addConds(s *slot, conds []Cond) bool {
	for _, c := range conds {
		switch c := c.(type) {
		case And:
			if !ix.addConds(s, c) {
				return false
			}
		case Addr:
			if c.Field != Src {
				continue
			}
			s.need++
			in, out := int32(1), int32(-1)
			if c.Neg {
				s.init++
				in, out = -1, 1
			}
			for _, r := range c.Set.Ranges() {
				p, ok := ix.pieceStart(r.From())
				if !ok {
					return false
				}
				ix.events = append(ix.events, sweepEvent{piece: p, delta: in})
				end := r.To().Next()
				if !end.IsValid() || FamilyOf(end) != FamilyOf(r.To()) {
					continue // the range runs to the end of the space
				}
				if p, ok = ix.pieceStart(end); !ok {
					return false
				}
				ix.events = append(ix.events, sweepEvent{piece: p, delta: out})
			}
		}
	}
	return true
}

// sortByPiece orders events by piece with a counting sort: linear, where
// a comparison sort was a tenth of the evaluation of a long flat chain.
func sortByPiece(evs []sweepEvent, pieces int) []sweepEvent {
	at := make([]int32, pieces+1)
	for _, e := range evs {
		at[e.piece+1]++
	}
	for i := 1; i <= pieces; i++ {
		at[i] += at[i-1]
	}
	out := make([]sweepEvent, len(evs))
	for _, e := range evs {
		out[at[e.piece]] = e
		at[e.piece]++
	}
	return out
}

// pieceStart returns the piece that starts exactly at a.
func (ix *srcIndex) pieceStart(a netip.Addr) (int32, bool) {
	if len(ix.starts) == 0 || FamilyOf(a) != FamilyOf(ix.starts[0]) {
		return 0, false
	}
	k := keyOf(a)
	i, found := slices.BinarySearchFunc(ix.keys, k, addrKey.compare)
	return int32(i), found
}

// reset returns every slot to its state before the first piece.
func (ix *srcIndex) reset() {
	for id := range ix.slots {
		s := &ix.slots[id]
		if s.on {
			s.on = false
			s.list.set(int(s.pos), false)
		}
		ix.count[id] = s.init
	}
	for id := range ix.slots {
		ix.update(int32(id))
	}
	ix.piece, ix.ev = -1, 0
}

// update sets a slot's bit from its count and target, and passes a
// change of its chain's emptiness on to the jumps that target the chain.
func (ix *srcIndex) update(id int32) {
	s := &ix.slots[id]
	on := ix.count[id] == s.need && (s.target == nil || s.target.live > 0)
	if on == s.on {
		return
	}
	s.on = on
	l := s.list
	l.set(int(s.pos), on)
	if on && l.live == 1 || !on && l.live == 0 {
		for _, u := range l.users {
			ix.update(u)
		}
	}
}

// seek moves the sweep to the piece holding src. Evaluate visits pieces
// in order within a context, so the sweep restarts once per context.
func (ix *srcIndex) seek(src netip.Addr) {
	if ix == nil {
		return
	}
	i := ix.piece + 1 // Evaluate visits the pieces in order
	if i < 0 || i >= len(ix.starts) || ix.starts[i].Compare(src) > 0 ||
		(i+1 < len(ix.starts) && ix.starts[i+1].Compare(src) <= 0) {
		k := keyOf(src)
		i = sort.Search(len(ix.keys), func(i int) bool { return ix.keys[i].compare(k) > 0 }) - 1
	}
	if i < ix.piece {
		ix.reset()
	}
	for ix.ev < len(ix.events) && int(ix.events[ix.ev].piece) <= i {
		e := ix.events[ix.ev]
		ix.count[e.slot] += e.delta
		ix.update(e.slot)
		ix.ev++
	}
	ix.piece, ix.src = i, src
}

// chain returns the candidates of c's rules; they hold only while valid.
func (ix *srcIndex) chain(c *Chain) *candidates {
	if ix == nil {
		return nil
	}
	return ix.chains[c]
}

// valid reports whether the candidate sets apply to p: its source is the
// representative the sweep stands at.
func (ix *srcIndex) valid(p *Packet) bool {
	return ix != nil && p.Src == ix.src && !p.SrcNat.IsValid() && p.SrcNatBy == ""
}

// verdictMap is chain for the entries of a verdict map.
func (ix *srcIndex) verdictMap(m *VerdictMap, p *Packet) *candidates {
	if !ix.valid(p) {
		return nil
	}
	return ix.maps[m]
}
