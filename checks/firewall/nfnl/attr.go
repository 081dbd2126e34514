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
