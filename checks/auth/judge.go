package auth

import (
	"fmt"
	"slices"
	"sort"
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
}

// Judge turns the options and the facts into the check's result. It is the
// only place that decides states.
func Judge(o Options, f Facts) result.Result {
	var r result.Result
	okText := judgeProbe(&r, f.Target, f.Probe)
	// Without credentials only the default user was tried: say what was
	// left unseen (once per deployment with --discover, see discover.go).
	if !f.Credentials && f.Audit == nil && okText != "" && !o.Discover.Enabled {
		okText += "; " + judgeUnaudited(&r)
	}
	if f.Credentials && f.Audit == nil && f.Probe.Err == nil && f.Probe.Ping.Class == resp.Denied {
		r.Add(result.Unknown, "%s", auditDenied)
	}
	if f.Audit != nil {
		for _, t := range []string{judgeAudit(&r, *f.Audit, o.Admins), judgeSettings(&r, *f.Audit)} {
			if t != "" && okText != "" {
				okText += "; " + t
			}
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
		// PING renamed or disabled: a read served, or refused by the
		// default user's rules, still proves the default user logged the
		// client in; anything else leaves the question open.
		if pingUnknown(p.Ping) && read != nil && (served || len(p.DryRun) > 0 || read.Code == "NOPERM") {
			judgeLoggedIn(r, target, "PING renamed or disabled", p)
			return ""
		}
		r.Add(result.Unknown, "%s: PING without credentials got an error reply, cannot tell whether it needs a password: %s%s",
			target, shorten(p.Ping.Line), readAfter(read))
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
		if read != nil && read.Code == "NOPERM" {
			// NOPERM is an answer to a logged-in client: no real server
			// says both to the same unauthenticated client.
			r.Add(result.Unknown, "%s: PING was refused (NOAUTH) but %s answered NOPERM, which only a logged-in client gets: the replies contradict each other", target, read.Command)
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
		judgeLoggedIn(r, target, answered, p)
	}
	return ""
}

// readAfter says what the read after an unclear PING got: "; DBSIZE: NOAUTH".
func readAfter(read *ReadAttempt) string {
	if read == nil {
		return ""
	}
	return "; " + read.Command + ": " + describeRead(read)
}

// judgeLoggedIn judges a server whose PING showed the client was not
// refused outright (answered, refused by ACL rules, or unknown): what the
// harmless reads got decides.
func judgeLoggedIn(r *result.Result, target, answered string, p Probe) {
	read := p.Read
	served := read != nil && read.Served
	switch {
	case served && read.Sentinel:
		r.Add(result.Critical, "%s: Sentinel serves clients without credentials (%s, %s served): anyone can reconfigure its masters or force a failover",
			target, answered, read.Command)
	case served:
		r.Add(result.Critical, "%s: the default user is usable without a password (%s, %s served without credentials%s)",
			target, answered, read.Command, refusedBefore(p))
	case len(p.DryRun) > 0:
		r.Add(result.Critical, "%s: the default user is usable without a password (%s; ACL DRYRUN says it may run %s)",
			target, answered, strings.Join(p.DryRun, ", "))
	case read != nil && read.Code == "NOPERM":
		r.Add(result.Warning, "%s: clients without credentials are logged in as the default user, which has no password; "+
			"%s, %s; other commands not verified: give admin credentials to audit its rules",
			target, answered, readsText(p))
	case p.Ping.Class == resp.Pong:
		r.Add(result.Critical, "%s: the default user is usable without a password (PING answered without credentials; %s: %s)",
			target, read.Command, describeRead(read))
	default:
		r.Add(result.Warning, "%s: clients without credentials are logged in as the default user, which has no password; "+
			"PING refused by ACL rules (NOPERM); %s: %s", target, read.Command, describeRead(read))
	}
}

// refusedBefore lists, for a read served after DBSIZE was refused, the
// reads refused before it: "; DBSIZE refused (NOPERM)".
func refusedBefore(p Probe) string {
	if len(p.Others) == 0 {
		return ""
	}
	var refused []string
	if p.Read != nil && p.Read.Command != "DBSIZE" {
		refused = append(refused, "DBSIZE")
	}
	for _, o := range p.Others {
		if o.Command == p.Read.Command {
			break
		}
		if !o.Served {
			refused = append(refused, o.Command)
		}
	}
	if len(refused) == 0 {
		return ""
	}
	return "; " + strings.Join(refused, ", ") + " refused"
}

// readsText says what became of each read: "DBSIZE, SCAN 0 COUNT 1
// refused by its ACL rules (NOPERM); COMMAND COUNT served".
func readsText(p Probe) string {
	groups := map[string][]string{}
	var order []string
	add := func(a ReadAttempt) {
		key := describeRead(&a)
		switch {
		case a.Served:
			key = "served"
		case a.Code == "NOPERM":
			key = "refused by its ACL rules (NOPERM)"
		}
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], a.Command)
	}
	if p.Read != nil {
		add(*p.Read)
	}
	for _, o := range p.Others {
		add(o)
	}
	var parts []string
	for _, k := range order {
		parts = append(parts, strings.Join(groups[k], ", ")+" "+k)
	}
	return strings.Join(parts, "; ")
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

// auditGrant is what an audit user needs: ACL LIST and ACL CAT to read
// the users and what their categories hold, INFO for the version, CONFIG
// GET for the guard settings. (The output has no "|": it separates the
// perf data, so no +acl|list here.)
const auditGrant = "ACL LIST, ACL CAT, INFO and CONFIG GET"

// judgeUnaudited notes, for a server that refused a client without
// credentials, that its other ACL users and its guard settings were not
// read, and how to let the check read them; it returns the summary text.
// No state changes: a password on the default user is the secured setup,
// and a user set nopass is only visible to ACL LIST.
func judgeUnaudited(r *result.Result) string {
	r.Add(result.OK, "not audited without credentials: the other ACL users (6.0+; one set nopass logs in with any password, "+
		"which only ACL LIST shows) and the settings %s (7.0+); to audit them set $%s, and $%s, to a user that may run %s",
		strings.Join(guardNames(), ", "), redisconn.PasswordEnv, redisconn.UsernameEnv, auditGrant)
	return "ACL users and enable-* settings not audited (no credentials)"
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
	case redisconn.IsUnknownCommand(a.Err):
		// The login itself (HELLO, then AUTH) met a renamed command.
		name, _ := redisconn.UnknownCommandName(a.Err)
		if name == "" {
			name = "AUTH"
		}
		r.Add(result.Unknown, "ACL audit: login as %q failed: %s is renamed or disabled (rename-command); the audit needs AUTH or HELLO", a.As, name)
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
		// Set only with a version older than 6.0 read from the server.
		t := fmt.Sprintf("%s has no ACLs: requirepass is its only credential", a.product())
		r.Add(result.OK, "%s", t)
		return t
	case a.ACLMissing:
		r.Add(result.Unknown, "%s", aclMissingText(a))
		return ""
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
		// A non-admin whose grants rest on categories ACL CAT did not list
		// is judged by what its rules prove, and flagged as unclear: a
		// guess is no finding to act on, and no reason to stay quiet.
		unsure := g.Guessed && !u.NoPass && u.Passwords > 0 && !slices.Contains(admins, u.Name)
		if unsure {
			what = ""
			if c := Evaluate(u, a.Categories.Certain()); c.Any() {
				what = dangerText(c)
			}
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
		if unsure {
			unclear++
			r.Add(result.Warning, "user %q: what it can run is not verified: %s", u.Name, unreadCategories(a, u))
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

// aclMissingText explains an ACL LIST that failed as an unknown command on
// a server not proven older than 6.0: the ACL command was renamed or
// disabled, and users other than default may still log in.
func aclMissingText(a Audit) string {
	if v, ok := parseVersion(a.Version); ok && v.HasACL(a.Mode == "sentinel") {
		conflict := ""
		if a.VersionConflict != "" {
			conflict = fmt.Sprintf(" (INFO claims %s, but HELLO answers)", shorten(a.VersionConflict))
		}
		return fmt.Sprintf("ACL audit: ACL LIST is an unknown command, but %s%s has ACL users (6.0+, Sentinel 6.2+): the ACL command is "+
			"renamed or disabled (rename-command ACL), so users that log in without a password cannot be ruled out; "+
			"give the audit access to ACL LIST and ACL CAT under their own names", a.product(), conflict)
	}
	return fmt.Sprintf("ACL audit: ACL LIST is an unknown command and the server's version could not be read "+
		"(INFO server: %s; HELLO: %s): ACL users (6.0+) cannot be ruled out; grant user %q +info, or restore the ACL command",
		orNA(a.InfoWhy), orNA(a.HelloWhy), a.As)
}

func orNA(s string) string {
	if s == "" {
		return "no version in its reply"
	}
	return s
}

// unreadCategories names the categories u's rules grant whose members ACL
// CAT did not list, why, and the permission the audit user lacks.
func unreadCategories(a Audit, u User) string {
	byWhy := map[string][]string{}
	seen := map[string]bool{}
	add := func(cat string) {
		if seen[cat] || a.Categories.known(cat) {
			return
		}
		seen[cat] = true
		why, asked := a.CatWhy[cat]
		if !asked {
			why = "not asked"
		}
		byWhy[why] = append(byWhy[why], "@"+cat)
	}
	for _, sel := range append([]Selector{u.Root}, u.Selectors...) {
		for _, r := range sel.Rules {
			if r.Kind == Category && r.Allow {
				add(r.Name)
			}
		}
	}
	add("dangerous")
	var parts []string
	for _, why := range sortedKeys(byWhy) {
		cats := byWhy[why]
		sort.Strings(cats)
		if len(cats) > 6 {
			cats = append(cats[:6:6], fmt.Sprintf("%d more", len(byWhy[why])-6))
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", strings.Join(cats, ", "), why))
	}
	t := "ACL CAT did not list the members of " + strings.Join(parts, "; ")
	if _, noperm := byWhy["NOPERM"]; noperm {
		t += fmt.Sprintf(": allow user %q to run ACL CAT", a.As)
	}
	return t
}
