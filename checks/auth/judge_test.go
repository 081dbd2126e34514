package auth

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

func reply(line string) resp.Reply { return resp.Reply{Line: line, Class: resp.Classify(line)} }

// render is the result as the binary prints it, without the name.
func render(r result.Result) string {
	r.Finalize()
	var b strings.Builder
	_ = result.Render(&b, "c", r)
	return b.String()
}

func TestJudgeProbe(t *testing.T) {
	const target = "192.0.2.1:6379"
	for _, tc := range []struct {
		name  string
		p     Probe
		state result.State
		want  string // a substring of the rendered output
	}{
		{"password", Probe{Ping: reply("-NOAUTH Authentication required."), Read: &ReadAttempt{Command: "DBSIZE", Code: "NOAUTH"}},
			result.OK, "c OK: 192.0.2.1:6379: clients without credentials are refused (NOAUTH: a password is required); ACL users and enable-* settings not audited (no credentials)\n"},
		{"no password", Probe{Ping: reply("+PONG"), Read: &ReadAttempt{Command: "DBSIZE", Served: true}},
			result.Critical, "default user is usable without a password (PING answered, DBSIZE served without credentials)"},
		{"sentinel", Probe{Ping: reply("+PONG"), Read: &ReadAttempt{Command: "INFO server", Served: true, Sentinel: true}},
			result.Critical, "Sentinel serves clients without credentials"},
		{"protected mode", Probe{Ping: reply("-DENIED Redis is running in protected mode because ...")},
			result.Warning, "refused only by protected mode (DENIED)"},
		{"restricted default user", Probe{Ping: reply("+PONG"), Read: &ReadAttempt{Command: "DBSIZE", Code: "NOPERM"}},
			result.Warning, "PING answered, DBSIZE refused by its ACL rules (NOPERM)"},
		{"default user without PING", Probe{Ping: reply("-NOPERM this user has no permissions to run the 'ping' command"), Read: &ReadAttempt{Command: "DBSIZE", Code: "NOPERM"}},
			result.Warning, "PING refused by ACL rules (NOPERM), DBSIZE refused"},
		{"default user without PING but reads", Probe{Ping: reply("-NOPERM no"), Read: &ReadAttempt{Command: "DBSIZE", Served: true}},
			result.Critical, "usable without a password"},
		{"PONG then silence", Probe{Ping: reply("+PONG"), Read: &ReadAttempt{Command: "DBSIZE", Err: context.DeadlineExceeded}},
			result.Critical, "PING answered without credentials; DBSIZE: no reply before the deadline"},
		{"NOAUTH yet served", Probe{Ping: reply("-NOAUTH x"), Read: &ReadAttempt{Command: "DBSIZE", Served: true}},
			result.Critical, "DBSIZE was served without credentials"},
		{"NOAUTH, then DBSIZE broken off", Probe{Ping: reply("-NOAUTH x"), Read: &ReadAttempt{Command: "DBSIZE", Err: io.ErrUnexpectedEOF}},
			result.Unknown, "PING was refused (NOAUTH) but DBSIZE broke off: unexpected EOF"},
		{"NOAUTH, then NOPERM", Probe{Ping: reply("-NOAUTH x"), Read: &ReadAttempt{Command: "DBSIZE", Code: "NOPERM"}},
			result.Unknown, "PING was refused (NOAUTH) but DBSIZE answered NOPERM"},
		{"loading", Probe{Ping: reply("-LOADING Redis is loading the dataset in memory")},
			result.Unknown, "cannot tell whether it needs a password: -LOADING"},
		{"not redis", Probe{Ping: reply("HTTP/1.1 400 Bad Request")},
			result.Unknown, "not a Redis server: PING got \"HTTP/1.1 400 Bad Request\""},
		{"refused", Probe{Err: fmt.Errorf("dial: %w", syscall.ECONNREFUSED)},
			result.Unknown, "could not probe without credentials: connection refused"},
		{"timeout", Probe{Err: context.DeadlineExceeded}, result.Unknown, "no reply before the deadline"},
		{"closed", Probe{Err: resp.ErrNoReply}, result.Unknown, "closed the connection without a reply"},
		{"tls to plain", Probe{Err: tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}},
			result.Unknown, "does not speak TLS on this port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Judge(Options{}, Facts{Target: target, Probe: tc.p})
			out := render(r)
			if r.State != tc.state || !strings.Contains(out, tc.want) {
				t.Fatalf("got %s\n%s\nwant %s with %q", r.State, out, tc.state, tc.want)
			}
		})
	}
}

// A server that refuses clients without credentials may still have users
// that log in with any password: without credentials the check cannot see
// them and says so, with what to set, but stays OK. With --discover the
// deployment says it once, not every node.
func TestJudgeUnaudited(t *testing.T) {
	refused := Probe{Ping: reply("-NOAUTH Authentication required."), Read: &ReadAttempt{Command: "DBSIZE", Code: "NOAUTH"}}
	out := render(Judge(Options{}, Facts{Target: "192.0.2.1:6379", Probe: refused}))
	want := "c OK: 192.0.2.1:6379: clients without credentials are refused (NOAUTH: a password is required); ACL users and enable-* settings not audited (no credentials)\n" +
		"OK: 192.0.2.1:6379: clients without credentials are refused (NOAUTH: a password is required)\n" +
		"OK: not audited without credentials: the other ACL users (6.0+; one set nopass logs in with any password, which only ACL LIST shows) " +
		"and the settings enable-debug-command, enable-module-command, enable-protected-configs (7.0+); " +
		"to audit them set $REDIS_PASSWORD, and $REDIS_USERNAME, to a user that may run ACL LIST, ACL CAT, INFO and CONFIG GET\n" +
		"| check_state=0;;;0;3\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	node := Options{}
	node.Discover.Enabled = true
	if out := render(Judge(node, Facts{Target: "192.0.2.1:6379", Probe: refused})); strings.Contains(out, "not audited") {
		t.Errorf("a node of a deployment carries the note:\n%s", out)
	}
	// Not where the probe already found the default user open: that
	// finding is the one to act on.
	open := Probe{Ping: reply("+PONG"), Read: &ReadAttempt{Command: "DBSIZE", Served: true}}
	if out := render(Judge(Options{}, Facts{Target: "192.0.2.1:6379", Probe: open})); strings.Contains(out, "not audited") {
		t.Errorf("the note on an open server:\n%s", out)
	}
}

func users(t *testing.T, lines ...string) []User {
	t.Helper()
	u, err := ParseACLList(strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestJudgeAudit(t *testing.T) {
	cats := liveCategories(t, "dangerous", "admin", "read", "write")
	refused := Probe{Ping: reply("-NOAUTH Authentication required."), Read: &ReadAttempt{Command: "DBSIZE", Code: "NOAUTH"}}
	hash := "#" + strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name   string
		a      Audit
		admins []string
		state  result.State
		want   string // the exact rendered output
	}{
		{"clean", Audit{As: "admin", Users: users(t, "user default off "+hash+" +@all", "user admin on "+hash+" ~* +@all", "user app on "+hash+" ~app:* -@all +@read +@write -@dangerous")},
			[]string{"admin"}, result.OK,
			"c OK: 192.0.2.1:6379: clients without credentials are refused (NOAUTH: a password is required); 2 enabled ACL users, none without a password, dangerous commands only for admin users; default user disabled" +
				"\n" +
				"OK: 192.0.2.1:6379: clients without credentials are refused (NOAUTH: a password is required)\n" +
				"OK: 2 enabled ACL users, none without a password, dangerous commands only for admin users; default user disabled\n" +
				"| check_state=0;;;0;3 acl_users_enabled=2 acl_users_nopass=0 acl_users_dangerous=0 acl_users_unclear=0\n"},
		{"nopass and dangerous", Audit{As: "admin", Users: users(t, "user default on "+hash+" +@all", "user cache on nopass ~* -@all +get +flushall", "user ops on "+hash+" +@all -@dangerous +config|get", "user old off nopass +@all")},
			[]string{"default"}, result.Critical,
			"c CRITICAL: user \"cache\" is enabled without a password (nopass): AUTH with any password logs in as it and can run FLUSHALL" +
				"\n" +
				"CRITICAL: user \"cache\" is enabled without a password (nopass): AUTH with any password logs in as it and can run FLUSHALL\n" +
				"WARNING: user \"ops\" is not an --admin-user but can run CONFIG GET\n" +
				"OK: 192.0.2.1:6379: clients without credentials are refused (NOAUTH: a password is required)\n" +
				"| check_state=2;;;0;3 acl_users_enabled=3 acl_users_nopass=1 acl_users_dangerous=1 acl_users_unclear=0\n"},
		{"default nopass off is fine", Audit{As: "a", Users: users(t, "user default off nopass +@all", "user a on "+hash+" +@all")},
			[]string{"a"}, result.OK, ""},
		{"unknown rule", Audit{As: "a", Users: users(t, "user a on "+hash+" +@all", "user b on "+hash+" -@all +get frobnicate")},
			[]string{"a"}, result.Warning,
			"c WARNING: user \"b\" has ACL rules this check does not understand (frobnicate): its permissions may be wider than reported" +
				"\n" +
				"WARNING: user \"b\" has ACL rules this check does not understand (frobnicate): its permissions may be wider than reported\n" +
				"OK: 192.0.2.1:6379: clients without credentials are refused (NOAUTH: a password is required)\n" +
				"| check_state=1;;;0;3 acl_users_enabled=2 acl_users_nopass=0 acl_users_dangerous=0 acl_users_unclear=1\n"},
		{"no password at all cannot log in", Audit{As: "a", Users: users(t, "user a on "+hash+" +@all", "user b on +@all")},
			[]string{"a"}, result.OK, ""},
		{"wrong password", Audit{As: "admin", Code: "WRONGPASS"}, nil, result.Unknown,
			"c UNKNOWN: ACL audit: the server refused the credentials of user \"admin\" (WRONGPASS)\n" +
				"UNKNOWN: ACL audit: the server refused the credentials of user \"admin\" (WRONGPASS)\n" +
				"OK: 192.0.2.1:6379: clients without credentials are refused (NOAUTH: a password is required)\n" +
				"| check_state=3;;;0;3\n"},
		{"INFO broken off", Audit{As: "a", Broken: io.ErrUnexpectedEOF, BrokenAt: "INFO server"}, nil, result.Unknown, ""},
		{"not admin", Audit{As: "mon", ACLCode: "NOPERM"}, nil, result.Unknown, ""},
		{"old server", Audit{As: "default", Version: "5.0.14", NoACL: true}, nil, result.OK,
			"c OK: 192.0.2.1:6379: clients without credentials are refused (NOAUTH: a password is required); Redis 5.0.14 has no ACLs: requirepass is its only credential\n" +
				"OK: 192.0.2.1:6379: clients without credentials are refused (NOAUTH: a password is required)\n" +
				"OK: Redis 5.0.14 has no ACLs: requirepass is its only credential\n" +
				"| check_state=0;;;0;3\n"},
		{"ACL renamed on 7.0", Audit{As: "default", Version: "7.0.15", ACLMissing: true, ACLCode: "ERR", InfoWhy: "unknown command"}, nil, result.Unknown,
			"c UNKNOWN: ACL audit: ACL LIST is an unknown command, but Redis 7.0.15 has ACL users (6.0+, Sentinel 6.2+): the ACL command is renamed or disabled (rename-command ACL), so users that log in without a password cannot be ruled out; give the audit access to ACL LIST and ACL CAT under their own names\n" +
				"UNKNOWN: ACL audit: ACL LIST is an unknown command, but Redis 7.0.15 has ACL users (6.0+, Sentinel 6.2+): the ACL command is renamed or disabled (rename-command ACL), so users that log in without a password cannot be ruled out; give the audit access to ACL LIST and ACL CAT under their own names\n" +
				"OK: 192.0.2.1:6379: clients without credentials are refused (NOAUTH: a password is required)\n| check_state=3;;;0;3\n"},
		{"INFO claims 5.0, HELLO says 7.0", Audit{As: "default", Version: "7.0.15", VersionConflict: "5.0.14", ACLMissing: true, ACLCode: "ERR"}, nil, result.Unknown,
			"c UNKNOWN: ACL audit: ACL LIST is an unknown command, but Redis 7.0.15 (INFO claims 5.0.14, but HELLO answers) has ACL users (6.0+, Sentinel 6.2+): the ACL command is renamed or disabled (rename-command ACL), so users that log in without a password cannot be ruled out; give the audit access to ACL LIST and ACL CAT under their own names\nUNKNOWN: ACL audit: ACL LIST is an unknown command, but Redis 7.0.15 (INFO claims 5.0.14, but HELLO answers) has ACL users (6.0+, Sentinel 6.2+): the ACL command is renamed or disabled (rename-command ACL), so users that log in without a password cannot be ruled out; give the audit access to ACL LIST and ACL CAT under their own names\nOK: 192.0.2.1:6379: clients without credentials are refused (NOAUTH: a password is required)\n| check_state=3;;;0;3\n"},
		{"ACL missing, version unknown", Audit{As: "mon", ACLMissing: true, ACLCode: "ERR", InfoWhy: "NOPERM", HelloWhy: "unknown command"}, nil, result.Unknown,
			"c UNKNOWN: ACL audit: ACL LIST is an unknown command and the server's version could not be read (INFO server: NOPERM; HELLO: unknown command): ACL users (6.0+) cannot be ruled out; grant user \"mon\" +info, or restore the ACL command\n" +
				"UNKNOWN: ACL audit: ACL LIST is an unknown command and the server's version could not be read (INFO server: NOPERM; HELLO: unknown command): ACL users (6.0+) cannot be ruled out; grant user \"mon\" +info, or restore the ACL command\n" +
				"OK: 192.0.2.1:6379: clients without credentials are refused (NOAUTH: a password is required)\n| check_state=3;;;0;3\n"},
		{"unparsable", Audit{As: "a", ACLErr: &ParseError{Line: 3, Err: ErrNotUserLine}}, nil, result.Unknown,
			"c UNKNOWN: ACL audit: could not read ACL LIST: ACL LIST line 3: not an ACL LIST user line\n" +
				"UNKNOWN: ACL audit: could not read ACL LIST: ACL LIST line 3: not an ACL LIST user line\n" +
				"OK: 192.0.2.1:6379: clients without credentials are refused (NOAUTH: a password is required)\n" +
				"| check_state=3;;;0;3\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.a
			if a.Categories.members == nil {
				a.Categories = cats
			}
			r := Judge(Options{Admins: tc.admins}, Facts{Target: "192.0.2.1:6379", Probe: refused, Audit: &a})
			out := render(r)
			if r.State != tc.state || (tc.want != "" && out != tc.want) {
				t.Fatalf("got %s\n%s\nwant %s\n%s", r.State, out, tc.state, tc.want)
			}
			if strings.Contains(out, "abab") {
				t.Fatalf("a password hash reached the output:\n%s", out)
			}
		})
	}
}

func TestJudgeProtectedModeBlocksAudit(t *testing.T) {
	denied := Probe{Ping: reply("-DENIED protected")}
	r := Judge(Options{}, Facts{Target: "192.0.2.1:6379", Probe: denied, Credentials: true})
	out := render(r)
	if raced := render(Judge(Options{}, Facts{Target: "192.0.2.1:6379", Probe: denied, Credentials: true, Audit: &Audit{As: "a", Code: "DENIED"}})); raced != out {
		t.Fatalf("an audit refused with DENIED reads\n%s\nnot\n%s", raced, out)
	}
	want := "c UNKNOWN: ACL audit not possible from here: protected mode refuses every non-local client, even one with credentials\n" +
		"UNKNOWN: ACL audit not possible from here: protected mode refuses every non-local client, even one with credentials\n" +
		"WARNING: 192.0.2.1:6379: clients without credentials are refused only by protected mode (DENIED): the default user has no password, local clients get in, and so does everyone once protected mode is off (on Redis 6.x, also once any bind line is set)\n" +
		"| check_state=3;;;0;3\n"
	if out != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
}
