//go:build !linux

package unixsock

import "errors"

func dumpListeners() ([]Listener, error) { return nil, errors.New("sock_diag is Linux only") }

func kernelDev(d uint64) uint64 { return d }
