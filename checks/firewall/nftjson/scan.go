package nftjson

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// The reader: a strict JSON scanner that builds a tree of nodes whose text
// is a substring of the input, so a dump of 10,000 rules costs a few
// hundred allocations instead of more than a million through
// encoding/json's reflection and its RawMessage copies. What nft never
// writes and encoding/json would read in its own way (a repeated or
// escaped key, a key differing from a field's only in case, nesting
// deeper than maxDepth, a number beyond float64) is an error wrapping
// ErrUnusual rather than a guess.

type jkind uint8

const (
	jNull jkind = iota
	jFalse
	jTrue
	jNum
	// jStr is a string without escapes or non-ASCII bytes: its value is
	// its text without the quotes. jStrEsc needs unquoting.
	jStr
	jStrEsc
	jArr
	// jObj holds its members as key, value, key, value... Keys are
	// always jStr (an escaped key gives up) and never repeat.
	jObj
)

// jnode is one JSON value: raw is its text as written.
type jnode struct {
	kind jkind
	raw  string
	kids []jnode
}

// maxDepth bounds nesting; nft's deepest is a handful of levels.
const maxDepth = 200

// scanner reads one JSON text. Children of a container are collected on
// stack, then copied into a block shared by the whole dump.
type scanner struct {
	s     string
	i     int
	depth int
	stack []jnode
	kids  []jnode // the current block
	// err is the first error, at byte errOff.
	err    error
	errOff int
	// block is the size of the next block: it starts from the input's
	// length, so that a small text does not pay for a large block (a
	// block of 4096 nodes is 200 KB to zero, which made a short or
	// invalid input cost a hundred times its parse).
	block int
}

// maxBlock caps a block; a large dump is read in blocks of this size.
const maxBlock = 4096

// newScanner returns a scanner over s.
func newScanner(s string) *scanner {
	// A node takes at least two bytes of text ("0," or "[]").
	return &scanner{s: s, block: min(maxBlock, max(16, len(s)/8))}
}

// fail records a syntax error at the current byte.
func (p *scanner) fail(format string, args ...any) (jnode, bool) {
	return p.failWith(ErrSyntax, format, args...)
}

// unusual records valid JSON that nft does not write.
func (p *scanner) unusual(format string, args ...any) (jnode, bool) {
	return p.failWith(ErrUnusual, format, args...)
}

func (p *scanner) failWith(kind error, format string, args ...any) (jnode, bool) {
	if p.err == nil {
		p.err = fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)
		p.errOff = min(p.i, len(p.s))
	}
	return jnode{}, false
}

// found names the byte at the current offset for a message.
func (p *scanner) found() string {
	if p.i >= len(p.s) {
		return "end of input"
	}
	return fmt.Sprintf("%q", p.s[p.i])
}

func (p *scanner) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// take copies the children above mark off the stack into a block.
func (p *scanner) take(mark int) []jnode {
	n := len(p.stack) - mark
	if n == 0 {
		p.stack = p.stack[:mark]
		return nil
	}
	if n > cap(p.kids)-len(p.kids) {
		p.kids = make([]jnode, 0, max(n, p.block))
		p.block = maxBlock
	}
	i := len(p.kids)
	p.kids = append(p.kids, p.stack[mark:]...)
	p.stack = p.stack[:mark]
	return p.kids[i : i+n : i+n]
}

// value reads one value after optional blanks.
func (p *scanner) value() (jnode, bool) {
	p.ws()
	if p.i >= len(p.s) {
		return p.fail("unexpected end of input")
	}
	start := p.i
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return p.literal(start, "true", jTrue)
	case c == 'f':
		return p.literal(start, "false", jFalse)
	case c == 'n':
		return p.literal(start, "null", jNull)
	}
	return p.fail("invalid character %s looking for a value", p.found())
}

func (p *scanner) literal(start int, word string, k jkind) (jnode, bool) {
	if len(p.s)-start < len(word) || p.s[start:start+len(word)] != word {
		return p.fail("invalid literal (not %s)", word)
	}
	p.i = start + len(word)
	return jnode{kind: k, raw: word}, true
}

func (p *scanner) object() (jnode, bool) {
	start := p.i
	p.i++ // {
	if p.depth++; p.depth > maxDepth {
		return p.unusual("nesting deeper than %d", maxDepth)
	}
	mark := len(p.stack)
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		p.depth--
		return jnode{kind: jObj, raw: p.s[start:p.i]}, true
	}
	for {
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return p.fail("invalid character %s looking for an object key", p.found())
		}
		keyAt := p.i
		key, ok := p.str()
		if !ok {
			return jnode{}, false
		}
		if key.kind != jStr {
			p.i = keyAt
			return p.unusual("escaped or non-ASCII key %s", key.raw)
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return p.fail("invalid character %s after an object key", p.found())
		}
		p.i++
		val, ok := p.value()
		if !ok {
			return jnode{}, false
		}
		// encoding/json would keep the last of repeated keys.
		for j := mark; j < len(p.stack); j += 2 {
			if p.stack[j].raw == key.raw {
				p.i = keyAt
				return p.unusual("repeated key %s", key.raw)
			}
		}
		p.stack = append(p.stack, key, val)
		p.ws()
		if p.i >= len(p.s) {
			return p.fail("unexpected end of input in an object")
		}
		if p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.s[p.i] != '}' {
			return p.fail("invalid character %s after an object value", p.found())
		}
		p.i++
		p.depth--
		return jnode{kind: jObj, raw: p.s[start:p.i], kids: p.take(mark)}, true
	}
}

func (p *scanner) array() (jnode, bool) {
	start := p.i
	p.i++ // [
	if p.depth++; p.depth > maxDepth {
		return p.unusual("nesting deeper than %d", maxDepth)
	}
	mark := len(p.stack)
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		p.depth--
		return jnode{kind: jArr, raw: p.s[start:p.i]}, true
	}
	for {
		val, ok := p.value()
		if !ok {
			return jnode{}, false
		}
		p.stack = append(p.stack, val)
		p.ws()
		if p.i >= len(p.s) {
			return p.fail("unexpected end of input in an array")
		}
		if p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.s[p.i] != ']' {
			return p.fail("invalid character %s after an array element", p.found())
		}
		p.i++
		p.depth--
		return jnode{kind: jArr, raw: p.s[start:p.i], kids: p.take(mark)}, true
	}
}

// str reads a string, checking its escapes; unquoting is left to the
// reader of the value (jnode.text).
func (p *scanner) str() (jnode, bool) {
	start := p.i
	p.i++ // "
	k := jStr
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c >= 0x20 && c < 0x80 && c != '"' && c != '\\' {
			p.i++ // the common case first
			continue
		}
		switch {
		case c == '"':
			p.i++
			return jnode{kind: k, raw: p.s[start:p.i]}, true
		case c < 0x20:
			return p.fail("control character %q in a string", c)
		case c == '\\':
			k = jStrEsc
			if p.i+1 >= len(p.s) {
				return p.fail("unexpected end of input in a string")
			}
			switch p.s[p.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i += 2
			case 'u':
				if p.i+6 > len(p.s) {
					return p.fail("unexpected end of input in a \\u escape")
				}
				for _, h := range []byte(p.s[p.i+2 : p.i+6]) {
					if !isHex(h) {
						return p.fail("invalid \\u escape")
					}
				}
				p.i += 6
			default:
				return p.fail("invalid escape \\%c", p.s[p.i+1])
			}
		case c >= 0x80:
			k = jStrEsc
			p.i++
		default:
			p.i++
		}
	}
	return p.fail("unexpected end of input in a string")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?. A number
// with an exponent or very many digits must also be a float64, as
// encoding/json requires of a number decoded into an interface.
func (p *scanner) number() (jnode, bool) {
	start := p.i
	digits := func() bool {
		d := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		return p.i > d
	}
	if p.s[p.i] == '-' {
		p.i++
	}
	if p.i < len(p.s) && p.s[p.i] == '0' {
		p.i++
	} else if !digits() {
		return p.fail("invalid number")
	}
	exp := false
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if !digits() {
			return p.fail("invalid number")
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		exp = true
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if !digits() {
			return p.fail("invalid number")
		}
	}
	raw := p.s[start:p.i]
	if exp || len(raw) > 300 {
		if _, err := strconv.ParseFloat(raw, 64); err != nil {
			p.i = start
			return p.unusual("number %.20s out of range", raw)
		}
	}
	return jnode{kind: jNum, raw: raw}, true
}

// text is the value of a string node.
func (n *jnode) text() string {
	if n.kind == jStr {
		return n.raw[1 : len(n.raw)-1]
	}
	var s string
	_ = json.Unmarshal([]byte(n.raw), &s) // checked by the scanner
	return s
}

func (n *jnode) isStr() bool { return n.kind == jStr || n.kind == jStrEsc }

// member returns the value of key in an object, or nil.
func (n *jnode) member(key string) *jnode {
	for i := 0; i+1 < len(n.kids); i += 2 {
		if n.kids[i].raw[1:len(n.kids[i].raw)-1] == key {
			return &n.kids[i+1]
		}
	}
	return nil
}
