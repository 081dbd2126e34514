package auth

import (
	"context"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/deploy"
	"github.com/sensu-community/sensu-redis-security-checks/checks/plugin"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisport"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Name is the binary's name.
const Name = "redis-auth-check"

// Options are the check's settings.
type Options struct {
	Conn     redisconn.Options
	Admins   []string
	Discover deploy.Options
}

// New returns the check. The runner's environment supplies
// $REDIS_PASSWORD: the password never comes from a flag.
func New() plugin.Check {
	o := &Options{}
	opts := append(o.Conn.ConfigOptions(redisport.Data.Int()),
		&plugin.SliceOption[string]{Path: "admin-user", Argument: "admin-user", Value: &o.Admins,
			Default: []string{"default"}, UseCobraStringArray: true,
			Usage: "ACL user allowed to hold dangerous commands (repeatable; replaces the default)"},
		o.Conn.SocketOption())
	opts = append(opts, o.Discover.ConfigOptions()...)
	return plugin.Check{
		Name:  Name,
		Short: "Prove that a Redis or Sentinel server refuses clients without credentials, and audit its ACL users",
		Long: "Connects without credentials (PING, then DBSIZE; when the default user's rules refuse DBSIZE, other\n" +
			"harmless reads and ACL DRYRUN): OK only when refused with NOAUTH; WARNING when only protected mode\n" +
			"refuses; CRITICAL when the default user serves without a password. With $REDIS_PASSWORD\n" +
			"(and $REDIS_USERNAME) of an admin-capable user it also reads ACL LIST: CRITICAL for any enabled user\n" +
			"without a password, WARNING for dangerous commands granted to users other than --admin-user;\n" +
			"and CONFIG GET of enable-debug-command, enable-module-command and enable-protected-configs\n" +
			"(7.0+): WARNING for yes (DEBUG, MODULE LOAD, CONFIG SET dir open to remote clients), OK for no\n" +
			"or local. Without them an OK says the other ACL users and these settings were not audited: a user\n" +
			"set nopass logs in with any password, and only ACL LIST shows it.",
		Options:        opts,
		DefaultTimeout: 10 * time.Second,
		Validate:       o.Validate,
		Event:          func(ev *plugin.Event) { o.Discover.CheckName = ev.CheckName() },
		Run: func(ctx context.Context) result.Result {
			if o.Discover.Enabled {
				return RunDeployment(ctx, *o)
			}
			return Judge(*o, Gather(ctx, o))
		},
	}
}

// Validate checks the options; getenv supplies $REDIS_PASSWORD.
func (o *Options) Validate(getenv func(string) string) error {
	if err := o.Conn.Validate(getenv); err != nil {
		return plugin.BadInput(err)
	}
	if err := o.validateDiscover(); err != nil {
		return plugin.BadInput(err)
	}
	if o.Conn.Username != "" && o.Conn.Password == "" {
		return plugin.BadInput(errUsernameWithoutPassword)
	}
	for _, a := range o.Admins {
		if a == "" {
			return plugin.BadInput(errEmptyAdmin)
		}
	}
	return nil
}
