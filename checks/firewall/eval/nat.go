package eval

import (
	"net/netip"
	"slices"
	"strconv"
)

// NatTarget is what a nat rule does to a new connection.
type NatTarget struct {
	// Source marks SNAT and MASQUERADE: the source changes, which never
	// decides whether the connection is delivered.
	Source bool
	// Redirect sends the connection to the host itself (REDIRECT).
	Redirect bool
	// Addr is the new destination of a DNAT; invalid keeps it. For a
	// source rewrite it is the new source; invalid when not known
	// (MASQUERADE, a range).
	Addr netip.Addr
	// SrcPort marks a source rewrite that also sets the source port.
	SrcPort bool
	// Port is the new destination port; 0 keeps it.
	Port uint16
	// Origin names the rule for messages.
	Origin string
}

// String is the target as messages show it ("203.0.113.2:6379").
func (n *NatTarget) String() string {
	port := ""
	if n.Port != 0 {
		port = strconv.Itoa(int(n.Port))
	}
	switch {
	case n.Redirect:
		if port == "" {
			return "this host"
		}
		return "local port " + port
	case !n.Addr.IsValid():
		return "port " + port
	case port == "":
		return n.Addr.String()
	}
	return netip.AddrPortFrom(n.Addr, n.Port).String()
}

// Routing tells where the kernel routes a destination. Local reports an
// address of the host itself; otherwise dev is the output interface ("" when
// unknown). ok=false means the route cannot be told.
type Routing interface {
	Route(a netip.Addr) (local bool, dev string, ok bool)
}

// routesHint tells the user how to make routing known offline.
const routesHint = " (give --routes with `ip -j route show table all` output)"

// Delivery describes how accepted connections got through: through INPUT
// to a local socket, or through FORWARD after a DNAT.
type Delivery struct {
	// Nat is the rewrite, nil when none happened.
	Nat *NatTarget
	// Forwarded is set when the connection left through FORWARD.
	Forwarded bool
}

func (d Delivery) String() string {
	switch {
	case d.Nat == nil:
		return "delivered locally"
	case d.Forwarded:
		return "published through DNAT to " + d.Nat.String() + "; INPUT rules do not apply"
	}
	return "redirected through DNAT to " + d.Nat.String()
}

// hasDNAT reports whether a destination rewrite is reachable from the
// chains.
func hasDNAT(path []*BaseChain) bool {
	for _, c := range reachable(path) {
		for _, r := range c.Rules {
			if r.Verdict.Kind == Nat && !r.Verdict.Nat.Source {
				return true
			}
			if r.Map != nil {
				for _, e := range r.Map.Entries {
					if e.Verdict.Kind == Nat && !e.Verdict.Nat.Source {
						return true
					}
				}
			}
		}
	}
	return false
}

// fullPath is Path plus, when some prerouting rule rewrites destinations,
// the FORWARD and POSTROUTING chains a DNAT'd connection may take instead
// of INPUT. The walker picks one branch per packet (see onPath).
func (rs *Ruleset) fullPath(f Family) []*BaseChain {
	path := rs.Path(f)
	if !hasDNAT(path) {
		return path
	}
	var fwd []*BaseChain
	for _, b := range rs.BaseChains {
		if b.sees(f) && (b.Hook == Forward || b.Hook == Postrouting) {
			fwd = append(fwd, b)
		}
	}
	slices.SortStableFunc(fwd, runOrder)
	return append(path, fwd...)
}

// specializePath specializes the part of the path no rewrite can have
// changed yet: up to the first base chain that may DNAT. What follows sees
// a destination the query does not fix and is evaluated as written.
func specializePath(path []*BaseChain, q Query) []*BaseChain {
	k := len(path)
	for i, b := range path {
		if hasDNAT([]*BaseChain{b}) {
			k = i + 1
			break
		}
	}
	if k == len(path) {
		return specialize(path, q)
	}
	return append(specialize(path[:k], q), path[k:]...)
}

// onPath reports whether the base chain sees the packet: a nat chain only
// a connection's first packet that no earlier nat chain rewrote (the host's
// own traffic was NATed in OUTPUT, which is not modelled), INPUT only
// packets for the host, FORWARD and POSTROUTING only forwarded ones.
func onPath(b *BaseChain, p *Packet) bool {
	switch {
	case b.NAT && (p.Local || (p.Nat != nil && b.Hook == Prerouting)):
		return false
	case b.Hook == Input:
		return !p.Forwarded
	case b.Hook == Forward || b.Hook == Postrouting:
		return p.Forwarded
	}
	return true
}

// natVerdict applies a nat verdict to p; ok=false with a reason when the
// outcome cannot be told.
func natVerdict(rs Routing, n *NatTarget, p *Packet) (string, bool) {
	if n.Source {
		// Chains after it (an SNAT in INPUT runs before filter chains of
		// a later priority) see the new source.
		if n.Addr.IsValid() && FamilyOf(n.Addr) == p.Family && !n.SrcPort {
			p.SrcNat = n.Addr
		} else {
			p.SrcNatBy = n.Origin
		}
		return "", true
	}
	p.Nat = n
	p.Ct |= CtDNAT
	if n.Port != 0 {
		p.DPort = n.Port
	}
	if n.Redirect || !n.Addr.IsValid() {
		return "", true
	}
	if FamilyOf(n.Addr) != p.Family {
		return n.Origin + ": DNAT target " + n.Addr.String() + " is of the other family", false
	}
	p.Dst = n.Addr
	if n.Addr.IsLoopback() {
		return "", true
	}
	if rs == nil {
		return "where DNAT target " + n.Addr.String() + " is routed is unknown" + routesHint, false
	}
	local, dev, ok := rs.Route(n.Addr)
	if !ok {
		return "no route to DNAT target " + n.Addr.String() + " is known", false
	}
	if !local {
		p.Forwarded, p.OIf = true, dev
	}
	return "", true
}

// NatPorts returns the host ports that some prerouting DNAT or REDIRECT of
// the family may map to port: a connection to one of them may reach port
// after the rewrite. A nat rule whose target is not understood (Undecided
// in a nat chain: a DNAT to a map, a range, an expression) may map any
// port it matches to port. The destination ports every nat rule names cut
// the port space into pieces on which each of their port matches is
// constant; one port stands for each piece where a rewriting rule's own
// port matches may hold, so that a set, a concatenation, a negation or a
// jump to the rewriting rule hides no host port.
func (rs *Ruleset) NatPorts(f Family, port uint16) []uint16 {
	type trigger struct {
		conds []Cond
		extra Cond
	}
	var triggers []trigger
	var bounds []uint16
	seen := map[*Chain]bool{}
	scan := func(c *Chain, nat bool) {
		if seen[c] {
			return
		}
		seen[c] = true
		for _, r := range c.Rules {
			for _, cd := range r.Conds {
				dportBounds(cd, &bounds)
			}
			if rewritesTo(r.Verdict, port, nat) {
				triggers = append(triggers, trigger{conds: r.Conds})
			}
			if r.Map == nil {
				continue
			}
			for _, e := range r.Map.Entries {
				dportBounds(e.Cond, &bounds)
				if rewritesTo(e.Verdict, port, nat) {
					triggers = append(triggers, trigger{conds: r.Conds, extra: e.Cond})
				}
			}
		}
	}
	// The nat chains first: an undecided verdict there may be a rewrite.
	for _, b := range rs.Path(f) {
		if b.NAT && b.Hook == Prerouting {
			for _, c := range reachable([]*BaseChain{b}) {
				scan(c, true)
			}
		}
	}
	for _, c := range reachable(rs.Path(f)) {
		scan(c, false)
	}
	if len(triggers) == 0 {
		return nil
	}
	bounds = append(bounds, 1)
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	var out []uint16
	for i, lo := range bounds {
		if lo == 0 {
			continue
		}
		hi := uint16(65535)
		if i+1 < len(bounds) {
			hi = bounds[i+1] - 1
		}
		rep := lo
		if rep == port {
			if rep == hi {
				continue
			}
			rep++
		}
		for _, tr := range triggers {
			ok := dportMay(tr.conds, rep)
			if ok && tr.extra != nil {
				ok = dportMay([]Cond{tr.extra}, rep)
			}
			if ok {
				out = append(out, rep)
				break
			}
		}
	}
	return out
}

// rewritesTo reports whether v may send a connection on to port: a DNAT
// or REDIRECT to it, or, in a nat chain, a verdict the model does not
// know.
func rewritesTo(v Verdict, port uint16, nat bool) bool {
	switch v.Kind {
	case Nat:
		return !v.Nat.Source && v.Nat.Port == port
	case Undecided:
		return nat
	}
	return false
}

// dportBounds adds the starts of the destination port ranges c matches
// and the ports just past them. Before a rewrite the original
// destination port is the destination port.
func dportBounds(c Cond, out *[]uint16) {
	switch c := c.(type) {
	case Port:
		if c.Field == SPort {
			return
		}
		for _, r := range c.Ranges {
			*out = append(*out, r.Lo)
			if r.Hi < 65535 {
				*out = append(*out, r.Hi+1)
			}
		}
	case And:
		for _, x := range c {
			dportBounds(x, out)
		}
	case Or:
		for _, x := range c {
			dportBounds(x, out)
		}
	case Not:
		dportBounds(c.C, out)
	}
}

// dportMay reports whether conds may all hold for a packet to port,
// judging only their destination port matches.
func dportMay(conds []Cond, port uint16) bool {
	for _, c := range conds {
		if dportTri(c, port) == False {
			return false
		}
	}
	return true
}

func dportTri(c Cond, port uint16) Tri {
	switch c := c.(type) {
	case Port:
		if c.Field == SPort {
			return Unknown
		}
		in := false
		for _, r := range c.Ranges {
			if port >= r.Lo && port <= r.Hi {
				in = true
				break
			}
		}
		// The connections asked about are TCP.
		if len(c.Protos) > 0 && !containsU8(c.Protos, ProtoTCP) {
			return False
		}
		return negate(triOf(in), c.Neg)
	case And:
		out := True
		for _, x := range c {
			switch dportTri(x, port) {
			case False:
				return False
			case True:
			default:
				out = Unknown
			}
		}
		return out
	case Or:
		out := False
		for _, x := range c {
			switch dportTri(x, port) {
			case True:
				return True
			case False:
			default:
				out = Unknown
			}
		}
		return out
	case Not:
		return dportTri(c.C, port).Not()
	}
	return Unknown
}

// delivered is the end of the path: the connection is accepted, provided
// it reaches the port the query asks about.
func (w *walker) delivered(p Packet) outcome {
	if w.to != 0 && p.DPort != w.to {
		w.dec = verdictBy{}
		return refused
	}
	w.dec = verdictBy{kind: NoBaseChain}
	if w.via != nil {
		w.via[Delivery{Nat: p.Nat, Forwarded: p.Forwarded}] = true
	}
	return accepted
}

func sortedVia(m map[Delivery]bool) []Delivery {
	out := make([]Delivery, 0, len(m))
	for d := range m {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Delivery) int {
		switch as, bs := a.String(), b.String(); {
		case as < bs:
			return -1
		case as > bs:
			return 1
		}
		return 0
	})
	return out
}

// HasDNAT reports whether some prerouting rule of the family rewrites
// destinations.
func (rs *Ruleset) HasDNAT(f Family) bool { return hasDNAT(rs.Path(f)) }
