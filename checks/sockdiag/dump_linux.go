package sockdiag

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Conn is a NETLINK_SOCK_DIAG socket of the caller's network namespace.
type Conn struct {
	fd  int
	buf []byte
}

// Open opens the socket. The kernel answers at once; a receive timeout
// only bounds a broken kernel.
func Open() (*Conn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	tv := unix.NsecToTimeval((2 * time.Second).Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("setsockopt", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("bind", err)
	}
	// The kernel sends at most 32 KiB per datagram.
	return &Conn{fd: fd, buf: make([]byte, 64<<10)}, nil
}

// Close closes the socket.
func (c *Conn) Close() error { return unix.Close(c.fd) }

// Dump sends msg (from Request, with sequence seq) and walks the answer
// until the dump is complete, calling each with every data message's
// body; more than maxBytes of answer is ErrTooLarge.
func (c *Conn) Dump(msg []byte, seq uint32, maxBytes int, each func(body []byte) error) error {
	if err := unix.Sendto(c.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return os.NewSyscallError("sendto", err)
	}
	total := 0
	for {
		n, _, flags, _, err := unix.Recvmsg(c.fd, c.buf, nil, 0)
		if err != nil {
			return os.NewSyscallError("recvmsg", err)
		}
		if flags&unix.MSG_TRUNC != 0 {
			return ErrMessage
		}
		if total += n; total > maxBytes {
			return ErrTooLarge
		}
		done, err := Walk(c.buf[:n], seq, each)
		if err != nil || done {
			return err
		}
	}
}
