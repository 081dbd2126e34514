package nlsock

import (
	"encoding/binary"
	"fmt"
)

// Netlink attributes: a 2-byte length (header included), a 2-byte type
// whose top two bits are flags (nested, network byte order), the payload,
// padding to 4 bytes.
const (
	attrHeader   = 4
	attrTypeMask = 0x3fff
)

// Attrs iterates over the attributes of a byte slice. Every length is
// checked against what is left, so a hostile length can neither overrun
// nor allocate; the first malformed one ends the iteration with Err.
type Attrs struct {
	b   []byte
	err error
}

// AttrsOf iterates over the attributes in b.
func AttrsOf(b []byte) Attrs { return Attrs{b: b} }

// Next returns the next attribute's type (flags cleared) and payload.
// It runs for every attribute of a ruleset: errors are made out of line.
func (a *Attrs) Next() (typ uint16, payload []byte, ok bool) {
	if len(a.b) < attrHeader || a.err != nil {
		if len(a.b) > 0 && a.err == nil {
			a.fail(0)
		}
		return 0, nil, false
	}
	n := int(binary.NativeEndian.Uint16(a.b))
	if n < attrHeader || n > len(a.b) {
		a.fail(n)
		return 0, nil, false
	}
	typ = binary.NativeEndian.Uint16(a.b[2:]) & attrTypeMask
	payload = a.b[attrHeader:n]
	a.b = a.b[min((n+3)&^3, len(a.b)):]
	return typ, payload, true
}

// Err is why the iteration stopped early, or nil.
func (a *Attrs) Err() error { return a.err }

//go:noinline
func (a *Attrs) fail(n int) {
	if len(a.b) < attrHeader {
		a.err = fmt.Errorf("%d bytes left, shorter than an attribute header", len(a.b))
		return
	}
	typ := binary.NativeEndian.Uint16(a.b[2:]) & attrTypeMask
	a.err = fmt.Errorf("attribute %d of length %d with %d bytes left", typ, n, len(a.b))
}

// CString is a NUL-terminated string attribute's text.
func CString(p []byte) string {
	for i, c := range p {
		if c == 0 {
			return string(p[:i])
		}
	}
	return string(p)
}
