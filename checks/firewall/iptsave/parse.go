package iptsave

import (
	"bufio"
	"io"
	"strings"
)

// Parse reads an iptables-save dump.
func Parse(r io.Reader) (*Dump, error) {
	text, err := readText(r, MaxSize)
	if err != nil {
		return nil, err
	}
	if len(text) > MaxSize {
		return nil, ErrTooLarge
	}
	p := &parser{}
	d := &Dump{}
	var cur *Table
	var chains map[string]*Chain // cur's chains by name
	for n := 1; text != ""; n++ {
		// Lines as bufio.ScanLines cuts them: a final line needs no
		// newline, a carriage return before the newline is dropped.
		line, rest, _ := strings.Cut(text, "\n")
		if len(line) >= MaxSize {
			return nil, bufio.ErrTooLong
		}
		text = rest
		line = strings.TrimSpace(line)
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
			chains = map[string]*Chain{}
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
			if chains[c.Name] != nil {
				return nil, syntaxf(n, "chain %q declared twice", c.Name)
			}
			cur.Chains = append(cur.Chains, c)
			chains[c.Name] = c
		default:
			if cur == nil {
				return nil, syntaxf(n, "rule outside a table")
			}
			rule, err := p.parseRule(line, n)
			if err != nil {
				return nil, err
			}
			c := chains[rule.Chain]
			if c == nil {
				return nil, syntaxf(n, "rule for undeclared chain %q", rule.Chain)
			}
			rule.Chain = c.Name // one string per chain name
			cur.Rules = append(cur.Rules, rule)
		}
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
