package nftjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxSize caps the input.
const MaxSize = 64 << 20

var (
	// ErrTooLarge is returned for input over MaxSize.
	ErrTooLarge = errors.New("nft JSON input larger than the size limit")
	// ErrShape is wrapped when valid JSON does not have the shape of an
	// nft ruleset.
	ErrShape = errors.New("unexpected nft JSON shape")
)

// SyntaxError locates a problem by line (nft -j writes one line; a
// pretty-printed dump has many) and byte offset.
type SyntaxError struct {
	Line   int
	Offset int64
	Err    error
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d (byte %d): %v", e.Line, e.Offset, e.Err)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// Parse reads "nft -j list ruleset" output.
//
// The dump is decoded by a single-pass reader (fast.go) that handles the
// JSON nft writes; whatever it is not sure to read exactly as
// encoding/json would (a syntax error, a duplicate or escaped key, an
// unexpected type) is decoded again by the encoding/json decoder
// (parseStd), which gives the result or the error.
func Parse(r io.Reader) (*Ruleset, error) {
	var b strings.Builder
	if l, ok := r.(interface{ Len() int }); ok {
		b.Grow(min(l.Len(), MaxSize+1))
	}
	if _, err := io.Copy(&b, io.LimitReader(r, MaxSize+1)); err != nil {
		return nil, err
	}
	text := b.String()
	if len(text) > MaxSize {
		return nil, ErrTooLarge
	}
	if rs, ok := parseFast(text); ok {
		return rs, nil
	}
	return parseStd([]byte(text))
}

// parseStd decodes a dump with encoding/json.
func parseStd(data []byte) (*Ruleset, error) {
	// Lines are counted incrementally: offsets only grow while streaming.
	lastOff, lastLine := int64(0), 1
	lineAt := func(off int64) int {
		if off > int64(len(data)) {
			off = int64(len(data))
		}
		if off < lastOff {
			lastOff, lastLine = 0, 1
		}
		lastLine += bytes.Count(data[lastOff:off], []byte{'\n'})
		lastOff = off
		return lastLine
	}
	fail := func(off int64, err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = se.Offset
		}
		return &SyntaxError{Line: lineAt(off), Offset: off, Err: err}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := expectDelim(dec, '{'); err != nil {
		return nil, fail(dec.InputOffset(), err)
	}
	rs := &Ruleset{}
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail(dec.InputOffset(), err)
		}
		if key, _ := tok.(string); key != "nftables" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, fail(dec.InputOffset(), err)
			}
			continue
		}
		found = true
		if err := expectDelim(dec, '['); err != nil {
			return nil, fail(dec.InputOffset(), err)
		}
		for dec.More() {
			off := dec.InputOffset()
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, fail(dec.InputOffset(), err)
			}
			// InputOffset is where the previous token ended; skip the
			// separator and blanks to locate the item itself.
			for off < int64(len(data)) && (data[off] == ',' || data[off] == ' ' || data[off] == '\n' || data[off] == '\t' || data[off] == '\r') {
				off++
			}
			if err := rs.add(raw, lineAt(off)); err != nil {
				return nil, fail(off, err)
			}
		}
		if err := expectDelim(dec, ']'); err != nil {
			return nil, fail(dec.InputOffset(), err)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, fail(dec.InputOffset(), err)
	}
	if !found {
		return nil, fail(0, fmt.Errorf("%w: no \"nftables\" array", ErrShape))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail(dec.InputOffset(), fmt.Errorf("%w: data after the ruleset", ErrShape))
	}
	return rs, nil
}

// expectDelim reads one token and checks it is the given delimiter.
func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != d {
		return fmt.Errorf("%w: expected %v, got %v", ErrShape, d, tok)
	}
	return nil
}

func (rs *Ruleset) add(raw json.RawMessage, line int) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return fmt.Errorf("%w: ruleset item is not an object", ErrShape)
	}
	if len(obj) != 1 {
		return fmt.Errorf("%w: ruleset item has %d keys", ErrShape, len(obj))
	}
	for kind, body := range obj {
		switch kind {
		case "metainfo":
			var m struct {
				V int `json:"json_schema_version"`
			}
			if err := json.Unmarshal(body, &m); err != nil {
				return fmt.Errorf("%w: metainfo: %v", ErrShape, err)
			}
			rs.SchemaVersion = m.V
		case "table":
			var t struct {
				Family, Name string
				Handle       int64
			}
			if err := json.Unmarshal(body, &t); err != nil || t.Family == "" || t.Name == "" {
				return fmt.Errorf("%w: table needs family and name", ErrShape)
			}
			rs.Tables = append(rs.Tables, &Table{Family: t.Family, Name: t.Name, Handle: t.Handle, Line: line})
		case "chain":
			var c struct {
				Family, Table, Name string
				Handle              int64
				Type, Hook          string
				Prio                *int
				Policy              string
				Dev                 json.RawMessage
			}
			if err := json.Unmarshal(body, &c); err != nil || c.Family == "" || c.Table == "" || c.Name == "" {
				return fmt.Errorf("%w: chain needs family, table and name", ErrShape)
			}
			ch := &Chain{Family: c.Family, Table: c.Table, Name: c.Name, Handle: c.Handle,
				Type: c.Type, Hook: c.Hook, Policy: c.Policy, Line: line}
			if c.Hook != "" {
				if c.Prio == nil {
					return fmt.Errorf("%w: base chain %s without a priority", ErrShape, c.Name)
				}
				ch.Prio = *c.Prio
			}
			if c.Dev != nil {
				var v any
				_ = json.Unmarshal(c.Dev, &v)
				ch.Devices = strList(v)
			}
			rs.Chains = append(rs.Chains, ch)
		case "set", "map":
			var s struct {
				Family, Table, Name string
				Type, Map, Flags    json.RawMessage
				Elem                json.RawMessage
			}
			if err := json.Unmarshal(body, &s); err != nil || s.Family == "" || s.Table == "" || s.Name == "" {
				return fmt.Errorf("%w: %s needs family, table and name", ErrShape, kind)
			}
			set := &Set{Family: s.Family, Table: s.Table, Name: s.Name, Line: line}
			set.Type = rawStrList(s.Type)
			set.Map = rawStrList(s.Map)
			set.Flags = rawStrList(s.Flags)
			if kind == "map" && len(set.Map) == 0 {
				return fmt.Errorf("%w: map %s without a value type", ErrShape, s.Name)
			}
			if s.Elem != nil {
				var v any
				if err := json.Unmarshal(s.Elem, &v); err != nil {
					return fmt.Errorf("%w: elements of %s", ErrShape, s.Name)
				}
				items, err := listOf(v)
				if err != nil {
					return fmt.Errorf("set %s: %w", s.Name, err)
				}
				set.Elems = items
			}
			rs.Sets = append(rs.Sets, set)
		case "rule":
			var r struct {
				Family, Table, Chain string
				Handle               int64
				Expr                 []json.RawMessage
			}
			if err := json.Unmarshal(body, &r); err != nil || r.Family == "" || r.Table == "" || r.Chain == "" {
				return fmt.Errorf("%w: rule needs family, table and chain", ErrShape)
			}
			rule := &Rule{Family: r.Family, Table: r.Table, Chain: r.Chain, Handle: r.Handle, Line: line}
			for _, e := range r.Expr {
				st, err := decodeStmt(e)
				if err != nil {
					return fmt.Errorf("rule %s %s %s handle %d: %w", r.Family, r.Table, r.Chain, r.Handle, err)
				}
				rule.Stmts = append(rule.Stmts, st)
			}
			rs.Rules = append(rs.Rules, rule)
		default:
			rs.Others = append(rs.Others, Other{Kind: kind, Raw: body, Line: line})
		}
	}
	return nil
}

// rawStrList decodes a string or a list of strings.
func rawStrList(raw json.RawMessage) []string {
	if raw == nil {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return strList(v)
}
