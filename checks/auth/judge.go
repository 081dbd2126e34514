package auth

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Facts is everything one run learned.
type Facts struct {
	Target string // host:port as dialled
	Probe  Probe
	// Credentials: an audit was asked for. Audit is nil when it did not
	// run (no credentials, or the probe showed it could not).
	Credentials bool
	Audit       *Audit
	Admins      []string
}

// Judge turns the facts into the check's result. It is the only place that
// decides states.
func Judge(f Facts) result.Result {
	var r result.Result
	okText := judgeProbe(&r, f.Target, f.Probe)
	if f.Credentials && f.Audit == nil && f.Probe.Err == nil && f.Probe.Ping.Class == resp.Denied {
		r.Add(result.Unknown, "%s", auditDenied)
	}
	if f.Audit != nil {
		if t := judgeAudit(&r, *f.Audit, f.Admins); t != "" && okText != "" {
			okText += "; " + t
		}
	}
	if r.Worst() == result.OK && okText != "" {
		r.Summary = okText
	}
	r.Finalize()
	return r
}

// judgeProbe judges the unauthenticated exchange and returns the summary
// text for an all-OK result.
func judgeProbe(r *result.Result, target string, p Probe) string {
	if p.Err != nil {
		r.Add(result.Unknown, "%s: could not probe without credentials: %s", target, describeErr(p.Err))
		return ""
	}
	read := p.Read
	served := read != nil && read.Served
	switch p.Ping.Class {
	case resp.NotRedis:
		r.Add(result.Unknown, "%s: not a Redis server: PING got %q", target, shorten(p.Ping.Line))
	case resp.OtherError:
		r.Add(result.Unknown, "%s: PING without credentials got an error reply, cannot tell whether it needs a password: %s",
			target, shorten(p.Ping.Line))
	case resp.Denied:
		r.Add(result.Warning, "%s: clients without credentials are refused only by protected mode (DENIED): "+
			"the default user has no password, local clients get in, and so does everyone once protected mode is off "+
			"(on Redis 6.x, also once any bind line is set)", target)
	case resp.NoAuth:
		if served {
			r.Add(result.Critical, "%s: PING was refused (NOAUTH) but %s was served without credentials", target, read.Command)
			return ""
		}
		if read != nil && redisconn.Broken(read.Err) {
			r.Add(result.Unknown, "%s: PING was refused (NOAUTH) but %s broke off: %s", target, read.Command, describeErr(read.Err))
			return ""
		}
		t := fmt.Sprintf("%s: clients without credentials are refused (NOAUTH: a password is required)", target)
		r.Add(result.OK, "%s", t)
		return t
	case resp.Pong, resp.NoPerm:
		answered := "PING answered"
		if p.Ping.Class == resp.NoPerm {
			answered = "PING refused by ACL rules (NOPERM)"
		}
		switch {
		case served && read.Sentinel:
			r.Add(result.Critical, "%s: Sentinel serves clients without credentials (%s, %s served): anyone can reconfigure its masters or force a failover",
				target, answered, read.Command)
		case served:
			r.Add(result.Critical, "%s: the default user is usable without a password (%s, %s served without credentials)",
				target, answered, read.Command)
		case read != nil && read.Code == "NOPERM":
			r.Add(result.Warning, "%s: clients without credentials are logged in as the default user, which has no password; "+
				"%s, %s refused by its ACL rules (NOPERM); other commands not verified: give admin credentials to audit its rules",
				target, answered, read.Command)
		case p.Ping.Class == resp.Pong:
			r.Add(result.Critical, "%s: the default user is usable without a password (PING answered without credentials; %s: %s)",
				target, read.Command, describeRead(read))
		default:
			r.Add(result.Warning, "%s: clients without credentials are logged in as the default user, which has no password; "+
				"PING refused by ACL rules (NOPERM); %s: %s", target, read.Command, describeRead(read))
		}
	}
	return ""
}

func describeRead(a *ReadAttempt) string {
	switch {
	case a == nil:
		return "not tried"
	case a.Code != "":
		return a.Code
	case a.Err != nil:
		return describeErr(a.Err)
	}
	return "no answer"
}

const auditDenied = "ACL audit not possible from here: protected mode refuses every non-local client, even one with credentials"

// judgeAudit judges what the authenticated client read and returns the
// summary text for an all-OK result.
func judgeAudit(r *result.Result, a Audit, admins []string) string {
	switch {
	case a.Code == "DENIED":
		r.Add(result.Unknown, "%s", auditDenied)
		return ""
	case a.Code == "WRONGPASS":
		r.Add(result.Unknown, "ACL audit: the server refused the credentials of user %q (WRONGPASS)", a.As)
		return ""
	case a.Code != "":
		r.Add(result.Unknown, "ACL audit: login as %q failed (%s)", a.As, a.Code)
		return ""
	case a.Err != nil:
		r.Add(result.Unknown, "ACL audit: login as %q failed: %s", a.As, describeErr(a.Err))
		return ""
	case a.Broken != nil:
		r.Add(result.Unknown, "ACL audit: the server broke off %s: %s", a.BrokenAt, describeErr(a.Broken))
		return ""
	case a.NoACL:
		v := a.Version
		if v == "" {
			v = "this server"
		}
		t := fmt.Sprintf("Redis %s has no ACLs: requirepass is its only credential", v)
		r.Add(result.OK, "%s", t)
		return t
	case a.ACLCode == "NOPERM":
		r.Add(result.Unknown, "ACL audit: user %q may not run ACL LIST (NOPERM): give an admin-capable user", a.As)
		return ""
	case a.ACLErr != nil:
		r.Add(result.Unknown, "ACL audit: could not read ACL LIST: %s", describeErr(a.ACLErr))
		return ""
	}
	enabled, nopass, dangerous, unclear := 0, 0, 0, 0
	defaultState := "absent"
	for _, u := range a.Users {
		if u.Name == "default" {
			defaultState = defaultUserState(u)
		}
		if !u.Enabled {
			continue
		}
		enabled++
		g := Evaluate(u, a.Categories)
		what := ""
		if g.Any() {
			what = dangerText(g)
		}
		switch {
		case u.NoPass && u.Name == "default":
			nopass++
			t := "the default user is enabled without a password (nopass): every client is logged in as it without AUTH"
			if what != "" {
				t += " and can run " + what
			}
			r.Add(result.Critical, "%s", t)
		case u.NoPass:
			nopass++
			t := fmt.Sprintf("user %q is enabled without a password (nopass): AUTH with any password logs in as it", u.Name)
			if what != "" {
				t += " and can run " + what
			}
			r.Add(result.Critical, "%s", t)
		case u.Passwords == 0:
			// Enabled, but no password and not nopass: nobody can log in
			// as this user.
		case what != "" && !slices.Contains(admins, u.Name):
			dangerous++
			r.Add(result.Warning, "user %q is not an --admin-user but can run %s", u.Name, what)
		}
		if len(u.Unknown) > 0 {
			unclear++
			r.Add(result.Warning, "user %q has ACL rules this check does not understand (%s): its permissions may be wider than reported",
				u.Name, strings.Join(u.Unknown, " "))
		}
	}
	// Counts for trending: a user added without a password shows as a step
	// even while the alert itself stays CRITICAL.
	r.Metric("acl_users_enabled", float64(enabled), "")
	r.Metric("acl_users_nopass", float64(nopass), "")
	r.Metric("acl_users_dangerous", float64(dangerous), "")
	r.Metric("acl_users_unclear", float64(unclear), "")
	if a.Mode == "sentinel" {
		r.Add(result.OK, "Sentinel: its own users and requirepass (sentinel.conf) apply")
	}
	users := "enabled ACL users"
	if enabled == 1 {
		users = "enabled ACL user"
	}
	t := fmt.Sprintf("%d %s, none without a password, dangerous commands only for admin users; default user %s",
		enabled, users, defaultState)
	if nopass+dangerous+unclear == 0 {
		r.Add(result.OK, "%s", t)
	}
	return t
}

func defaultUserState(u User) string {
	switch {
	case !u.Enabled:
		return "disabled"
	case u.NoPass:
		return "without a password"
	case u.Passwords == 0:
		return "without any password (cannot log in)"
	}
	return "requires a password"
}

// dangerText lists what a user can run of the dangerous commands.
func dangerText(g Grants) string {
	parts := append([]string{}, g.Commands...)
	if len(g.Category) > 0 {
		t := "@dangerous via " + strings.Join(g.Category, " ")
		if g.Total > 0 {
			t += fmt.Sprintf(" (%d of %d commands)", g.Runnable, g.Total)
		}
		parts = append(parts, t)
	}
	t := strings.Join(parts, ", ")
	if g.Guessed {
		t += " (some categories could not be read and are assumed to grant every command)"
	}
	return t
}
