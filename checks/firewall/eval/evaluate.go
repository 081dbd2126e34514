package eval

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"go4.org/netipx"
)

// Query asks about new TCP connections to one host port over one family.
// When To is set, only connections a DNAT or REDIRECT sends on to port To
// count: Port is then a host port published to To.
type Query struct {
	Family Family
	Port   uint16
	To     uint16
}

func (q Query) String() string {
	if q.To != 0 && q.To != q.Port {
		return fmt.Sprintf("tcp/%d %v via host port %d", q.To, q.Family, q.Port)
	}
	return fmt.Sprintf("tcp/%d %v", q.Port, q.Family)
}

// Context is one class of the packet properties other than the source
// address that some rule distinguishes: input interface, destination
// address, source port.
type Context struct {
	// IIf is the representative interface name; IIfDesc describes its class.
	IIf, IIfDesc string
	Dst          netipx.IPRange
	SPort        PortRange
}

// ContextResult is the outcome for the remote sources in one context.
type ContextResult struct {
	Context
	Accepted, Undecided *netipx.IPSet
}

// Result answers a Query.
type Result struct {
	Query Query
	// Accepted holds the remote sources (arriving on any interface but lo)
	// whose SYN is delivered in at least one context. Undecided holds the
	// sources not in Accepted whose fate depends on an unknown condition.
	Accepted, Undecided *netipx.IPSet
	// LoopbackAccepted and LoopbackUndecided are the same for the host's
	// own traffic from the loopback range over lo.
	LoopbackAccepted, LoopbackUndecided *netipx.IPSet
	// Contexts lists the contexts in which something is accepted or
	// undecided; when there is more than one context the caller can say
	// on which interface or to which destination.
	Contexts []ContextResult
	// ContextCount is the number of contexts evaluated.
	ContextCount int
	// Reasons explains Undecided (and undecided loopback traffic).
	Reasons []string
	// Choices lists what some accepted sources rely on the client
	// choosing: the shape of its first SYN ("with first-SYN TCP flags
	// that rule X does not match") or the history of its own traffic
	// ("while under the rate limit of rule X").
	Choices []string
	// Pieces is the number of source-address pieces evaluated per context.
	Pieces int
	// Via lists how accepted connections were delivered (locally, or
	// through a DNAT and FORWARD).
	Via []Delivery
	// explained keeps what decided each source piece; see Explain.
	explained *explanation
}

// Options bounds the work of one evaluation.
type Options struct {
	// MaxContexts caps interface × destination × source-port classes.
	MaxContexts int
	// StepBudget caps rule visits for one representative packet.
	StepBudget int
}

// DefaultOptions are generous for real rulesets.
var DefaultOptions = Options{MaxContexts: 4096, StepBudget: 1 << 20}

// ErrTooComplex is returned when the rules distinguish more contexts than
// Options.MaxContexts allows.
var ErrTooComplex = errors.New("ruleset distinguishes too many interface/destination/source-port classes")

// Path returns the base chains a locally delivered packet of the family
// crosses, in the order the kernel runs them.
func (rs *Ruleset) Path(f Family) []*BaseChain {
	var out []*BaseChain
	for _, b := range rs.BaseChains {
		if b.sees(f) && (b.Hook == Ingress || b.Hook == Prerouting || b.Hook == Input) {
			out = append(out, b)
		}
	}
	slices.SortStableFunc(out, runOrder)
	return out
}

// runOrder orders base chains of one or several hooks as the kernel runs
// them. The nat chains of a hook do not run at their own priority: the
// NAT core runs all of them (nft's and iptables' alike) from one hook of
// its own, at NF_IP_PRI_NAT_DST (-100) in PREROUTING and OUTPUT and at
// NF_IP_PRI_NAT_SRC (100) in INPUT and POSTROUTING; their priorities only
// order them among themselves. A nat chain of priority 50 in PREROUTING
// rewrites the destination before a filter chain of priority 0 sees it.
func runOrder(a, b *BaseChain) int {
	if a.Hook != b.Hook {
		return int(a.Hook) - int(b.Hook)
	}
	pa, pb := a.runPriority(), b.runPriority()
	if pa != pb {
		return pa - pb
	}
	// At a tie the kernel runs hooks in the order they were registered,
	// which the ruleset does not tell; the other chains are put first.
	if a.NAT != b.NAT {
		if a.NAT {
			return 1
		}
		return -1
	}
	if a.NAT {
		return a.Priority - b.Priority
	}
	return 0
}

// ctStage tells whether conntrack has run when the chain runs: it hooks
// prerouting and output at -200 (NF_IP_PRI_CONNTRACK).
func (b *BaseChain) ctStage() CtStage {
	switch {
	case b.Hook == Ingress:
		return CtNotYet
	case b.Hook != Prerouting && b.Hook != Output:
		return CtSeen
	}
	switch p := b.runPriority(); {
	case p < -200:
		return CtNotYet
	case p == -200:
		return CtMaybe
	}
	return CtSeen
}

// runPriority is the priority of the netfilter hook the chain runs from.
func (b *BaseChain) runPriority() int {
	if b.NAT {
		switch b.Hook {
		case Prerouting, Output:
			return -100
		case Input, Postrouting:
			return 100
		}
	}
	return b.Priority
}

// reachable returns every chain reachable from the path, each once.
func reachable(path []*BaseChain) []*Chain {
	seen := map[*Chain]bool{}
	var out []*Chain
	var visit func(c *Chain)
	visit = func(c *Chain) {
		if c == nil || seen[c] {
			return
		}
		seen[c] = true
		out = append(out, c)
		for _, r := range c.Rules {
			visit(r.Verdict.Target)
			if r.Map != nil {
				for _, e := range r.Map.Entries {
					visit(e.Verdict.Target)
				}
			}
		}
	}
	for _, b := range path {
		visit(b.Chain)
	}
	return out
}

// Evaluate computes the exact sets of sources whose new connection to the
// queried port is delivered, whatever order the kernel runs tied base
// chains in (see runOrders).
func Evaluate(rs *Ruleset, q Query, opt Options) (*Result, error) {
	if opt.MaxContexts <= 0 {
		opt.MaxContexts = DefaultOptions.MaxContexts
	}
	if opt.StepBudget <= 0 {
		opt.StepBudget = DefaultOptions.StepBudget
	}
	full := rs.fullPath(q.Family)
	orders, ties := runOrders(full)
	if orders == nil {
		res, err := evaluatePath(rs, full, q, opt)
		if err != nil {
			return nil, err
		}
		res.undecidedOrder(ties)
		return res, nil
	}
	res, err := evaluatePath(rs, orders[0], q, opt)
	if err != nil || len(orders) == 1 {
		return res, err
	}
	var others []*Result
	for _, o := range orders[1:] {
		r, err := evaluatePath(rs, o, q, opt)
		if err != nil {
			return nil, err
		}
		others = append(others, r)
	}
	res.mergeOrders(others, ties)
	return res, nil
}

// evaluatePath is Evaluate on one order of the base chains.
func evaluatePath(rs *Ruleset, full []*BaseChain, q Query, opt Options) (*Result, error) {
	path := specializePath(full, q)
	var pt Points
	for _, c := range reachable(path) {
		for _, r := range c.Rules {
			pt.addRule(r)
		}
	}
	for _, b := range path {
		if b.Device != "" {
			pt.addIface(IfName{Name: b.Device})
		}
	}
	fi := famIndex(q.Family)
	loop := q.Family.Loopback()
	// The loopback range is always a piece of its own: it is evaluated
	// only as the host's own traffic.
	lr := netipx.RangeOfPrefix(loop)
	pt.addRange(Src, q.Family, lr)

	srcs := addrPieces(pt.src[fi], q.Family)
	dsts := addrPieces(pt.dst[fi], q.Family)
	sports := portPieces(pt.sport)
	ifs := ifaceClasses(pt.ifaces)

	// A remote packet never goes to a loopback address; pick each
	// destination piece's representative outside the loopback range.
	type dstPiece struct {
		rep netip.Addr
		r   netipx.IPRange
	}
	var remoteDsts []dstPiece
	for i := range dsts {
		r := pieceRange(dsts, i, q.Family)
		rep := r.From()
		if loop.Contains(rep) {
			rep = lr.To().Next()
			if !rep.IsValid() || !r.Contains(rep) {
				continue
			}
		}
		remoteDsts = append(remoteDsts, dstPiece{rep, r})
	}
	n := len(ifs) * len(remoteDsts) * len(sports)
	if n > opt.MaxContexts {
		return nil, fmt.Errorf("%w: %d > %d", ErrTooComplex, n, opt.MaxContexts)
	}

	res := &Result{Query: q, Pieces: len(srcs), ContextCount: n}
	w := newWalker(path, srcs)
	w.routing, w.to, w.via = rs.Routing, q.To, map[Delivery]bool{}
	w.allChoices = map[string]bool{}
	reasons := map[string]bool{}
	var acc, und netipx.IPSetBuilder
	decs := newDecisions(len(srcs), path)
	for _, ic := range ifs {
		for _, dp := range remoteDsts {
			for si := range sports {
				ctx := Context{IIf: ic.rep, IIfDesc: ic.desc, Dst: dp.r, SPort: portPiece(sports, si)}
				var ca, cu netipx.IPSetBuilder
				any := false
				for i, s := range srcs {
					if loop.Contains(s) {
						continue // martian on any interface but lo
					}
					p := NewSYN(s, dp.rep, ctx.SPort.Lo, q.Port, ic.rep)
					o := w.eval(p, opt.StepBudget, reasons)
					switch o {
					case accepted:
						ca.AddRange(pieceRange(srcs, i, q.Family))
						any = true
						if decs.fateOf(i) != pieceAccepted {
							decs.set(i, pieceAccepted, w.dec)
						}
					case both:
						cu.AddRange(pieceRange(srcs, i, q.Family))
						any = true
						if decs.fateOf(i) < pieceUndecided {
							decs.set(i, pieceUndecided, verdictBy{})
						}
					default:
						if decs.fateOf(i) == pieceUnseen {
							decs.set(i, pieceRefused, w.dec)
						}
					}
				}
				if !any {
					continue
				}
				cr := ContextResult{Context: ctx}
				cr.Accepted, _ = ca.IPSet()
				cr.Undecided, _ = cu.IPSet()
				acc.AddSet(cr.Accepted)
				und.AddSet(cr.Undecided)
				res.Contexts = append(res.Contexts, cr)
			}
		}
	}
	a, err := acc.IPSet()
	if err != nil {
		return nil, err
	}
	und.RemoveSet(a)
	u, err := und.IPSet()
	if err != nil {
		return nil, err
	}
	res.Accepted, res.Undecided = a, u

	// The host's own traffic: from the loopback range, over lo, to itself.
	var la, lu netipx.IPSetBuilder
	for i, s := range srcs {
		if !loop.Contains(s) {
			continue
		}
		var o outcome
		for si := range sports {
			p := NewSYN(s, s, portPiece(sports, si).Lo, q.Port, "lo")
			oi := w.eval(p, opt.StepBudget, reasons)
			// What decided the first source port is kept: it is the
			// explanation when every source port meets the same fate.
			if o == 0 {
				decs.set(i, pieceFate(oi), w.dec)
			}
			o |= oi
		}
		switch o {
		case accepted:
			la.AddRange(pieceRange(srcs, i, q.Family))
		case both:
			lu.AddRange(pieceRange(srcs, i, q.Family))
			decs.set(i, pieceUndecided, verdictBy{})
		}
	}
	res.LoopbackAccepted, _ = la.IPSet()
	res.LoopbackUndecided, _ = lu.IPSet()
	for r := range reasons {
		res.Reasons = append(res.Reasons, r)
	}
	slices.Sort(res.Reasons)
	for c := range w.allChoices {
		res.Choices = append(res.Choices, c)
	}
	slices.Sort(res.Choices)
	res.Via = sortedVia(w.via)
	res.explained = &explanation{srcs: srcs, fam: q.Family, decs: decs}
	return res, nil
}

// eval runs one representative and records the reasons when its fate is
// undecided.
func (w *walker) eval(p Packet, budget int, reasons map[string]bool) outcome {
	w.budget = budget
	w.reasons = w.reasons[:0]
	w.choices = w.choices[:0]
	w.ix.seek(p.Src)
	w.dec = verdictBy{}
	o := w.fromBase(p, 0)
	if o == both {
		for _, r := range w.reasons {
			reasons[r] = true
		}
	}
	if o == accepted && w.allChoices != nil {
		for _, c := range w.choices {
			w.allChoices[c] = true
		}
	}
	return o
}

// EvaluateAddr is the fate of one packet; tests use it as the brute-force
// reference.
func EvaluateAddr(rs *Ruleset, p Packet) (accept, undecided bool) {
	full := rs.fullPath(p.Family)
	orders, _ := runOrders(full)
	if orders == nil {
		return false, true
	}
	var o outcome
	for _, path := range orders {
		w := &walker{path: path, budget: DefaultOptions.StepBudget, routing: rs.Routing}
		o |= w.fromBase(p, 0)
	}
	return o == accepted, o == both
}
