//go:build !unix

package exposure

// nofileLimit is unknown where there is no RLIMIT_NOFILE; the concurrency
// cap alone applies.
func nofileLimit() uint64 { return 0 }
