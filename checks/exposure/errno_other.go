//go:build !linux

package exposure

func isHostIsolated(error) bool { return false }
