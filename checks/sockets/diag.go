package sockets

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/sensu-community/sensu-redis-security-checks/checks/sockdiag"
)

// The kernel's sock_diag interface answers "which TCP sockets listen" with
// a filtered dump. Reading /proc/net/tcp makes the kernel walk and format
// every socket of the namespace, which costs milliseconds per file on a
// large host; the dump skips all but the listeners.

// Layouts from linux/inet_diag.h.
const (
	inetDiagReqLen = 56 // inet_diag_req_v2
	inetDiagMsgLen = 72 // inet_diag_msg

	tcpListen = 10
)

// diagRequest builds the SOCK_DIAG_BY_FAMILY dump request for listening TCP
// sockets of one address family.
func diagRequest(family uint8, seq uint32) []byte {
	const ipprotoTCP = 6
	msg, r := sockdiag.Request(seq, inetDiagReqLen)
	r[0] = family
	r[1] = ipprotoTCP
	binary.NativeEndian.PutUint32(r[4:], 1<<tcpListen)
	return msg
}

// diagErrno is an error the kernel answered a dump request with.
type diagErrno = sockdiag.Errno

// ErrDiagMessage means a malformed or unexpected netlink message.
var ErrDiagMessage = sockdiag.ErrMessage

// parseDiag decodes one datagram of a sock_diag dump. It returns the
// listeners it holds and whether the dump is complete.
func parseDiag(b []byte, seq uint32) (out []Listener, done bool, err error) {
	done, err = sockdiag.Walk(b, seq, func(body []byte) error {
		l, ok, err := parseDiagMsg(body)
		if ok {
			out = append(out, l)
		}
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return out, done, nil
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
