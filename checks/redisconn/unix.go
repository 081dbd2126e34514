package redisconn

import (
	"errors"
	"fmt"
	"os"

	"github.com/sensu-community/sensu-redis-security-checks/checks/plugin"
)

// SocketOption is --socket, redis-cli's -s: connect to a UNIX socket
// instead of --host and --port. Only the checks that can speak over a
// socket offer it (Redis serves no TLS there).
func (o *Options) SocketOption() plugin.ConfigOption {
	return &plugin.Option[string]{Path: "socket", Argument: "socket", Shorthand: "s", Env: "REDIS_SOCKET",
		Value: &o.Socket, Usage: "UNIX socket to connect to instead of --host and --port [$REDIS_SOCKET]"}
}

// validateSocket refuses what a UNIX socket cannot carry.
func (o *Options) validateSocket() error {
	if o.Socket == "" {
		return nil
	}
	if o.TLS || o.CACert != "" || o.Cert != "" {
		return errors.New("--socket and TLS do not go together: Redis serves no TLS on its UNIX socket")
	}
	if len(o.Socket) > 107 {
		return fmt.Errorf("--socket %q is longer than a UNIX socket path may be (107 bytes)", o.Socket)
	}
	if _, err := os.Lstat(o.Socket); err != nil && !errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("--socket %s: %w", o.Socket, errors.Unwrap(err))
	}
	return nil
}

// endpoint is where the dialer goes: the socket when one is given.
func (o *Options) endpoint(network, addr string) (string, string) {
	if o.Socket != "" {
		return "unix", o.Socket
	}
	return network, addr
}
