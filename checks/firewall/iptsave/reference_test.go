package iptsave

// The parser as it was before it was rewritten for speed, kept to check
// that the rewrite parses every input the same way (FuzzSameAsReference).

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

func refTokenize(line string) ([]token, bool) {
	var out []token
	var b strings.Builder
	inWord, inQuote, quoted := false, false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case inQuote && c == '\\' && i+1 < len(line):
			i++
			b.WriteByte(line[i])
		case inQuote && c == '"':
			inQuote = false
		case inQuote:
			b.WriteByte(c)
		case c == '"':
			inQuote, inWord, quoted = true, true, true
		case c == ' ' || c == '\t':
			if inWord {
				out = append(out, token{b.String(), quoted})
				b.Reset()
				inWord, quoted = false, false
			}
		default:
			inWord = true
			b.WriteByte(c)
		}
	}
	if inQuote {
		return nil, false
	}
	if inWord {
		out = append(out, token{b.String(), quoted})
	}
	return out, true
}
func refParse(r io.Reader) (*Dump, error) {
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
			rule, err := refParseRule(line, n)
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
func refParseRule(line string, n int) (*Rule, error) {
	toks, ok := refTokenize(line)
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
				opt, next, err := refTakeValues(toks, i, bk, false, neg, n)
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
			if proto := refBuiltinProto(builtin); protoModules[proto] {
				if pk, ok := arity[proto][name]; ok {
					cur = &Match{Module: proto, Implicit: true}
					r.Matches = append(r.Matches, cur)
					curArity = arity[proto]
					k, known = pk, true
				}
			}
		}
		opt, next, err := refTakeValues(toks, i, k, !known, neg, n)
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
func refTakeValues(toks []token, i, k int, guessed, neg bool, n int) (Option, int, error) {
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
func refBuiltinProto(m *Match) string {
	for _, o := range m.Options {
		if (o.Name == "-p" || o.Name == "--protocol") && len(o.Values) == 1 && !o.Neg {
			return strings.ToLower(o.Values[0])
		}
	}
	return ""
}

// FuzzSameAsReference checks that Parse and the reference parser agree on
// every input: the same dump, or the same error.
func FuzzSameAsReference(f *testing.F) {
	files, _ := filepath.Glob(testenv.Testdata(f, "firewall", "scenarios", "*", "*tables*.save"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("*filter\n:INPUT ACCEPT [0:0]\n:X - [0:0]\n[1:2] -A INPUT ! -s 10.0.0.0/8 -p TCP --dport ! 80 -m foo --x \"a b\"c -y -s 1.2.3.4 -j LOG --log-prefix \"q\\\"\" \r\n-A X -p udp -m multiport --dports 1,2 -g X\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Parse(bytes.NewReader(data))
		want, werr := refParse(bytes.NewReader(data))
		if (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
			t.Fatalf("error %v, reference %v", err, werr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("parsed differently from the reference")
		}
	})
}
