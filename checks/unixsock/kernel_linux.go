package unixsock

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// dumpListeners asks the kernel for the listening AF_UNIX sockets of the
// caller's network namespace.
func dumpListeners() ([]Listener, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval((2 * time.Second).Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, os.NewSyscallError("setsockopt", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, os.NewSyscallError("bind", err)
	}
	const seq = 1
	if err := unix.Sendto(fd, diagRequest(seq), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, os.NewSyscallError("sendto", err)
	}
	var all []Listener
	buf := make([]byte, 64<<10)
	total := 0
	for {
		n, _, flags, _, err := unix.Recvmsg(fd, buf, nil, 0)
		if err != nil {
			return nil, os.NewSyscallError("recvmsg", err)
		}
		if flags&unix.MSG_TRUNC != 0 {
			return nil, ErrDiagMessage
		}
		if total += n; total > MaxTableSize {
			return nil, ErrTooLarge
		}
		ls, done, err := parseDiag(buf[:n], seq)
		if err != nil {
			return nil, err
		}
		all = append(all, ls...)
		if done {
			return all, nil
		}
	}
}

// kernelDev converts the kernel-internal device number sock_diag reports
// into the one stat returns.
func kernelDev(d uint64) uint64 { return unix.Mkdev(uint32(d>>20), uint32(d&0xfffff)) }
