// Package sockdiag speaks the kernel's NETLINK_SOCK_DIAG dump protocol: it
// builds SOCK_DIAG_BY_FAMILY requests and walks the answer's messages. The
// family-specific parts (inet_diag for TCP, unix_diag for UNIX sockets)
// stay with their packages; this one owns the framing they share.
package sockdiag

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Layouts from linux/netlink.h and linux/sock_diag.h.
const (
	HeaderLen = 16 // nlmsghdr

	nlmsgError       = 2
	nlmsgDone        = 3
	nlmFRequest      = 0x1
	nlmFDump         = 0x300
	nlmFDumpIntr     = 0x10
	sockDiagByFamily = 20
)

// ErrMessage means a malformed or unexpected netlink message.
var ErrMessage = errors.New("malformed sock_diag message")

// ErrTooLarge means a dump exceeded the caller's cap.
var ErrTooLarge = errors.New("sock_diag dump too large")

// Errno is an error the kernel answered a dump request with.
type Errno int32

func (e Errno) Error() string { return fmt.Sprintf("sock_diag: errno %d", int32(e)) }

// Request returns a SOCK_DIAG_BY_FAMILY dump request with room for a
// family-specific request of reqLen bytes, and that room to fill.
func Request(seq uint32, reqLen int) (msg, req []byte) {
	msg = make([]byte, HeaderLen+reqLen)
	ne := binary.NativeEndian
	ne.PutUint32(msg[0:], uint32(len(msg)))
	ne.PutUint16(msg[4:], sockDiagByFamily)
	ne.PutUint16(msg[6:], nlmFRequest|nlmFDump)
	ne.PutUint32(msg[8:], seq)
	return msg, msg[HeaderLen:]
}

// Walk decodes one datagram of a dump, calling each with the body of every
// data message, and reports whether the dump is complete. An interrupted
// dump (the table changed while the kernel walked it) is an error: an
// entry may be missing.
func Walk(b []byte, seq uint32, each func(body []byte) error) (done bool, err error) {
	ne := binary.NativeEndian
	for len(b) > 0 {
		if len(b) < HeaderLen {
			return false, fmt.Errorf("%w: %d trailing bytes", ErrMessage, len(b))
		}
		n := int(ne.Uint32(b[0:]))
		if n < HeaderLen || n > len(b) {
			return false, fmt.Errorf("%w: length %d of %d", ErrMessage, n, len(b))
		}
		if got := ne.Uint32(b[8:]); got != seq {
			return false, fmt.Errorf("%w: sequence %d, want %d", ErrMessage, got, seq)
		}
		if ne.Uint16(b[6:])&nlmFDumpIntr != 0 {
			return false, fmt.Errorf("%w: dump interrupted", ErrMessage)
		}
		body := b[HeaderLen:n]
		switch ne.Uint16(b[4:]) {
		case nlmsgDone:
			// A dump that failed part-way ends with a negative errno here.
			if len(body) >= 4 && int32(ne.Uint32(body)) < 0 {
				return false, Errno(-int32(ne.Uint32(body)))
			}
			return true, nil
		case nlmsgError:
			if len(body) < 4 {
				return false, fmt.Errorf("%w: short error", ErrMessage)
			}
			return false, Errno(-int32(ne.Uint32(body)))
		default:
			if err := each(body); err != nil {
				return false, err
			}
		}
		// Messages are 4-byte aligned.
		if a := (n + 3) &^ 3; a < len(b) {
			b = b[a:]
		} else {
			b = nil
		}
	}
	return false, nil
}
