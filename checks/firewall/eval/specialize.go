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
		nb.orig = b.original()
		out[i] = &nb
	}
	return out
}

type specializer struct {
	probe *Packet
	done  map[*Chain]*Chain
	// rules and condBuf hold what is allocated in blocks: a long chain would
	// otherwise cost an allocation or two per rule, per query.
	rules   []Rule
	condBuf []Cond
}

const arenaBlock = 256

func (s *specializer) newRule(r Rule) *Rule {
	if len(s.rules) == cap(s.rules) {
		s.rules = make([]Rule, 0, arenaBlock)
	}
	s.rules = append(s.rules, r)
	return &s.rules[len(s.rules)-1]
}

// condSlice returns an empty slice with room for n conditions.
func (s *specializer) condSlice(n int) []Cond {
	if cap(s.condBuf)-len(s.condBuf) < n {
		s.condBuf = make([]Cond, 0, max(arenaBlock, n))
	}
	l := len(s.condBuf)
	s.condBuf = s.condBuf[:l+n]
	return s.condBuf[l : l : l+n]
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
	for _, r := range c.Rules {
		conds, ok := s.conds(r.Conds)
		if !ok {
			continue
		}
		nr := s.newRule(Rule{Origin: r.Origin, Conds: conds, Actions: r.Actions, Verdict: s.verdict(r.Verdict), orig: r.original()})
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
					out = append(s.condSlice(len(cs)-1), cs[:i]...)
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

// original is the rule r was specialized from, or r.
func (r *Rule) original() *Rule {
	if r.orig != nil {
		return r.orig
	}
	return r
}

// original is the base chain b was specialized from, or b.
func (b *BaseChain) original() *BaseChain {
	if b.orig != nil {
		return b.orig
	}
	return b
}
