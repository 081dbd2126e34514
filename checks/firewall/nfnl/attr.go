package nfnl

import (
	"encoding/binary"
	"fmt"
)

// Netlink attributes: a 2-byte length (header included), a 2-byte type
// (the top two bits are flags), the payload, padding to 4 bytes. nf_tables
// sends its integers big-endian.

const (
	nlaHeader   = 4
	nlaTypeMask = 0x3fff
)

// attrs iterates over the attributes in b. Every length is checked
// against what is left, so a hostile length can neither overrun nor
// allocate.
type attrs struct {
	b   []byte
	err error
}

// next is small enough to be inlined: it runs for every attribute of a
// ruleset, millions of times. Errors are made out of line (fail).
func (a *attrs) next() (typ uint16, payload []byte, ok bool) {
	if len(a.b) < nlaHeader || a.err != nil {
		if len(a.b) > 0 && a.err == nil {
			a.fail(0)
		}
		return 0, nil, false
	}
	n := int(binary.NativeEndian.Uint16(a.b))
	if n < nlaHeader || n > len(a.b) {
		a.fail(n)
		return 0, nil, false
	}
	typ = binary.NativeEndian.Uint16(a.b[2:]) & nlaTypeMask
	payload = a.b[nlaHeader:n]
	a.b = a.b[min((n+3)&^3, len(a.b)):]
	return typ, payload, true
}

// fail records why the attribute at the head of a.b cannot be read; n
// is its length field (0 when even the header is missing).
//
//go:noinline
func (a *attrs) fail(n int) {
	if len(a.b) < nlaHeader {
		a.err = fmt.Errorf("attribute header truncated: %d bytes left", len(a.b))
		return
	}
	a.err = fmt.Errorf("attribute length %d out of range (%d bytes left)", n, len(a.b))
}

func be32(p []byte) (uint32, error) {
	if len(p) != 4 {
		return 0, fmt.Errorf("want 4 bytes, got %d", len(p))
	}
	return binary.BigEndian.Uint32(p), nil
}

func be64(p []byte) (uint64, error) {
	if len(p) != 8 {
		return 0, fmt.Errorf("want 8 bytes, got %d", len(p))
	}
	return binary.BigEndian.Uint64(p), nil
}

func be16(p []byte) (uint16, error) {
	if len(p) != 2 {
		return 0, fmt.Errorf("want 2 bytes, got %d", len(p))
	}
	return binary.BigEndian.Uint16(p), nil
}

func u8(p []byte) (uint8, error) {
	if len(p) != 1 {
		return 0, fmt.Errorf("want 1 byte, got %d", len(p))
	}
	return p[0], nil
}

// cstr is a NUL-terminated string attribute.
func cstr(p []byte) string {
	for i, c := range p {
		if c == 0 {
			return string(p[:i])
		}
	}
	return string(p)
}

// fields decodes the attributes of b with one function per type; it
// collects the first error and the set of types seen (bit n = type n,
// for types below 32).
type fields struct {
	seen uint32
	err  error
}

func (f *fields) fail(what string, err error) {
	if f.err == nil && err != nil {
		f.err = fmt.Errorf("%s: %w", what, err)
	}
}

func (f *fields) u32(dst *uint32, what string, p []byte) {
	v, err := be32(p)
	f.fail(what, err)
	*dst = v
}

func (f *fields) u64(dst *uint64, what string, p []byte) {
	v, err := be64(p)
	f.fail(what, err)
	*dst = v
}

// walk calls fn for each attribute of b, recording presence.
func walk(b []byte, fn func(typ uint16, p []byte)) (seen uint32, err error) {
	a := attrs{b: b}
	for {
		typ, p, ok := a.next()
		if !ok {
			break
		}
		if typ < 32 {
			seen |= 1 << typ
		}
		fn(typ, p)
	}
	return seen, a.err
}
