package sockets

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// maxDiagBytes caps one dump, like MaxTableSize caps a /proc table: a
// listener costs about 100 bytes of netlink message.
const maxDiagBytes = MaxTableSize / 2

// dumpListeners asks the kernel for the listening TCP sockets of the
// caller's network namespace, IPv4 then IPv6.
func dumpListeners() ([]Listener, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	// The kernel answers at once; the timeout only bounds a broken kernel.
	tv := unix.NsecToTimeval((2 * time.Second).Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, os.NewSyscallError("setsockopt", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, os.NewSyscallError("bind", err)
	}
	var all []Listener
	buf := make([]byte, 64<<10) // the kernel sends at most 32 KiB per datagram
	for i, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		seq := uint32(i + 1)
		if err := unix.Sendto(fd, diagRequest(family, seq), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return nil, os.NewSyscallError("sendto", err)
		}
		total := 0
		for {
			n, _, flags, _, err := unix.Recvmsg(fd, buf, nil, 0)
			if err != nil {
				return nil, os.NewSyscallError("recvmsg", err)
			}
			if flags&unix.MSG_TRUNC != 0 {
				return nil, ErrDiagMessage
			}
			if total += n; total > maxDiagBytes {
				return nil, ErrTooLarge
			}
			ls, done, err := parseDiag(buf[:n], seq)
			if err != nil {
				return nil, err // also a kernel without IPv6: the tables say so
			}
			all = append(all, ls...)
			if done {
				break
			}
		}
	}
	return all, nil
}
