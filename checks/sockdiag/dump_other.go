//go:build !linux

package sockdiag

import "errors"

// Conn is a NETLINK_SOCK_DIAG socket; there is none outside Linux.
type Conn struct{}

// Open fails: sock_diag is Linux only.
func Open() (*Conn, error) { return nil, errors.New("sock_diag is Linux only") }

// Close does nothing.
func (c *Conn) Close() error { return nil }

// Dump fails: sock_diag is Linux only.
func (c *Conn) Dump(msg []byte, seq uint32, maxBytes int, each func(body []byte) error) error {
	return errors.New("sock_diag is Linux only")
}
