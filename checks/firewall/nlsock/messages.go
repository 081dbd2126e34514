package nlsock

import (
	"encoding/binary"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// msgHeader is a netlink message header (struct nlmsghdr).
const msgHeader = unix.SizeofNlMsghdr

// KernelError is an error the kernel answered a request with: an
// NLMSG_ERROR, or the error an NLMSG_DONE carries when a dump failed
// part way (its messages so far are then not the whole answer).
type KernelError struct{ Errno syscall.Errno }

func (e *KernelError) Error() string { return fmt.Sprintf("kernel error: %v", e.Errno) }
func (e *KernelError) Unwrap() error { return e.Errno }

// Answer reads the datagrams that answer one request.
type Answer struct {
	// Where begins the errors about the datagrams' framing ("rtnetlink
	// interfaces"); fn's errors are returned as they are.
	Where string
	// Seq is the request's sequence number; 0 takes any (a recording).
	Seq uint32
	// Interrupted is set once a message carried NLM_F_DUMP_INTR: the
	// dump raced a change.
	Interrupted bool
	// Acked is set when the answer ended with an acknowledgement
	// (NLMSG_ERROR 0) rather than NLMSG_DONE.
	Acked bool
}

// Datagram calls fn with the type and body of each message of b that
// carries data, in order, and reports whether the answer ended (NLMSG_DONE
// or an acknowledgement). Every length is checked against what is left;
// a message answering another request is an error.
func (a *Answer) Datagram(b []byte, fn func(typ uint16, body []byte) error) (done bool, err error) {
	for len(b) > 0 {
		if len(b) < msgHeader {
			return false, fmt.Errorf("%s: %d bytes left, shorter than a message header", a.Where, len(b))
		}
		n := binary.NativeEndian.Uint32(b[0:])
		typ := binary.NativeEndian.Uint16(b[4:])
		flags := binary.NativeEndian.Uint16(b[6:])
		seq := binary.NativeEndian.Uint32(b[8:])
		if n < msgHeader || uint64(n) > uint64(len(b)) {
			return false, fmt.Errorf("%s: message length %d with %d bytes left", a.Where, n, len(b))
		}
		if a.Seq != 0 && seq != a.Seq {
			return false, fmt.Errorf("%s: answer to request %d while waiting for %d", a.Where, seq, a.Seq)
		}
		if flags&unix.NLM_F_DUMP_INTR != 0 {
			a.Interrupted = true
		}
		body := b[msgHeader:n]
		switch typ {
		case unix.NLMSG_NOOP:
		case unix.NLMSG_DONE:
			// A dump that failed part way says so here, after the
			// messages it managed.
			if len(body) >= 4 {
				if e := int32(binary.NativeEndian.Uint32(body)); e < 0 {
					return true, &KernelError{syscall.Errno(-e)}
				}
			}
			return true, nil
		case unix.NLMSG_ERROR:
			if len(body) < 4 {
				return false, fmt.Errorf("%s: truncated error message", a.Where)
			}
			if e := int32(binary.NativeEndian.Uint32(body)); e != 0 {
				return true, &KernelError{syscall.Errno(-e)}
			}
			a.Acked = true
			return true, nil
		default:
			if err := fn(typ, body); err != nil {
				return false, err
			}
		}
		b = b[min((int(n)+3)&^3, len(b)):]
	}
	return false, nil
}
