package system

import (
	"context"
	endian "encoding/binary"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// rtRecvBuffer holds any dump datagram: the kernel fills one up to 32 KiB
// however large the reader's buffer; a larger one is reported (MSG_TRUNC),
// not read cut.
const rtRecvBuffer = 64 << 10

// rtPollSlice bounds each wait, so a cancelled context without a deadline
// is noticed.
const rtPollSlice = 200 * time.Millisecond

// rtAttempts bounds the readings when the tables change while they are
// dumped.
const rtAttempts = 3

// ErrRoutesChanged means every reading of the routing tables was
// interrupted by a change.
var ErrRoutesChanged = errors.New("rtnetlink: the routing tables kept changing while they were read")

// RoutesHere reads the IPv4 and IPv6 routes of every table, and the names
// of their interfaces, over rtnetlink. The socket belongs to the network
// namespace of the calling thread (lock the OS thread to choose it).
func RoutesHere(ctx context.Context, lim RouteLimits) ([]Route, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("opening an rtnetlink socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("binding the rtnetlink socket: %w", err)
	}
	c := &rtConn{fd: fd, ctx: ctx, buf: make([]byte, rtRecvBuffer)}
	for range rtAttempts {
		d := newRTDecoder(lim)
		// Routes first: an interface that goes between the dumps takes
		// its routes with it, and one that comes has none yet.
		for _, q := range []struct {
			req  string
			typ  uint16
			fam  uint8
			body int
		}{
			{"IPv4 routes", unix.RTM_GETROUTE, unix.AF_INET, rtmsgSize},
			{"IPv6 routes", unix.RTM_GETROUTE, unix.AF_INET6, rtmsgSize},
			{"interfaces", unix.RTM_GETLINK, unix.AF_UNSPEC, ifinfomsgLen},
		} {
			d.req = q.req
			if err := c.dump(d, q.typ, q.fam, q.body); err != nil {
				return nil, err
			}
		}
		if !d.intr {
			return d.result(), nil
		}
	}
	return nil, ErrRoutesChanged
}

type rtConn struct {
	fd  int
	ctx context.Context
	buf []byte
	seq uint32
}

// dump sends one dump request (a header with the family first, the rest
// of the body zero) and decodes its answer up to its end.
func (c *rtConn) dump(d *rtDecoder, typ uint16, fam uint8, body int) error {
	c.seq++
	d.seq = c.seq
	req := make([]byte, nlmsgHeader+body)
	endian.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	endian.NativeEndian.PutUint16(req[4:], typ)
	endian.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	endian.NativeEndian.PutUint32(req[8:], c.seq)
	req[nlmsgHeader] = fam
	if err := unix.Sendto(c.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("rtnetlink %s: sending the request: %w", d.req, err)
	}
	for {
		b, err := c.recv(d.req)
		if err != nil {
			return err
		}
		done, err := d.datagram(b, typ-2) // RTM_GETx is answered with RTM_NEWx, two below
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// recv waits for one datagram from the kernel, honouring the context.
func (c *rtConn) recv(req string) ([]byte, error) {
	for {
		if err := c.ctx.Err(); err != nil {
			return nil, fmt.Errorf("rtnetlink %s: %w", req, err)
		}
		wait := rtPollSlice
		if dl, ok := c.ctx.Deadline(); ok {
			if left := time.Until(dl); left < wait {
				wait = left
			}
		}
		if wait <= 0 {
			return nil, fmt.Errorf("rtnetlink %s: %w", req, context.DeadlineExceeded)
		}
		ms := max(int(wait/time.Millisecond), 1)
		pfd := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("rtnetlink %s: poll: %w", req, err)
		}
		if n == 0 {
			continue
		}
		m, from, err := unix.Recvfrom(c.fd, c.buf, unix.MSG_TRUNC|unix.MSG_DONTWAIT)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("rtnetlink %s: receiving: %w", req, err)
		}
		if sa, ok := from.(*unix.SockaddrNetlink); !ok || sa.Pid != 0 {
			continue // not from the kernel
		}
		if m > len(c.buf) {
			return nil, fmt.Errorf("rtnetlink %s: a datagram of %d bytes, more than the %d-byte buffer", req, m, len(c.buf))
		}
		return c.buf[:m], nil
	}
}
