// Package bind is redis-bind-check: no Redis listener may be bound to a
// wildcard address. It reads three sources — the running server, its
// configuration file (with includes and command-line overrides) and the
// kernel's socket table — and treats the sockets as the truth.
package bind

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/cidr"
	"github.com/sensu-community/sensu-redis-security-checks/checks/plugin"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisport"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Name is the binary's name.
const Name = "redis-bind-check"

// Options are the check's settings.
type Options struct {
	Conn       redisconn.Options
	ConfigFile string
	Allow      []string
	ProcRoot   string

	allow []netip.Prefix
}

// New returns the check, ready for plugin.Main.
func New() plugin.Check {
	o := &Options{}
	opts := o.Conn.ConfigOptions(redisport.Data.Int())
	opts = append(opts,
		&plugin.Option[string]{Path: "config-file", Argument: "config-file", Shorthand: "c", Value: &o.ConfigFile,
			Usage: "redis.conf or sentinel.conf `FILE` to read (default: the file the server reports, when it runs on this host)"},
		&plugin.SliceOption[string]{Path: "allow", Argument: "allow", Value: &o.Allow, UseCobraStringArray: true,
			Usage: "address or CIDR Redis may bind besides loopback (repeatable); without it any single host address is accepted"},
		&plugin.Option[string]{Path: "proc-root", Argument: "proc-root", Default: "/proc", Value: &o.ProcRoot,
			Usage: "where to read process command lines and, unless it is /proc (then the kernel is asked through sock_diag), the socket tables"},
		o.Conn.SocketOption(),
	)
	return plugin.Check{
		Name:  Name,
		Short: "Verify that no Redis listener is bound to a wildcard address",
		Long: `Verifies that no Redis listener (data port, TLS port, cluster bus, Sentinel) is bound to a
wildcard address. Reads the running server (CONFIG GET of the bind keys and INFO server; never
CONFIG GET * or requirepass), its configuration file with includes and command-line overrides,
and the kernel's listening sockets, which are the truth. A configuration the kernel contradicts
is CRITICAL. The password, when the server needs one, is read from $REDIS_PASSWORD only.`,
		Options:        opts,
		DefaultTimeout: 10 * time.Second,
		Validate:       o.Validate,
		Run:            func(ctx context.Context) result.Result { return Judge(*o, Gather(ctx, o)) },
	}
}

// Validate checks and normalises the options.
func (o *Options) Validate(getenv func(string) string) error {
	if err := o.Conn.Validate(getenv); err != nil {
		return err
	}
	allow, err := cidr.ParseList("--allow", o.Allow)
	if err != nil {
		return err
	}
	o.allow = allow
	if o.ConfigFile != "" {
		if _, err := os.Stat(o.ConfigFile); err != nil {
			return fmt.Errorf("--config-file %s: %v", o.ConfigFile, err)
		}
	}
	return nil
}
