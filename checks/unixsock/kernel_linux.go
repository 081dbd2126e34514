package unixsock

import (
	"errors"

	"github.com/sensu-community/sensu-redis-security-checks/checks/sockdiag"
	"golang.org/x/sys/unix"
)

// dumpListeners asks the kernel for the listening AF_UNIX sockets of the
// caller's network namespace.
func dumpListeners() ([]Listener, error) {
	c, err := sockdiag.Open()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	const seq = 1
	var all []Listener
	err = c.Dump(diagRequest(seq), seq, MaxTableSize, func(body []byte) error {
		l, ok, err := parseDiagMsg(body)
		if ok {
			all = append(all, l)
		}
		return err
	})
	if errors.Is(err, sockdiag.ErrTooLarge) {
		return nil, ErrTooLarge
	}
	if err != nil {
		return nil, err
	}
	return all, nil
}

// kernelDev converts the kernel-internal device number sock_diag reports
// into the one stat returns.
func kernelDev(d uint64) uint64 { return unix.Mkdev(uint32(d>>20), uint32(d&0xfffff)) }
