package neterr

import (
	"errors"
	"syscall"
)

// isHostIsolated: ENONET ("machine is not on the network") exists on Linux
// only.
func isHostIsolated(err error) bool { return errors.Is(err, syscall.ENONET) }
