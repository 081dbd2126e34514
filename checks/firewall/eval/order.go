package eval

import (
	"fmt"
	"slices"
	"strings"

	"go4.org/netipx"
)

// Base chains that share a hook and a priority run in the order the
// kernel registered their hooks (the last registered first), and the nat
// chains of a hook run from the NAT core's hook, registered with the
// first nat chain: a ruleset listing tells neither order. Where the chains
// of such a tie only filter, any order gives the same fate; where one of
// them changes the packet (rewrites it, or sets a mark the others may
// read), the fate may depend on the order, and every order is evaluated:
// a source is accepted only if every order accepts it, refused only if
// every order refuses it, and undecided otherwise.

// maxOrders bounds the orders evaluated for one query; past it, the
// sources whose fate the order could change are not decided.
const maxOrders = 24

// runOrders returns the orders in which the kernel may run path (the
// first is path itself), and a description of the ties that make them
// several; nil orders when there are more than maxOrders.
func runOrders(path []*BaseChain) (orders [][]*BaseChain, ties string) {
	orders = [][]*BaseChain{path}
	var desc []string
	for lo := 0; lo < len(path); {
		hi := lo + 1
		for hi < len(path) && path[hi].Hook == path[lo].Hook && path[hi].runPriority() == path[lo].runPriority() {
			hi++
		}
		members := tieMembers(path[lo:hi])
		lo0 := lo
		lo = hi
		if len(members) < 2 || !anyModifies(members) {
			continue
		}
		perms := permutations(len(members))
		if len(orders)*len(perms) > maxOrders {
			return nil, tieDescription(members)
		}
		desc = append(desc, tieDescription(members))
		var next [][]*BaseChain
		for _, o := range orders {
			for _, p := range perms {
				n := append([]*BaseChain(nil), o[:lo0]...)
				for _, i := range p {
					n = append(n, members[i]...)
				}
				next = append(next, append(n, o[hi:]...))
			}
		}
		orders = next
	}
	return orders, strings.Join(desc, "; ")
}

// tieMembers splits chains of one hook and run priority into what the
// kernel orders on its own: each chain but the nat ones, which run
// together, in their own order, from the NAT core's hook.
func tieMembers(chains []*BaseChain) [][]*BaseChain {
	var out [][]*BaseChain
	var nat []*BaseChain
	for _, b := range chains {
		if b.NAT {
			nat = append(nat, b)
			continue
		}
		out = append(out, []*BaseChain{b})
	}
	if nat != nil {
		out = append(out, nat)
	}
	return out
}

// anyModifies reports whether a member changes what a later chain sees:
// a nat chain, or a chain reaching a rule with an action (a mark set).
func anyModifies(members [][]*BaseChain) bool {
	for _, m := range members {
		for _, b := range m {
			if b.NAT {
				return true
			}
			for _, c := range reachable([]*BaseChain{b}) {
				for _, r := range c.Rules {
					if len(r.Actions) > 0 {
						return true
					}
				}
			}
		}
	}
	return false
}

func tieDescription(members [][]*BaseChain) string {
	var names []string
	for _, m := range members {
		for _, b := range m {
			names = append(names, b.original().Origin)
		}
	}
	return fmt.Sprintf("the kernel runs %s in the order their hooks were registered, which the ruleset does not tell (hook %v, priority %d)",
		strings.Join(names, ", "), members[0][0].Hook, members[0][0].runPriority())
}

// permutations lists the orders of n members (n small).
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{nil}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := make([]int, 0, n)
			q = append(q, p[:i]...)
			q = append(q, n-1)
			out = append(out, append(q, p[i:]...))
		}
	}
	return out
}

// mergeOrders makes res, evaluated on one order, the answer for every
// order: others are the results of the other orders, over the same
// source pieces.
func (res *Result) mergeOrders(others []*Result, ties string) {
	all := append([]*Result{res}, others...)
	acc, any := intersectUnion(all, func(r *Result) (*netipx.IPSet, *netipx.IPSet) { return r.Accepted, r.Undecided })
	lacc, lany := intersectUnion(all, func(r *Result) (*netipx.IPSet, *netipx.IPSet) { return r.LoopbackAccepted, r.LoopbackUndecided })
	var und, lund netipx.IPSetBuilder
	und.AddSet(any)
	und.RemoveSet(acc)
	lund.AddSet(lany)
	lund.RemoveSet(lacc)
	u, _ := und.IPSet()
	lu, _ := lund.IPSet()
	disagree := false
	for _, r := range all {
		if !sameSet(r.Undecided, u) || !sameSet(r.LoopbackUndecided, lu) {
			disagree = true
		}
	}
	res.Accepted, res.Undecided, res.LoopbackAccepted, res.LoopbackUndecided = acc, u, lacc, lu
	reasons := map[string]bool{}
	choices := map[string]bool{}
	via := map[Delivery]bool{}
	for _, r := range all {
		for _, x := range r.Reasons {
			reasons[x] = true
		}
		for _, x := range r.Choices {
			choices[x] = true
		}
		for _, d := range r.Via {
			via[d] = true
		}
	}
	if disagree {
		reasons[ties] = true
	}
	res.Reasons, res.Choices, res.Via = sortedKeys(reasons), sortedKeys(choices), sortedVia(via)
	for i := range res.Contexts {
		c := &res.Contexts[i]
		var a, cu netipx.IPSetBuilder
		a.AddSet(c.Accepted)
		a.Intersect(acc)
		cu.AddSet(c.Accepted)
		cu.AddSet(c.Undecided)
		cu.RemoveSet(acc)
		c.Accepted, _ = a.IPSet()
		c.Undecided, _ = cu.IPSet()
	}
	// A piece whose fate differs between orders is undecided: nothing
	// on one order explains it.
	d := &res.explained.decs
	for i := range d.fate {
		f := d.fateOf(i)
		for _, r := range others {
			if r.explained.decs.fateOf(i) != f {
				d.set(i, pieceUndecided, verdictBy{})
				break
			}
		}
	}
}

// undecidedOrder is the answer when there are too many orders to
// evaluate: no source's fate is known.
func (res *Result) undecidedOrder(ties string) {
	e := res.explained
	loop := e.fam.Loopback()
	var und, lund netipx.IPSetBuilder
	for i := range e.srcs {
		r := pieceRange(e.srcs, i, e.fam)
		if loop.Contains(r.From()) {
			lund.AddRange(r)
		} else {
			und.AddRange(r)
		}
		e.decs.set(i, pieceUndecided, verdictBy{})
	}
	res.Undecided, _ = und.IPSet()
	res.LoopbackUndecided, _ = lund.IPSet()
	res.Accepted, res.LoopbackAccepted = &netipx.IPSet{}, &netipx.IPSet{}
	for i := range res.Contexts {
		c := &res.Contexts[i]
		var cu netipx.IPSetBuilder
		cu.AddSet(c.Accepted)
		cu.AddSet(c.Undecided)
		c.Accepted = &netipx.IPSet{}
		c.Undecided, _ = cu.IPSet()
	}
	res.Reasons = append(res.Reasons, ties)
}

// intersectUnion returns the intersection of the first sets of all and
// the union of both sets of all.
func intersectUnion(all []*Result, sets func(*Result) (*netipx.IPSet, *netipx.IPSet)) (inter, union *netipx.IPSet) {
	var ib, ub netipx.IPSetBuilder
	for i, r := range all {
		a, u := sets(r)
		if i == 0 {
			ib.AddSet(a)
		} else {
			ib.Intersect(a)
		}
		ub.AddSet(a)
		ub.AddSet(u)
	}
	inter, _ = ib.IPSet()
	union, _ = ub.IPSet()
	return inter, union
}

// sameSet compares sets, nil being empty.
func sameSet(a, b *netipx.IPSet) bool {
	if a == nil {
		a = &netipx.IPSet{}
	}
	if b == nil {
		b = &netipx.IPSet{}
	}
	return a.Equal(b)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
