package sockets

import (
	"errors"

	"github.com/sensu-community/sensu-redis-security-checks/checks/sockdiag"
	"golang.org/x/sys/unix"
)

// maxDiagBytes caps one dump, like MaxTableSize caps a /proc table: a
// listener costs about 100 bytes of netlink message.
const maxDiagBytes = MaxTableSize / 2

// dumpListeners asks the kernel for the listening TCP sockets of the
// caller's network namespace, IPv4 then IPv6.
func dumpListeners() ([]Listener, error) {
	c, err := sockdiag.Open()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var all []Listener
	for i, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		seq := uint32(i + 1)
		err := c.Dump(diagRequest(family, seq), seq, maxDiagBytes, func(body []byte) error {
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
			return nil, err // also a kernel without IPv6: the tables say so
		}
	}
	return all, nil
}
