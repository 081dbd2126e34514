package auth

import (
	"context"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/deploy"
	"github.com/sensu-community/sensu-redis-security-checks/checks/plugin"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Name is the binary's name.
const Name = "redis-auth-check"

// Config is the check's options.
type Config struct {
	Conn     redisconn.Options
	Admins   []string
	Discover deploy.Options
}

// New returns the check. The runner's environment supplies
// $REDIS_PASSWORD: the password never comes from a flag.
func New() plugin.Check {
	var c Config
	opts := append(c.Conn.ConfigOptions(6379),
		&plugin.SliceOption[string]{Path: "admin-user", Argument: "admin-user", Value: &c.Admins,
			Default: []string{"default"}, UseCobraStringArray: true,
			Usage: "ACL user allowed to hold dangerous commands (repeatable; replaces the default)"},
		c.Conn.SocketOption())
	opts = append(opts, c.Discover.ConfigOptions()...)
	return plugin.Check{
		Name:  Name,
		Short: "Prove that a Redis or Sentinel server refuses clients without credentials, and audit its ACL users",
		Long: "Connects without credentials (PING, then DBSIZE; when the default user's rules refuse DBSIZE, other\n" +
			"harmless reads and ACL DRYRUN): OK only when refused with NOAUTH; WARNING when only protected mode\n" +
			"refuses; CRITICAL when the default user serves without a password. With $REDIS_PASSWORD\n" +
			"(and $REDIS_USERNAME) of an admin-capable user it also reads ACL LIST: CRITICAL for any enabled user\n" +
			"without a password, WARNING for dangerous commands granted to users other than --admin-user.",
		Options:        opts,
		DefaultTimeout: 10 * time.Second,
		Validate:       c.validate,
		Event:          func(ev *plugin.Event) { c.Discover.CheckName = ev.CheckName() },
		Run: func(ctx context.Context) result.Result {
			if c.Discover.Enabled {
				return RunDeployment(ctx, c)
			}
			return Run(ctx, c)
		},
	}
}

func (c *Config) validate(getenv func(string) string) error {
	if err := c.Conn.Validate(getenv); err != nil {
		return plugin.BadInput(err)
	}
	if err := c.validateDiscover(); err != nil {
		return plugin.BadInput(err)
	}
	if c.Conn.Username != "" && c.Conn.Password == "" {
		return plugin.BadInput(errUsernameWithoutPassword)
	}
	for _, a := range c.Admins {
		if a == "" {
			return plugin.BadInput(errEmptyAdmin)
		}
	}
	return nil
}

// Run probes without credentials and, when credentials are configured,
// audits the ACL users.
func Run(ctx context.Context, c Config) result.Result {
	anon := c.Conn
	anon.Username, anon.Password = "", ""
	f := Facts{Target: c.Conn.Addr(), Admins: c.Admins, Credentials: c.Conn.Password != ""}
	f.Probe = probe(ctx, anon)
	// Protected mode closes every non-local connection, logged in or not:
	// an audit would only race the server's close.
	if f.Credentials && f.Probe.Err == nil && f.Probe.Ping.Class.IsRedis() && f.Probe.Ping.Class != resp.Denied {
		a := audit(ctx, c.Conn)
		f.Audit = &a
	}
	return Judge(f)
}
