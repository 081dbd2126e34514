package iptsave

import "strings"

// parser is the scratch space of one Parse. A rule is first read into
// flat scratch lists reused from line to line, then copied once into
// blocks shared by the whole dump (see slab).
type parser struct {
	toks []token
	// The rule being read: its matches (index 0 holds the built-in
	// options), its options, each naming its match (-1 for the
	// target's), and their values.
	ms   []pendingMatch
	opts []pendingOption
	vals []string

	rules     slab[Rule]
	matches   slab[Match]
	matchPtrs slab[*Match]
	options   slab[Option]
	values    slab[string]
}

type pendingMatch struct {
	module   string
	implicit bool
}

type pendingOption struct {
	match        int
	name         string
	neg, guessed bool
	// vals[v0:v1] are the option's values.
	v0, v1 int
}

// targetOwner marks an option of the target in pendingOption.match.
const targetOwner = -1

// parseRule parses "[[p:b]] -A CHAIN options...".
func (p *parser) parseRule(line string, n int) (*Rule, error) {
	toks, ok := tokenize(p.toks[:0], line)
	if !ok {
		return nil, syntaxf(n, "unterminated quote")
	}
	p.toks = toks
	if len(toks) > 0 && !toks[0].quoted && isCounters(toks[0].s) {
		toks = toks[1:]
	}
	if len(toks) < 2 || toks[0].quoted || (toks[0].s != "-A" && toks[0].s != "--append") {
		return nil, syntaxf(n, "expected -A CHAIN, got %q", line)
	}
	chain := toks[1].s
	if chain == "" {
		return nil, syntaxf(n, "empty chain name")
	}
	p.ms = append(p.ms[:0], pendingMatch{})
	p.opts, p.vals = p.opts[:0], p.vals[:0]
	const builtin = 0
	cur := builtin
	curArity := arity[""]
	target, isGoto := "", false
	inTarget := false
	neg := false
	for i := 2; i < len(toks); i++ {
		t := toks[i]
		if t.isBang() {
			if neg {
				return nil, syntaxf(n, "double negation")
			}
			neg = true
			continue
		}
		if !t.isOption() {
			return nil, syntaxf(n, "unexpected value %q", t.s)
		}
		name := t.s
		switch {
		case !inTarget && (name == "-m" || name == "--match"):
			if neg {
				return nil, syntaxf(n, "negated %s", name)
			}
			if i+1 >= len(toks) {
				return nil, syntaxf(n, "%s without a module", name)
			}
			i++
			if toks[i].s == "" {
				return nil, syntaxf(n, "empty module name")
			}
			cur = len(p.ms)
			p.ms = append(p.ms, pendingMatch{module: toks[i].s})
			curArity = arity[toks[i].s]
			continue
		case name == "-j" || name == "--jump" || name == "-g" || name == "--goto":
			if neg {
				return nil, syntaxf(n, "negated %s", name)
			}
			if target != "" {
				return nil, syntaxf(n, "two targets")
			}
			if i+1 >= len(toks) || toks[i+1].s == "" {
				return nil, syntaxf(n, "%s without a target", name)
			}
			i++
			target = toks[i].s
			isGoto = name == "-g" || name == "--goto"
			inTarget = true
			curArity = targetArity[target]
			continue
		}
		k, known := curArity[name]
		if !known && !inTarget && cur != builtin {
			// A built-in option after a module ("-m tcp --dport 1 -s x")
			// is still a built-in option.
			if bk, ok := arity[""][name]; ok {
				next, err := p.takeValues(toks, i, bk, false, neg, n, builtin)
				if err != nil {
					return nil, err
				}
				i, neg = next, false
				continue
			}
		}
		if !known && !inTarget && cur == builtin {
			// "-p tcp --dport 80" loads the tcp module implicitly.
			if proto := p.builtinProto(); protoModules[proto] {
				if pk, ok := arity[proto][name]; ok {
					cur = len(p.ms)
					p.ms = append(p.ms, pendingMatch{module: proto, implicit: true})
					curArity = arity[proto]
					k, known = pk, true
				}
			}
		}
		owner := cur
		if inTarget {
			owner = targetOwner
		}
		next, err := p.takeValues(toks, i, k, !known, neg, n, owner)
		if err != nil {
			return nil, err
		}
		i, neg = next, false
	}
	if neg {
		return nil, syntaxf(n, "dangling !")
	}
	return p.finish(n, chain, target, isGoto), nil
}

// takeValues reads the values of the option at toks[i] for the given
// match; guessed options take every following non-option token.
func (p *parser) takeValues(toks []token, i, k int, guessed, neg bool, n, owner int) (int, error) {
	opt := pendingOption{match: owner, name: toks[i].s, neg: neg, guessed: guessed, v0: len(p.vals)}
	if guessed {
		for i+1 < len(toks) && !toks[i+1].isOption() && !toks[i+1].isBang() {
			i++
			p.vals = append(p.vals, toks[i].s)
		}
		opt.v1 = len(p.vals)
		p.opts = append(p.opts, opt)
		return i, nil
	}
	// Old syntax put the "!" after the option name ("--dport ! 80").
	if k > 0 && i+1 < len(toks) && toks[i+1].isBang() {
		if neg {
			return i, syntaxf(n, "double negation on %s", opt.name)
		}
		opt.neg = true
		i++
	}
	for j := 0; j < k; j++ {
		if i+1 >= len(toks) {
			return i, syntaxf(n, "%s needs %d value(s)", opt.name, k)
		}
		i++
		p.vals = append(p.vals, toks[i].s)
	}
	opt.v1 = len(p.vals)
	p.opts = append(p.opts, opt)
	return i, nil
}

// builtinProto returns the "-p" value of the built-in options read so far.
func (p *parser) builtinProto() string {
	for _, o := range p.opts {
		if o.match == 0 && (o.name == "-p" || o.name == "--protocol") && o.v1-o.v0 == 1 && !o.neg {
			return strings.ToLower(p.vals[o.v0])
		}
	}
	return ""
}

// finish copies the rule read into the scratch lists into the dump's
// blocks.
func (p *parser) finish(n int, chain, target string, isGoto bool) *Rule {
	r := &p.rules.take(1)[0]
	r.Line, r.Chain, r.Target, r.Goto = n, chain, target, isGoto
	ms := p.matches.take(len(p.ms))
	r.Matches = p.matchPtrs.take(len(p.ms))
	for i, pm := range p.ms {
		ms[i] = Match{Module: pm.module, Implicit: pm.implicit, Options: p.optionsOf(i)}
		r.Matches[i] = &ms[i]
	}
	r.TargetOptions = p.optionsOf(targetOwner)
	return r
}

// optionsOf returns the options of one match (or of the target) in the
// order they were read, nil if it has none.
func (p *parser) optionsOf(owner int) []Option {
	count := 0
	for _, o := range p.opts {
		if o.match == owner {
			count++
		}
	}
	out := p.options.take(count)
	j := 0
	for _, o := range p.opts {
		if o.match != owner {
			continue
		}
		out[j] = Option{Name: o.name, Neg: o.neg, Guessed: o.guessed}
		if o.v1 > o.v0 {
			out[j].Values = p.values.take(o.v1 - o.v0)
			copy(out[j].Values, p.vals[o.v0:o.v1])
		}
		j++
	}
	return out
}
