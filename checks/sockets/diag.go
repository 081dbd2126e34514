package sockets

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// The kernel's sock_diag interface answers "which TCP sockets listen" with
// a filtered dump. Reading /proc/net/tcp makes the kernel walk and format
// every socket of the namespace, which costs milliseconds per file on a
// large host; the dump skips all but the listeners.

// Layouts from linux/inet_diag.h and linux/netlink.h.
const (
	nlmsgHdrLen    = 16
	inetDiagReqLen = 56 // inet_diag_req_v2
	inetDiagMsgLen = 72 // inet_diag_msg

	nlmsgError = 2
	nlmsgDone  = 3

	nlmFDumpIntr = 0x10

	tcpListen = 10
)

// diagRequest builds the SOCK_DIAG_BY_FAMILY dump request for listening TCP
// sockets of one address family.
func diagRequest(family uint8, seq uint32) []byte {
	const (
		sockDiagByFamily = 20
		nlmFRequest      = 0x1
		nlmFDump         = 0x300
		ipprotoTCP       = 6
	)
	b := make([]byte, nlmsgHdrLen+inetDiagReqLen)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], sockDiagByFamily)
	ne.PutUint16(b[6:], nlmFRequest|nlmFDump)
	ne.PutUint32(b[8:], seq)
	r := b[nlmsgHdrLen:]
	r[0] = family
	r[1] = ipprotoTCP
	ne.PutUint32(r[4:], 1<<tcpListen)
	return b
}

// diagErrno is an error the kernel answered a dump request with.
type diagErrno int32

func (e diagErrno) Error() string { return fmt.Sprintf("sock_diag: errno %d", int32(e)) }

// ErrDiagMessage means a malformed or unexpected netlink message.
var ErrDiagMessage = errors.New("malformed sock_diag message")

// parseDiag decodes one datagram of a sock_diag dump. It returns the
// listeners it holds and whether the dump is complete.
func parseDiag(b []byte, seq uint32) (out []Listener, done bool, err error) {
	ne := binary.NativeEndian
	for len(b) > 0 {
		if len(b) < nlmsgHdrLen {
			return nil, false, fmt.Errorf("%w: %d trailing bytes", ErrDiagMessage, len(b))
		}
		n := int(ne.Uint32(b[0:]))
		typ := ne.Uint16(b[4:])
		if n < nlmsgHdrLen || n > len(b) {
			return nil, false, fmt.Errorf("%w: length %d of %d", ErrDiagMessage, n, len(b))
		}
		if got := ne.Uint32(b[8:]); got != seq {
			return nil, false, fmt.Errorf("%w: sequence %d, want %d", ErrDiagMessage, got, seq)
		}
		if ne.Uint16(b[6:])&nlmFDumpIntr != 0 {
			// The table changed during the dump: a listener may be missing.
			return nil, false, fmt.Errorf("%w: dump interrupted", ErrDiagMessage)
		}
		body := b[nlmsgHdrLen:n]
		switch typ {
		case nlmsgDone:
			// A dump that failed part-way ends with a negative errno here.
			if len(body) >= 4 && int32(ne.Uint32(body)) < 0 {
				return nil, false, diagErrno(-int32(ne.Uint32(body)))
			}
			return out, true, nil
		case nlmsgError:
			if len(body) < 4 {
				return nil, false, fmt.Errorf("%w: short error", ErrDiagMessage)
			}
			return nil, false, diagErrno(-int32(ne.Uint32(body)))
		default:
			l, ok, err := parseDiagMsg(body)
			if err != nil {
				return nil, false, err
			}
			if ok {
				out = append(out, l)
			}
		}
		// Messages are 4-byte aligned.
		if a := (n + 3) &^ 3; a < len(b) {
			b = b[a:]
		} else {
			b = nil
		}
	}
	return out, false, nil
}

// parseDiagMsg decodes one inet_diag_msg. Ports and addresses are in
// network order; uid and inode in host order.
func parseDiagMsg(m []byte) (Listener, bool, error) {
	if len(m) < inetDiagMsgLen {
		return Listener{}, false, fmt.Errorf("%w: inet_diag_msg of %d bytes", ErrDiagMessage, len(m))
	}
	const afInet, afInet6 = 2, 10
	family, state := m[0], m[1]
	id := m[4:52]
	port := binary.BigEndian.Uint16(id[0:])
	var addr netip.Addr
	switch family {
	case afInet:
		addr = netip.AddrFrom4([4]byte(id[4:8]))
	case afInet6:
		addr = netip.AddrFrom16([16]byte(id[4:20]))
	default:
		return Listener{}, false, fmt.Errorf("%w: address family %d", ErrDiagMessage, family)
	}
	if state != tcpListen {
		return Listener{}, false, nil // the filter should have dropped it
	}
	ne := binary.NativeEndian
	return Listener{
		Addr:  netip.AddrPortFrom(addr, port),
		UID:   int(ne.Uint32(m[64:])),
		Inode: uint64(ne.Uint32(m[68:])),
	}, true, nil
}
