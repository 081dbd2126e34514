// Package nlsock is the netlink socket the firewall check's readers share
// (nf_tables, ipset, rtnetlink): opened in the network namespace of the
// calling thread, read one datagram at a time into one buffer, only from
// the kernel, and never past the caller's context.
package nlsock

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultBuffer holds any dump datagram: the kernel fills one up to 32 KiB
// however large the reader's buffer.
const DefaultBuffer = 64 << 10

// pollSlice bounds each wait, so that a cancelled context without a
// deadline is noticed.
const pollSlice = 200 * time.Millisecond

// Conn is an open netlink socket.
type Conn struct {
	fd  int
	buf []byte
	seq uint32
}

// Open opens and binds a netlink socket of protocol (unix.NETLINK_*) in
// the calling thread's network namespace; datagrams are read into a
// buffer of size bytes.
func Open(protocol, size int) (*Conn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, protocol)
	if err != nil {
		return nil, fmt.Errorf("opening a netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("binding the netlink socket: %w", err)
	}
	return &Conn{fd: fd, buf: make([]byte, size)}, nil
}

// Close closes the socket.
func (c *Conn) Close() error { return unix.Close(c.fd) }

// NextSeq is the sequence number of the next request.
func (c *Conn) NextSeq() uint32 {
	c.seq++
	return c.seq
}

// Send sends one request to the kernel.
func (c *Conn) Send(req []byte) error {
	return unix.Sendto(c.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
}

// TooLargeError is a datagram larger than the buffer (the kernel said so
// with MSG_TRUNC): reported, never read cut.
type TooLargeError struct {
	Size, Buffer int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("a datagram of %d bytes, more than the %d-byte buffer", e.Size, e.Buffer)
}

// Recv returns the next datagram from the kernel, valid until the next
// Recv. Datagrams from any other sender are skipped. It returns ctx's
// error once ctx is done.
func (c *Conn) Recv(ctx context.Context) ([]byte, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// The kernel fills the next datagram of a dump as the last is
		// read: it is usually there already, and read without a wait.
		m, from, err := unix.Recvfrom(c.fd, c.buf, unix.MSG_TRUNC|unix.MSG_DONTWAIT)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			if err := c.wait(ctx); err != nil {
				return nil, err
			}
			continue
		case err != nil:
			return nil, fmt.Errorf("receiving: %w", err)
		}
		if sa, ok := from.(*unix.SockaddrNetlink); !ok || sa.Pid != 0 {
			continue // not from the kernel
		}
		if m > len(c.buf) {
			return nil, &TooLargeError{Size: m, Buffer: len(c.buf)}
		}
		return c.buf[:m], nil
	}
}

// wait waits until a datagram may be read, or ctx is done, in slices.
func (c *Conn) wait(ctx context.Context) error {
	for {
		wait := pollSlice
		if dl, ok := ctx.Deadline(); ok {
			if left := time.Until(dl); left < wait {
				wait = left
			}
		}
		if wait <= 0 {
			return context.DeadlineExceeded
		}
		pfd := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, max(int(wait/time.Millisecond), 1))
		switch {
		case err == unix.EINTR:
		case err != nil:
			return fmt.Errorf("poll: %w", err)
		case n > 0:
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}
