package auth

import (
	"context"
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
)

// Audit is what an authenticated, admin-capable client read from the
// server. Only facts; judge.go draws the conclusions.
type Audit struct {
	// As is the user the audit logged in as.
	As string
	// Err is a failure to connect or log in; Code is the server's error
	// code when it refused the credentials (WRONGPASS, DENIED…).
	Err  error
	Code string
	// Broken is the first command the server broke off (see
	// redisconn.Broken) among those whose refusal is otherwise tolerated
	// (INFO, ACL CAT); BrokenAt names it.
	Broken   error
	BrokenAt string
	// From INFO server when the user may run it, else from HELLO (6.0+,
	// which every logged-in user may run).
	Version string
	Server  string // "valkey" when the server says so, else Redis
	Mode    string // standalone, cluster, sentinel
	// VersionConflict is the version INFO claimed when HELLO, which
	// exists since 6.0, answered with another: Version then holds HELLO's.
	VersionConflict string
	// InfoWhy and HelloWhy say why INFO server or HELLO gave no version
	// ("NOPERM", "unknown command"…); empty when they answered.
	InfoWhy, HelloWhy string
	// NoACL: ACL LIST is an unknown command and the version proves the
	// server older than 6.0, which has no ACLs: requirepass is its only
	// credential (Sentinel: older than 6.2). A server of unknown or later
	// version with ACL renamed away is not this: its users may still log in.
	NoACL bool
	// ACLErr and ACLCode: ACL LIST failed (NOPERM for a user that may not
	// list users). ACLMissing: it failed as an unknown command (renamed or
	// disabled, or a server without ACLs).
	ACLErr     error
	ACLCode    string
	ACLMissing bool
	Users      []User
	// Categories holds the members of every category the rules name, and
	// of @dangerous, as far as ACL CAT answered; CatWhy holds, per category
	// ACL CAT did not answer for, the reason (the error code).
	Categories Categories
	CatWhy     map[string]string
	// Settings are guardSettings as CONFIG GET answered, in their order;
	// nil on a Sentinel, which has neither CONFIG nor DEBUG nor MODULE.
	Settings []Setting
}

// errInfoWithoutVersion: INFO server answered without redis_version.
var errInfoWithoutVersion = errors.New("the reply has no redis_version, which every Redis and Valkey reports")

// maxCategories bounds the ACL CAT calls; Redis 7.x has 21 categories.
const maxCategories = 32

// audit logs in with the configured credentials and reads the ACL users.
func audit(ctx context.Context, opts redisconn.Options) Audit {
	a := Audit{As: opts.Username}
	if a.As == "" {
		a.As = "default"
	}
	c := opts.Client(ctx)
	defer c.Close()
	// The first command dials and sends AUTH: a refusal shows here.
	// NOPERM means the login worked and PING is just not granted.
	if err := c.Ping(ctx).Err(); err != nil && redisconn.ErrorCode(err) != "NOPERM" {
		a.Err, a.Code = err, redisconn.ErrorCode(err)
		return a
	}
	if info, err := c.Info(ctx, "server").Result(); err == nil {
		a.Version = infoField(info, "redis_version")
		a.Mode = infoMode(info)
		a.Server = infoField(info, "server_name")
		if v := infoField(info, "valkey_version"); v != "" {
			a.Version = v
		}
		if a.Version == "" {
			// Every Redis and Valkey reports redis_version: a reply
			// without it is no real server's, and the rest of what this
			// server says is not to be trusted either.
			a.Broken, a.BrokenAt = errInfoWithoutVersion, "INFO server"
			return a
		}
	} else if redisconn.Broken(err) {
		a.Broken, a.BrokenAt = err, "INFO server"
		return a
	} else {
		a.InfoWhy = why(err)
	}
	if a.Version == "" {
		a.Version, a.HelloWhy = hello(ctx, c, &a.Mode, &a.Server)
	}
	if a.Mode != "sentinel" {
		if a.Settings, a.BrokenAt, a.Broken = readSettings(ctx, c); a.Broken != nil {
			return a
		}
	}
	lines, err := c.Do(ctx, "ACL", "LIST").StringSlice()
	if err != nil {
		a.ACLErr, a.ACLCode = err, redisconn.ErrorCode(err)
		a.ACLMissing = redisconn.IsUnknownCommand(err)
		// Only a version read from the server and older than 6.0 proves
		// that there are no ACL users; a renamed ACL command on 6.0+
		// answers exactly like a missing one.
		if v, ok := parseVersion(a.Version); a.ACLMissing && ok && !v.HasACL(a.Mode == "sentinel") {
			// The version must fit: HELLO (6.0+) answering contradicts a
			// version before 6.0 (a Sentinel 6.0 has HELLO but no ACL).
			var mode, server, hv string
			if v.Major < 6 {
				hv, _ = hello(ctx, c, &mode, &server)
			}
			if hv != "" {
				a.VersionConflict = a.Version
				a.Version = hv
			} else {
				a.NoACL = true
			}
		}
		return a
	}
	users, err := ParseACLList(strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		a.ACLErr = err
		return a
	}
	a.Users = users
	lists := map[string][]string{}
	a.CatWhy = map[string]string{}
	for i, cat := range append([]string{"dangerous"}, CategoriesNamed(users)...) {
		if i >= maxCategories {
			break // the rest stay unknown, which judges conservatively
		}
		if _, done := lists[cat]; done {
			continue
		}
		members, err := c.Do(ctx, "ACL", "CAT", cat).StringSlice()
		if redisconn.Broken(err) {
			a.Broken, a.BrokenAt = err, "ACL CAT "+cat
			return a
		}
		if err != nil {
			a.CatWhy[cat] = why(err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		lists[cat] = members
	}
	a.Categories = NewCategories(lists)
	return a
}

// hello asks HELLO 2 (no credentials: the connection is logged in already)
// for the server's version and mode. HELLO exists since 6.0 and is not
// subject to ACL rules, so it answers where INFO is renamed or not granted.
func hello(ctx context.Context, c *redis.Client, mode, server *string) (version, whyNot string) {
	reply, err := c.Do(ctx, "HELLO", "2").Slice()
	if err != nil {
		return "", why(err)
	}
	for i := 0; i+1 < len(reply) && i < 64; i += 2 {
		k, _ := reply[i].(string)
		v, _ := reply[i+1].(string)
		switch k {
		case "version":
			version = v
		case "mode":
			if *mode == "" {
				*mode = v
			}
		case "server":
			*server = v
		}
	}
	if _, ok := parseVersion(version); !ok {
		return "", "no version in its reply"
	}
	return version, ""
}

// why says in a word or two why a command failed: the error code, or that
// the command is unknown (renamed or disabled).
func why(err error) string {
	if redisconn.IsUnknownCommand(err) {
		return "unknown command"
	}
	if code := redisconn.ErrorCode(err); code != "" {
		return code
	}
	return describeErr(err)
}

// product names the server for messages: "Valkey 8.0.1", "Redis 7.0.15".
func (a Audit) product() string {
	name := "Redis"
	if strings.EqualFold(a.Server, "valkey") {
		name = "Valkey"
	}
	return name + " " + a.Version
}
