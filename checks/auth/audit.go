package auth

import (
	"context"
	"strings"

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
	// From INFO server, when the user may run it.
	Version string
	Mode    string // standalone, cluster, sentinel
	// NoACL: the server has no ACL command (older than 6.0): requirepass is
	// its only credential.
	NoACL bool
	// ACLErr and ACLCode: ACL LIST failed (NOPERM for a user that may not
	// list users).
	ACLErr  error
	ACLCode string
	Users   []User
	// Categories holds the members of every category the rules name, and
	// of @dangerous, as far as ACL CAT answered.
	Categories Categories
}

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
		a.Mode = infoField(info, "redis_mode")
	} else if redisconn.Broken(err) {
		a.Broken, a.BrokenAt = err, "INFO server"
		return a
	}
	lines, err := c.Do(ctx, "ACL", "LIST").StringSlice()
	if err != nil {
		v, ok := parseVersion(a.Version)
		if redisconn.IsUnknownCommand(err) && (!ok || !v.HasACL()) {
			a.NoACL = true
			return a
		}
		a.ACLErr, a.ACLCode = err, redisconn.ErrorCode(err)
		return a
	}
	users, err := ParseACLList(strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		a.ACLErr = err
		return a
	}
	a.Users = users
	lists := map[string][]string{}
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
