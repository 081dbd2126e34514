// Package unixsock is redis-socket-check: who on this host can connect to
// Redis through its UNIX socket. It finds every socket a Redis or Valkey
// server listens on from the kernel (sock_diag or /proc/net/unix, matched
// to the server's descriptors), follows each path as the kernel does
// (symlinks, directory search permission, POSIX ACLs) and turns the
// permissions into the users and groups that can connect.
package unixsock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/plugin"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Name is the binary's name.
const Name = "redis-socket-check"

// Options are the check's settings.
type Options struct {
	ConfigFile  string
	AllowUsers  []string
	AllowGroups []string
	ProcRoot    string
	PasswdFile  string
	GroupFile   string
	Username    string
	PID         int

	password  string
	allowUIDs []uint32
	allowGIDs []uint32
}

// New returns the check, ready for plugin.Main.
func New() plugin.Check {
	o := &Options{}
	opts := []plugin.ConfigOption{
		&plugin.Option[string]{Path: "config-file", Argument: "config-file", Shorthand: "c", Value: &o.ConfigFile,
			Usage: "redis.conf `FILE` to compare: a unixsocket it declares that no server listens on is reported"},
		&plugin.SliceOption[string]{Path: "socket-allow-user", Argument: "socket-allow-user", Value: &o.AllowUsers, UseCobraStringArray: true,
			Usage: "user (name or uid) allowed to connect besides the user each server runs as (repeatable)"},
		&plugin.SliceOption[string]{Path: "socket-allow-group", Argument: "socket-allow-group", Value: &o.AllowGroups, UseCobraStringArray: true,
			Usage: "group (name or gid) whose members may connect (repeatable; default, when neither this nor --socket-allow-user is given: the group each server runs as)"},
		&plugin.Option[string]{Path: "username", Argument: "username", Env: redisconn.UsernameEnv, Value: &o.Username,
			Usage: "ACL user for CONFIG GET over the socket [$" + redisconn.UsernameEnv + "]; the password is read from $" + redisconn.PasswordEnv + " only"},
		&plugin.Option[int]{Path: "pid", Argument: "pid", Value: &o.PID,
			Usage: "judge only this server process (default: every redis-server and valkey-server of the host)"},
		&plugin.Option[string]{Path: "proc-root", Argument: "proc-root", Default: "/proc", Value: &o.ProcRoot,
			Usage: "where to find processes, their descriptors and, unless it is /proc (then the kernel is asked through sock_diag), the socket tables"},
		&plugin.Option[string]{Path: "passwd-file", Argument: "passwd-file", Default: "/etc/passwd", Value: &o.PasswdFile,
			Usage: "user database `FILE` for names and primary groups"},
		&plugin.Option[string]{Path: "group-file", Argument: "group-file", Default: "/etc/group", Value: &o.GroupFile,
			Usage: "group database `FILE` for group members"},
	}
	return plugin.Check{
		Name:  Name,
		Short: "Verify that only the allowed users can connect to Redis's UNIX sockets",
		Long: `Finds every UNIX socket a Redis or Valkey server on this host listens on (the kernel's socket
table matched to the server's descriptors: the truth, whatever the config says), follows its path
as the kernel does (symlinks, search permission on each directory, POSIX ACLs) and computes who can
connect: the socket's owner and group, group members from the group database, everyone else.
Anyone outside --socket-allow-user/--socket-allow-group (default: the server's own user and group)
who can connect is CRITICAL when the server answers PING without a password, WARNING when it
needs one; anyone outside them who can write the socket's directory or any directory above it
(without the sticky bit, or owning the entry there) or owns one can put another socket in its
place (renaming the directory holding it, if need be), and receive the clients: WARNING. Root and
holders of CAP_DAC_OVERRIDE can always connect. Reading the server's
descriptors needs root or the server's user; the password is read from $REDIS_PASSWORD only.`,
		Options:        opts,
		DefaultTimeout: 10 * time.Second,
		Validate:       o.Validate,
		Run:            func(ctx context.Context) result.Result { return Judge(*o, Gather(ctx, o)) },
	}
}

// Validate checks and normalises the options and resolves the allowed
// users and groups.
func (o *Options) Validate(getenv func(string) string) error {
	if o.ConfigFile != "" {
		if _, err := os.Stat(o.ConfigFile); err != nil {
			return fmt.Errorf("--config-file %s: %w", o.ConfigFile, errors.Unwrap(err))
		}
	}
	if o.PID < 0 {
		return fmt.Errorf("--pid %d is not a process id", o.PID)
	}
	if getenv != nil {
		o.password = getenv(redisconn.PasswordEnv)
	}
	if len(o.AllowUsers) == 0 && len(o.AllowGroups) == 0 {
		return nil
	}
	db, err := readDB(o.PasswdFile, o.GroupFile)
	if err != nil {
		return fmt.Errorf("names in --socket-allow-user/--socket-allow-group need the user database: %v", err)
	}
	for _, u := range o.AllowUsers {
		id, ok := db.LookupUser(u)
		if !ok {
			return fmt.Errorf("--socket-allow-user %q: no such user in %s", u, o.PasswdFile)
		}
		o.allowUIDs = append(o.allowUIDs, id)
	}
	for _, g := range o.AllowGroups {
		id, ok := db.LookupGroup(g)
		if !ok {
			return fmt.Errorf("--socket-allow-group %q: no such group in %s", g, o.GroupFile)
		}
		o.allowGIDs = append(o.allowGIDs, id)
	}
	return nil
}
