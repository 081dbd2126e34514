package iptsave

import (
	"bufio"
	"bytes"
	"io"
	"strings"
)

// Parse reads an iptables-save dump.
func Parse(r io.Reader) (*Dump, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, ErrTooLarge
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), MaxSize)
	d := &Dump{}
	var cur *Table
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#':
		case line[0] == '*':
			if cur != nil {
				return nil, syntaxf(n, "table %q starts before COMMIT of %q", line[1:], cur.Name)
			}
			name := line[1:]
			if name == "" || strings.ContainsAny(name, " \t\"\\") {
				return nil, syntaxf(n, "bad table name %q", name)
			}
			if d.Table(name) != nil {
				return nil, syntaxf(n, "table %q appears twice", name)
			}
			cur = &Table{Name: name, Line: n}
		case line == "COMMIT":
			if cur == nil {
				return nil, syntaxf(n, "COMMIT outside a table")
			}
			d.Tables = append(d.Tables, cur)
			cur = nil
		case line[0] == ':':
			if cur == nil {
				return nil, syntaxf(n, "chain declared outside a table")
			}
			c, err := parseChain(line, n)
			if err != nil {
				return nil, err
			}
			if cur.Chain(c.Name) != nil {
				return nil, syntaxf(n, "chain %q declared twice", c.Name)
			}
			cur.Chains = append(cur.Chains, c)
		default:
			if cur == nil {
				return nil, syntaxf(n, "rule outside a table")
			}
			rule, err := parseRule(line, n)
			if err != nil {
				return nil, err
			}
			if cur.Chain(rule.Chain) == nil {
				return nil, syntaxf(n, "rule for undeclared chain %q", rule.Chain)
			}
			cur.Rules = append(cur.Rules, rule)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cur != nil {
		return nil, syntaxf(cur.Line, "table %q has no COMMIT", cur.Name)
	}
	return d, nil
}

// parseChain parses ":NAME POLICY [p:b]".
func parseChain(line string, n int) (*Chain, error) {
	f := strings.Fields(line[1:])
	if len(f) < 2 || len(f) > 3 {
		return nil, syntaxf(n, "malformed chain declaration %q", line)
	}
	if strings.ContainsAny(f[0], "\"\\") {
		return nil, syntaxf(n, "chain name %q has a quote or backslash", f[0])
	}
	switch f[1] {
	case "ACCEPT", "DROP", "-", "QUEUE", "RETURN":
	default:
		return nil, syntaxf(n, "chain %q: unknown policy %q", f[0], f[1])
	}
	if len(f) == 3 && !isCounters(f[2]) {
		return nil, syntaxf(n, "chain %q: malformed counters %q", f[0], f[2])
	}
	return &Chain{Name: f[0], Policy: f[1], Line: n}, nil
}

// isCounters reports whether s is "[packets:bytes]".
func isCounters(s string) bool {
	if len(s) < 5 || s[0] != '[' || s[len(s)-1] != ']' {
		return false
	}
	p, b, ok := strings.Cut(s[1:len(s)-1], ":")
	return ok && isDigits(p) && isDigits(b)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseRule parses "[[p:b]] -A CHAIN options...".
func parseRule(line string, n int) (*Rule, error) {
	toks, ok := tokenize(line)
	if !ok {
		return nil, syntaxf(n, "unterminated quote")
	}
	if len(toks) > 0 && !toks[0].quoted && isCounters(toks[0].s) {
		toks = toks[1:]
	}
	if len(toks) < 2 || toks[0].quoted || (toks[0].s != "-A" && toks[0].s != "--append") {
		return nil, syntaxf(n, "expected -A CHAIN, got %q", line)
	}
	r := &Rule{Line: n, Chain: toks[1].s}
	if r.Chain == "" {
		return nil, syntaxf(n, "empty chain name")
	}
	builtin := &Match{}
	r.Matches = []*Match{builtin}
	cur := builtin
	curArity := arity[""]
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
			cur = &Match{Module: toks[i].s}
			r.Matches = append(r.Matches, cur)
			curArity = arity[cur.Module]
			continue
		case name == "-j" || name == "--jump" || name == "-g" || name == "--goto":
			if neg {
				return nil, syntaxf(n, "negated %s", name)
			}
			if r.Target != "" {
				return nil, syntaxf(n, "two targets")
			}
			if i+1 >= len(toks) || toks[i+1].s == "" {
				return nil, syntaxf(n, "%s without a target", name)
			}
			i++
			r.Target = toks[i].s
			r.Goto = name == "-g" || name == "--goto"
			inTarget = true
			curArity = targetArity[r.Target]
			continue
		}
		k, known := curArity[name]
		if !known && !inTarget && cur != builtin {
			// A built-in option after a module ("-m tcp --dport 1 -s x")
			// is still a built-in option.
			if bk, ok := arity[""][name]; ok {
				opt, next, err := takeValues(toks, i, bk, false, neg, n)
				if err != nil {
					return nil, err
				}
				builtin.Options = append(builtin.Options, opt)
				i, neg = next, false
				continue
			}
		}
		if !known && !inTarget && cur == builtin {
			// "-p tcp --dport 80" loads the tcp module implicitly.
			if proto := builtinProto(builtin); protoModules[proto] {
				if pk, ok := arity[proto][name]; ok {
					cur = &Match{Module: proto, Implicit: true}
					r.Matches = append(r.Matches, cur)
					curArity = arity[proto]
					k, known = pk, true
				}
			}
		}
		opt, next, err := takeValues(toks, i, k, !known, neg, n)
		if err != nil {
			return nil, err
		}
		if inTarget {
			r.TargetOptions = append(r.TargetOptions, opt)
		} else {
			cur.Options = append(cur.Options, opt)
		}
		i, neg = next, false
	}
	if neg {
		return nil, syntaxf(n, "dangling !")
	}
	return r, nil
}

// takeValues reads the values of the option at toks[i]; guessed options
// take every following non-option token.
func takeValues(toks []token, i, k int, guessed, neg bool, n int) (Option, int, error) {
	opt := Option{Name: toks[i].s, Neg: neg, Guessed: guessed}
	if guessed {
		for i+1 < len(toks) && !toks[i+1].isOption() && !toks[i+1].isBang() {
			i++
			opt.Values = append(opt.Values, toks[i].s)
		}
		return opt, i, nil
	}
	// Old syntax put the "!" after the option name ("--dport ! 80").
	if k > 0 && i+1 < len(toks) && toks[i+1].isBang() {
		if neg {
			return opt, i, syntaxf(n, "double negation on %s", opt.Name)
		}
		opt.Neg = true
		i++
	}
	for j := 0; j < k; j++ {
		if i+1 >= len(toks) {
			return opt, i, syntaxf(n, "%s needs %d value(s)", opt.Name, k)
		}
		i++
		opt.Values = append(opt.Values, toks[i].s)
	}
	return opt, i, nil
}

// builtinProto returns the "-p" value of the built-in options.
func builtinProto(m *Match) string {
	for _, o := range m.Options {
		if (o.Name == "-p" || o.Name == "--protocol") && len(o.Values) == 1 && !o.Neg {
			return strings.ToLower(o.Values[0])
		}
	}
	return ""
}
