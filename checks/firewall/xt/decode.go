package xt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
)

// Family is the address family of the table the expression is in: the
// same module lays out addresses by it.
type Family uint8

// Families.
const (
	IPv4 Family = 4
	IPv6 Family = 6
)

// ErrNotDecoded marks a match or target this package cannot read: an
// unknown module or revision, a length that does not fit the structure,
// or a value outside what the structure allows.
var ErrNotDecoded = errors.New("xt parameters not decoded")

// Error says which expression was not decoded and why.
type Error struct {
	Kind string // "match" or "target"
	Name string
	Rev  uint32
	Len  int
	Why  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("xt %s %s revision %d (%d bytes): %s", e.Kind, e.Name, e.Rev, e.Len, e.Why)
}

// Unwrap makes errors.Is(err, ErrNotDecoded) hold.
func (e *Error) Unwrap() error { return ErrNotDecoded }

// Decoder decodes blobs. SetName resolves an ipset index (the kernel
// keeps indices, iptables-save prints names); nil makes set matches and
// targets undecodable.
type Decoder struct {
	SetName func(index uint16) (string, error)
}

// Target is a decoded xt target: its name and options as iptables-save
// prints them.
type Target struct {
	Name    string
	Options []iptsave.Option
	// OptionsOmitted is set for a target whose options were not read
	// because they cannot change the verdict (see verdictFree).
	OptionsOmitted bool
}

// hostOrder is the byte order of the kernel's structures here: x_tables
// keeps them in the machine's order.
var hostOrder = binary.NativeEndian

// blob reads a structure. Offsets are those of the C layout on 64-bit
// Linux (checked by the tests against the uapi headers).
type blob []byte

func (b blob) u8(off int) uint8   { return b[off] }
func (b blob) u16(off int) uint16 { return hostOrder.Uint16(b[off:]) }
func (b blob) u32(off int) uint32 { return hostOrder.Uint32(b[off:]) }
func (b blob) u64(off int) uint64 { return hostOrder.Uint64(b[off:]) }

// be16 reads a field the kernel keeps in network order.
func (b blob) be16(off int) uint16 { return binary.BigEndian.Uint16(b[off:]) }

// cstr reads a NUL-terminated string from a fixed-size char array.
func (b blob) cstr(off, size int) (string, bool) {
	s := b[off : off+size]
	i := 0
	for i < len(s) && s[i] != 0 {
		i++
	}
	if i == len(s) {
		return "", false // not terminated: the kernel module would refuse it
	}
	return string(s[:i]), true
}

// addr reads a union nf_inet_addr (16 bytes, network order).
func (b blob) addr(off int, fam Family) netip.Addr {
	if fam == IPv4 {
		return netip.AddrFrom4([4]byte(b[off : off+4]))
	}
	return netip.AddrFrom16([16]byte(b[off : off+16]))
}

// align is XT_ALIGN: nf_tables sends the structure padded to 8 bytes.
func align(n int) int { return (n + 7) &^ 7 }

// sizeOK accepts the structure's size and its padded size.
func sizeOK(info []byte, size int) bool {
	return len(info) == size || len(info) == align(size)
}

// opt builds an option.
func opt(name string, neg bool, vals ...string) iptsave.Option {
	return iptsave.Option{Name: name, Neg: neg, Values: vals}
}

func hex32(v uint32) string { return "0x" + strconv.FormatUint(uint64(v), 16) }

// markMask prints "v" or "v/m" as iptables does (the mask is left out
// when it is all ones).
func markMask(v, m uint32) string {
	if m == 0xffffffff {
		return hex32(v)
	}
	return hex32(v) + "/" + hex32(m)
}

// portRange prints "lo" or "lo:hi".
func portRange(lo, hi uint16) string {
	if lo == hi {
		return strconv.Itoa(int(lo))
	}
	return strconv.Itoa(int(lo)) + ":" + strconv.Itoa(int(hi))
}

// addrMask prints an address with its mask as iptables does: no suffix
// for a full mask, "/N" for a prefix, the mask itself otherwise.
func addrMask(a, m netip.Addr) string {
	bits, ok := prefixLen(m)
	switch {
	case ok && bits == m.BitLen():
		return a.String()
	case ok:
		return a.String() + "/" + strconv.Itoa(bits)
	}
	return a.String() + "/" + m.String()
}

// prefixLen returns the length of a contiguous mask.
func prefixLen(m netip.Addr) (int, bool) {
	bs := m.AsSlice()
	n := 0
	for i, c := range bs {
		if c == 0xff {
			n += 8
			continue
		}
		for c&0x80 != 0 {
			n++
			c <<= 1
		}
		if c != 0 {
			return 0, false
		}
		for _, rest := range bs[i+1:] {
			if rest != 0 {
				return 0, false
			}
		}
		return n, true
	}
	return n, true
}

// names prints the names of the bits set in v, in table order; ok is
// false when v has a bit the table does not name.
func names(v uint32, table []bitName) (string, bool) {
	var out []string
	for _, t := range table {
		if v&t.bit != 0 {
			out = append(out, t.name)
			v &^= t.bit
		}
	}
	return strings.Join(out, ","), v == 0
}

type bitName struct {
	bit  uint32
	name string
}
