package ipset

import (
	"context"
	endian "encoding/binary"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// recvBuffer holds any dump datagram (the kernel fills one up to 32 KiB);
// a larger one is reported (MSG_TRUNC), not read cut.
const recvBuffer = 64 << 10

// pollSlice bounds each wait, so a cancelled context without a deadline
// is noticed.
const pollSlice = 200 * time.Millisecond

// Read lists the sets of the calling thread's network namespace over
// netlink (IPSET_CMD_SAVE), into the Dump Parse gives for `ipset save`.
// A set of a type or with an extension the decoder does not write as
// ipset save would is ErrNotDecoded.
func Read(ctx context.Context, lim Limits) (*Dump, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return nil, fmt.Errorf("opening a netfilter netlink socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("binding the netfilter netlink socket: %w", err)
	}
	d := newNLDecoder(lim)
	d.seq = 1
	// nlmsghdr, nfgenmsg (family AF_INET, as ipset sends it), then
	// IPSET_ATTR_PROTOCOL.
	req := make([]byte, nlmsgHeader+nfgenHeader+8)
	endian.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	endian.NativeEndian.PutUint16(req[4:], subsysIPSet<<8|cmdSave)
	endian.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	endian.NativeEndian.PutUint32(req[8:], d.seq)
	req[nlmsgHeader] = unix.AF_INET
	a := req[nlmsgHeader+nfgenHeader:]
	endian.NativeEndian.PutUint16(a[0:], 5)
	endian.NativeEndian.PutUint16(a[2:], attrProtocol)
	a[4] = protocol
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("ipset netlink: sending the request: %w", err)
	}
	buf := make([]byte, recvBuffer)
	for {
		b, err := recv(ctx, fd, buf)
		if err != nil {
			return nil, err
		}
		done, err := d.datagram(b)
		if err != nil {
			return nil, err
		}
		if done {
			return d.d, nil
		}
	}
}

// recv waits for one datagram from the kernel, honouring the context.
func recv(ctx context.Context, fd int, buf []byte) ([]byte, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("ipset netlink: %w", err)
		}
		wait := pollSlice
		if dl, ok := ctx.Deadline(); ok {
			if left := time.Until(dl); left < wait {
				wait = left
			}
		}
		if wait <= 0 {
			return nil, fmt.Errorf("ipset netlink: %w", context.DeadlineExceeded)
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, max(int(wait/time.Millisecond), 1))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ipset netlink: poll: %w", err)
		}
		if n == 0 {
			continue
		}
		m, from, err := unix.Recvfrom(fd, buf, unix.MSG_TRUNC|unix.MSG_DONTWAIT)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ipset netlink: receiving: %w", err)
		}
		if sa, ok := from.(*unix.SockaddrNetlink); !ok || sa.Pid != 0 {
			continue // not from the kernel
		}
		if m > len(buf) {
			return nil, fmt.Errorf("ipset netlink: a datagram of %d bytes, more than the %d-byte buffer", m, len(buf))
		}
		return buf[:m], nil
	}
}
