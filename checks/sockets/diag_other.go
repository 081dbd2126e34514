//go:build !linux

package sockets

import "errors"

func dumpListeners() ([]Listener, error) {
	return nil, errors.New("sock_diag is Linux only")
}
