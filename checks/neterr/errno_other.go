//go:build !linux

package neterr

func isHostIsolated(error) bool { return false }
