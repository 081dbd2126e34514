//go:build unix

package exposure

import "syscall"

// nofileLimit is the soft RLIMIT_NOFILE (the Go runtime raises it to the
// hard limit at start-up); 0 when unknown.
func nofileLimit() uint64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	return uint64(r.Cur)
}
