package nfnl

import (
	"encoding/binary"
	"fmt"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nlsock"
)

// Netlink attributes are read with nlsock.Attrs; nf_tables sends its
// integers big-endian. nlaHeader is an attribute's header, for the
// requests the reader writes.
const nlaHeader = 4

// The fixed-size readers stay small enough to inline: the decoder reads
// millions of these.

func be32(p []byte) (uint32, error) {
	if len(p) != 4 {
		return 0, sizeError(4, len(p))
	}
	return binary.BigEndian.Uint32(p), nil
}

func be64(p []byte) (uint64, error) {
	if len(p) != 8 {
		return 0, sizeError(8, len(p))
	}
	return binary.BigEndian.Uint64(p), nil
}

func be16(p []byte) (uint16, error) {
	if len(p) != 2 {
		return 0, sizeError(2, len(p))
	}
	return binary.BigEndian.Uint16(p), nil
}

func u8(p []byte) (uint8, error) {
	if len(p) != 1 {
		return 0, sizeError(1, len(p))
	}
	return p[0], nil
}

func sizeError(want, got int) error {
	if want == 1 {
		return fmt.Errorf("want 1 byte, got %d", got)
	}
	return fmt.Errorf("want %d bytes, got %d", want, got)
}

// fields collects the first error of the fields of a message or
// expression, prefixed with the field's name.
type fields struct {
	err error
}

func (f *fields) fail(what string, err error) {
	if err != nil && f.err == nil {
		f.setErr(what, err)
	}
}

func (f *fields) setErr(what string, err error) { f.err = fmt.Errorf("%s: %w", what, err) }

func (f *fields) u32(dst *uint32, what string, p []byte) {
	v, err := be32(p)
	f.fail(what, err)
	*dst = v
}

// walk calls fn for each attribute of b, recording presence.
func walk(b []byte, fn func(typ uint16, p []byte)) (seen uint32, err error) {
	a := nlsock.AttrsOf(b)
	for {
		typ, p, ok := a.Next()
		if !ok {
			break
		}
		if typ < 32 {
			seen |= 1 << typ
		}
		fn(typ, p)
	}
	return seen, a.Err()
}

// An attr says how one attribute decodes into a T: as a big-endian
// number of its width, a name, bytes kept as sent, an NFTA_DATA value,
// or by fn; what names it in errors. Tables of attrs, indexed by
// attribute type, decode the messages and expressions whose attributes
// each set one field (see fill).
type attr[T any] struct {
	kind attrKind
	what string
	u32  func(*T) *uint32
	u64  func(*T) *uint64
	u16  func(*T) *uint16
	u8   func(*T) *uint8
	str  func(*T) *string
	raw  func(*T) *[]byte
	fn   func(d *decoder, e *T, p []byte) error
}

type attrKind uint8

const (
	attrNone attrKind = iota
	attrU32
	attrU64
	attrU16
	attrU8
	attrName  // NUL-terminated, interned
	attrBytes // copied as sent
	attrData  // the value of an NFTA_DATA nest (a verdict is dropped)
	attrFunc
)

func asU32[T any](what string, get func(*T) *uint32) attr[T] {
	return attr[T]{kind: attrU32, what: what, u32: get}
}

func asU64[T any](what string, get func(*T) *uint64) attr[T] {
	return attr[T]{kind: attrU64, what: what, u64: get}
}

func asU16[T any](what string, get func(*T) *uint16) attr[T] {
	return attr[T]{kind: attrU16, what: what, u16: get}
}

func asU8[T any](what string, get func(*T) *uint8) attr[T] {
	return attr[T]{kind: attrU8, what: what, u8: get}
}

func asName[T any](get func(*T) *string) attr[T] { return attr[T]{kind: attrName, str: get} }

func asBytes[T any](get func(*T) *[]byte) attr[T] { return attr[T]{kind: attrBytes, raw: get} }

func asData[T any](what string, get func(*T) *[]byte) attr[T] {
	return attr[T]{kind: attrData, what: what, raw: get}
}

// asFunc decodes the attribute with fn; its error is prefixed with what.
func asFunc[T any](what string, fn func(d *decoder, e *T, p []byte) error) attr[T] {
	return attr[T]{kind: attrFunc, what: what, fn: fn}
}

// fill decodes the attributes of b into e by tab, in the order sent (the
// last of a repeated type wins), skipping types tab has no entry for.
// err is the attribute stream's error, else the first field's; seen is
// the set of types sent (bit n = type n, for types below 32).
func fill[T any](d *decoder, e *T, tab []attr[T], b []byte) (seen uint32, err error) {
	var f fields
	a := nlsock.AttrsOf(b)
	for {
		typ, p, ok := a.Next()
		if !ok {
			break
		}
		if typ < 32 {
			seen |= 1 << typ
		}
		if int(typ) >= len(tab) {
			continue
		}
		switch x := &tab[typ]; x.kind {
		case attrU32:
			v, err := be32(p)
			f.fail(x.what, err)
			*x.u32(e) = v
		case attrU64:
			v, err := be64(p)
			f.fail(x.what, err)
			*x.u64(e) = v
		case attrU16:
			v, err := be16(p)
			f.fail(x.what, err)
			*x.u16(e) = v
		case attrU8:
			v, err := u8(p)
			f.fail(x.what, err)
			*x.u8(e) = v
		case attrName:
			*x.str(e) = d.str(trimNUL(p))
		case attrBytes:
			*x.raw(e) = d.bytes(p)
		case attrData:
			v, _, err := d.data(p)
			f.fail(x.what, err)
			*x.raw(e) = v
		case attrFunc:
			f.fail(x.what, x.fn(d, e, p))
		}
	}
	return seen, errs(a.Err(), f.err)
}

// lastAttr is the last attribute of type typ in b, before any error in
// the stream.
func lastAttr(b []byte, typ uint16) (last []byte, ok bool) {
	a := nlsock.AttrsOf(b)
	for {
		t, p, more := a.Next()
		if !more {
			return last, ok
		}
		if t == typ {
			last, ok = p, true
		}
	}
}
