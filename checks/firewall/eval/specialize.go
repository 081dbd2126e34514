package eval

// specialize copies the path for one query, deciding in advance every
// condition that depends only on what the query fixes (family, protocol,
// destination port, TCP flags) and dropping rules that can never match.
// The walk over thousands of representatives then skips them for free.
func specialize(path []*BaseChain, q Query) []*BaseChain {
	probe := NewSYN(q.Family.All().Addr(), q.Family.All().Addr(), 0, q.Port, "")
	s := &specializer{probe: &probe, done: map[*Chain]*Chain{}}
	out := make([]*BaseChain, len(path))
	for i, b := range path {
		nb := *b
		nb.Chain = s.chain(b.Chain)
		out[i] = &nb
	}
	return out
}

type specializer struct {
	probe *Packet
	done  map[*Chain]*Chain
}

func (s *specializer) chain(c *Chain) *Chain {
	if c == nil {
		return nil
	}
	if n, ok := s.done[c]; ok {
		return n
	}
	n := &Chain{Name: c.Name}
	s.done[c] = n
	// One allocation for the chain's rules: a long chain would otherwise
	// cost one per rule, per query.
	slab := make([]Rule, 0, len(c.Rules))
	n.Rules = make([]*Rule, 0, len(c.Rules))
	for _, r := range c.Rules {
		conds, ok := s.conds(r.Conds)
		if !ok {
			continue
		}
		slab = append(slab, Rule{Origin: r.Origin, Conds: conds, Actions: r.Actions, Verdict: s.verdict(r.Verdict)})
		nr := &slab[len(slab)-1]
		if r.Map != nil {
			m := &VerdictMap{}
			for _, e := range r.Map.Entries {
				c, ok := s.conds([]Cond{e.Cond})
				if !ok {
					continue
				}
				ec := Cond(And(c))
				if len(c) == 1 {
					ec = c[0]
				}
				m.Entries = append(m.Entries, MapEntry{Cond: ec, Verdict: s.verdict(e.Verdict)})
			}
			nr.Map = m
		}
		n.Rules = append(n.Rules, nr)
	}
	return n
}

func (s *specializer) verdict(v Verdict) Verdict {
	if v.Target != nil {
		v.Target = s.chain(v.Target)
	}
	return v
}

// conds drops the conditions the query decides as true and reports false
// when one is decided false. When it drops nothing it returns cs itself.
func (s *specializer) conds(cs []Cond) ([]Cond, bool) {
	var out []Cond // nil until a condition is dropped
	for i, c := range cs {
		if a, ok := c.(Addr); ok && a.Family != s.probe.Family {
			return nil, false // "ip saddr" never matches IPv6, negated or not
		}
		if fixedByQuery(c) {
			t, _ := c.Eval(s.probe)
			if t == False {
				return nil, false
			}
			if t == True {
				if out == nil {
					out = make([]Cond, i, len(cs)-1)
					copy(out, cs[:i])
				}
				continue
			}
		}
		if out != nil {
			out = append(out, c)
		}
	}
	if out == nil {
		return cs, true
	}
	return out, true
}

// fixedByQuery reports whether c depends only on fields the query fixes.
func fixedByQuery(c Cond) bool {
	switch c := c.(type) {
	case IsFamily, Proto, TCPFlags:
		return true
	case Port:
		return c.Field == DPort
	case Iface:
		return c.Out
	case And:
		for _, x := range c {
			if !fixedByQuery(x) {
				return false
			}
		}
		return true
	case Or:
		for _, x := range c {
			if !fixedByQuery(x) {
				return false
			}
		}
		return true
	case Not:
		return fixedByQuery(c.C)
	}
	return false
}
