package ipset

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxSize caps the input.
const MaxSize = 64 << 20

// ErrTooLarge is returned for input over MaxSize.
var ErrTooLarge = errors.New("ipset save input larger than the size limit")

// ErrSyntax is wrapped by every SyntaxError.
var ErrSyntax = errors.New("ipset save syntax error")

// SyntaxError locates a malformed line.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// Dump is the parsed output, sets in order of creation.
type Dump struct {
	Sets []*Set
}

// Set is one "create" line and its entries.
type Set struct {
	Name string
	// Type is "hash:net", "hash:ip,port", "list:set", ...
	Type string
	// Family is "inet" or "inet6" ("" for list:set).
	Family  string
	Options []Option
	Entries []Entry
	Line    int
}

// Option is a "name [value]" pair from a create or add line. Flags such as
// "nomatch" or "comment" have no value.
type Option struct {
	Name, Value string
	HasValue    bool
}

// Entry is one "add" line.
type Entry struct {
	// Value is the element as written: "192.0.2.0/24", "192.0.2.1,tcp:6379".
	Value   string
	NoMatch bool
	Options []Option
	Line    int
}

// Set returns the named set or nil.
func (d *Dump) Set(name string) *Set {
	for _, s := range d.Sets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// createFlags and addFlags are the options written without a value; the
// same word may take a value on the other kind of line ("comment").
var (
	createFlags = map[string]bool{"comment": true, "counters": true, "skbinfo": true, "forceadd": true}
	addFlags    = map[string]bool{"nomatch": true}
)

// Parse reads "ipset save" output.
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
	byName := map[string]*Set{} // d.Sets by name: dumps add many entries to many sets
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f, ok := fields(line)
		if !ok {
			return nil, &SyntaxError{n, "unterminated quote"}
		}
		switch f[0] {
		case "create", "-N", "-exist":
			if len(f) < 3 {
				return nil, &SyntaxError{n, "create needs a name and a type"}
			}
			if byName[f[1]] != nil {
				return nil, &SyntaxError{n, fmt.Sprintf("set %q created twice", f[1])}
			}
			s := &Set{Name: f[1], Type: f[2], Line: n}
			opts, err := options(f[3:], createFlags, n)
			if err != nil {
				return nil, err
			}
			for _, o := range opts {
				if o.Name == "family" {
					s.Family = o.Value
				}
			}
			if s.Family == "" && !strings.HasPrefix(s.Type, "list:") {
				s.Family = "inet" // ipset's default; bitmap:ip omits it
			}
			s.Options = opts
			d.Sets = append(d.Sets, s)
			byName[s.Name] = s
		case "add", "-A":
			if len(f) < 3 {
				return nil, &SyntaxError{n, "add needs a set and an element"}
			}
			s := byName[f[1]]
			if s == nil {
				return nil, &SyntaxError{n, fmt.Sprintf("add to undeclared set %q", f[1])}
			}
			opts, err := options(f[3:], addFlags, n)
			if err != nil {
				return nil, err
			}
			e := Entry{Value: f[2], Options: opts, Line: n}
			for _, o := range opts {
				if o.Name == "nomatch" {
					e.NoMatch = true
				}
			}
			s.Entries = append(s.Entries, e)
		default:
			return nil, &SyntaxError{n, fmt.Sprintf("unknown command %q", f[0])}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return d, nil
}

// options pairs names with values; a name in flags takes none.
func options(f []string, flags map[string]bool, n int) ([]Option, error) {
	var out []Option
	for i := 0; i < len(f); i++ {
		if flags[f[i]] {
			out = append(out, Option{Name: f[i]})
			continue
		}
		if i+1 >= len(f) {
			return nil, &SyntaxError{n, fmt.Sprintf("option %q needs a value", f[i])}
		}
		out = append(out, Option{Name: f[i], Value: f[i+1], HasValue: true})
		i++
	}
	return out, nil
}

// fields splits on blanks with double quotes grouping ("comment" values).
func fields(line string) ([]string, bool) {
	var out []string
	var b strings.Builder
	in, q := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case q && c == '\\' && i+1 < len(line):
			i++
			b.WriteByte(line[i])
		case c == '"':
			q, in = !q, true
		case !q && (c == ' ' || c == '\t'):
			if in {
				out = append(out, b.String())
				b.Reset()
				in = false
			}
		default:
			in = true
			b.WriteByte(c)
		}
	}
	if q {
		return nil, false
	}
	if in {
		out = append(out, b.String())
	}
	return out, true
}
