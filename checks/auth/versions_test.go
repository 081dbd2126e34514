package auth

import (
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// The unauthenticated probe and the ACL audit on every server version
// installed here (Redis 6.0, 7.0, Valkey 8 with scripts/setup).
func TestVersionsProbeAndAudit(t *testing.T) {
	for label, bin := range redistest.Binaries(t) {
		t.Run(label, func(t *testing.T) {
			open := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{"protected-mode no"}})
			r, out := check(t, redisconn.Options{Port: open.Port}, nil)
			expect(t, r, out, result.Critical, "the default user is usable without a password")

			pw := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{"requirepass " + pwDefault}})
			r, out = check(t, redisconn.Options{Port: pw.Port}, nil)
			expect(t, r, out, result.OK, "clients without credentials are refused (NOAUTH")

			acl := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{
				"user default on >" + pwDefault + " ~* +@all", // no &* (channel patterns): 6.2+
				"user cache on nopass ~cache:* -@all +get +set",
			}})
			r, out = check(t, redisconn.Options{Port: acl.Port}, map[string]string{redisconn.PasswordEnv: pwDefault})
			expect(t, r, out, result.Critical, `user "cache"`)
		})
	}
}

// An ACL command renamed away answers like a server without ACLs; on every
// version from 6.0 on that must not read as "requirepass is its only
// credential" while another user logs in without a password. HELLO tells the
// version where INFO is renamed or not granted.
func TestVersionsRenamedACLIsNotNoACL(t *testing.T) {
	for label, bin := range redistest.Binaries(t) {
		t.Run(label, func(t *testing.T) {
			for name, conf := range map[string][]string{
				"info renamed":     {"requirepass " + pwDefault, `rename-command INFO ""`},
				"info not granted": {"user default on >" + pwDefault + " ~* +@all -info"},
			} {
				s := redistest.Start(t, redistest.Spec{Binary: bin, Config: append(conf,
					"user backdoor on nopass ~* +@all", `rename-command ACL ""`)})
				// The backdoor is real: any password logs in as it.
				c := redisconn.Options{Host: "127.0.0.1", Port: s.Port, Username: "backdoor", Password: "anything"}
				rc := c.Client(t.Context())
				if err := rc.DBSize(t.Context()).Err(); err != nil {
					t.Fatalf("%s: backdoor login: %v", name, err)
				}
				rc.Close()
				r, out := check(t, redisconn.Options{Port: s.Port}, map[string]string{redisconn.PasswordEnv: pwDefault})
				product := "Redis "
				if strings.HasPrefix(label, "valkey") {
					product = "Valkey "
				}
				expect(t, r, out, result.Unknown, "ACL LIST is an unknown command, but "+product+redistest.Version(t, bin)+" has ACL users")
				if strings.Contains(out, "no ACLs") {
					t.Errorf("%s: %s", name, out)
				}
			}
		})
	}
}

// An audit user that may list users but not categories cannot tell what
// category rules grant: those users are unclear, with the permission to add,
// never "can run everything".
func TestVersionsAuditWithoutACLCat(t *testing.T) {
	for label, bin := range redistest.Binaries(t) {
		t.Run(label, func(t *testing.T) {
			s := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{
				"user default off",
				"user admin on >" + pwAdmin + " ~* +@all",
				"user audit on >" + pwOps + " -@all +acl|list",
				"user app on >" + pwOps + " ~app:* -@all +@read +@write -@dangerous",
				"user ops on >" + pwOps + " ~* -@all +@read +config|get",
			}})
			env := map[string]string{redisconn.UsernameEnv: "audit", redisconn.PasswordEnv: pwOps}
			r, out := check(t, redisconn.Options{Port: s.Port}, env, "admin")
			expect(t, r, out, result.Warning,
				// ACL LIST writes +@read +@write as the categories they hold
				// on some versions: the list varies, the judgement does not.
				`WARNING: user "app": what it can run is not verified: ACL CAT did not list the members of @`,
				`(NOPERM): allow user "audit" to run ACL CAT`,
				`WARNING: user "ops" is not an --admin-user but can run CONFIG GET`,
				"acl_users_dangerous=1 acl_users_unclear=2")
			if strings.Contains(out, `"app" is not an --admin-user`) {
				t.Errorf("a guess reported as a finding:\n%s", out)
			}
		})
	}
}

// The default user without a password is judged from several reads, not
// DBSIZE alone: one refused command says little about the rest.
func TestVersionsDefaultUserBeyondDBSIZE(t *testing.T) {
	for label, bin := range redistest.Binaries(t) {
		t.Run(label, func(t *testing.T) {
			v, _ := parseVersion(redistest.Version(t, bin))
			all := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{"user default on nopass ~* +@all -dbsize"}})
			r, out := check(t, redisconn.Options{Port: all.Port}, nil)
			expect(t, r, out, result.Critical,
				"the default user is usable without a password (PING answered, SCAN 0 COUNT 1 served without credentials; DBSIZE refused)")

			narrow := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{"user default on nopass ~* -@all +ping +command"}})
			r, out = check(t, redisconn.Options{Port: narrow.Port}, nil)
			expect(t, r, out, result.Warning,
				"PING answered, DBSIZE, SCAN 0 COUNT 1, INFO keyspace, CONFIG GET maxmemory, EXISTS x, ACL WHOAMI refused by its ACL rules (NOPERM); COMMAND COUNT served; other commands not verified")

			if v.Major < 7 {
				return // ACL DRYRUN is 7.0+
			}
			dry := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{"user default on nopass ~* -@all +ping +acl|dryrun +flushall +config|set"}})
			r, out = check(t, redisconn.Options{Port: dry.Port}, nil)
			expect(t, r, out, result.Critical, "the default user is usable without a password (PING answered; ACL DRYRUN says it may run CONFIG SET, FLUSHALL)")
		})
	}
}

// ACL selectors (7.0+) grant commands beyond the user's root rules; the
// audit reads them on every version that has them.
func TestVersionsACLSelectors(t *testing.T) {
	for label, bin := range redistest.Binaries(t) {
		t.Run(label, func(t *testing.T) {
			v, _ := parseVersion(redistest.Version(t, bin))
			if v.Major < 7 {
				t.Skipf("%s has no ACL selectors (7.0+); nothing to check", label)
			}
			s := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{
				"user default off",
				"user admin on >" + pwAdmin + " ~* &* +@all",
				"user sel on >" + pwOps + " ~* -@all +get (~tmp:* +flushall) (%R~* +config|get)",
			}})
			env := map[string]string{redisconn.UsernameEnv: "admin", redisconn.PasswordEnv: pwAdmin}
			r, out := check(t, redisconn.Options{Port: s.Port}, env, "admin")
			expect(t, r, out, result.Warning, `user "sel" is not an --admin-user but can run CONFIG GET, FLUSHALL`)
		})
	}
}

// A renamed AUTH and HELLO stop the audit's login: UNKNOWN naming AUTH.
func TestVersionsRenamedAuthIsNamed(t *testing.T) {
	for label, bin := range redistest.Binaries(t) {
		t.Run(label, func(t *testing.T) {
			s := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{"requirepass " + pwDefault,
				`rename-command AUTH ""`, `rename-command HELLO ""`}})
			r, out := check(t, redisconn.Options{Port: s.Port}, map[string]string{redisconn.PasswordEnv: pwDefault})
			expect(t, r, out, result.Unknown, `ACL audit: login as "default" failed: AUTH is renamed or disabled`)
		})
	}
}

// Sentinel has ACLs from 6.2: an unknown ACL LIST on an older Sentinel is
// no renamed command, and on a newer one the users are read.
func TestVersionsSentinelACL(t *testing.T) {
	for label, bin := range redistest.Binaries(t) {
		t.Run(label, func(t *testing.T) {
			v, _ := parseVersion(redistest.Version(t, bin))
			open := redistest.Start(t, redistest.Spec{Binary: bin, Sentinel: true})
			r, out := check(t, redisconn.Options{Port: open.Port}, nil)
			expect(t, r, out, result.Critical, "Sentinel serves clients without credentials")

			s := redistest.Start(t, redistest.Spec{Binary: bin, Sentinel: true, Config: []string{"requirepass " + pwDefault}})
			r, out = check(t, redisconn.Options{Port: s.Port}, map[string]string{redisconn.PasswordEnv: pwDefault})
			if v.HasACL(true) {
				expect(t, r, out, result.OK, "Sentinel: its own users and requirepass (sentinel.conf) apply")
			} else {
				expect(t, r, out, result.OK, "has no ACLs: requirepass is its only credential")
			}
		})
	}
}

// A renamed PING says nothing about authentication: Redis looks a command
// up before it checks the client, so an open server and one that wants a
// password both answer "unknown command". The reads after it decide where
// they can: served is CRITICAL, refused by the default user's ACL rules is
// WARNING, and NOAUTH stays UNKNOWN (PING itself was never answered).
func TestVersionsRenamedPing(t *testing.T) {
	for label, bin := range redistest.Binaries(t) {
		t.Run(label, func(t *testing.T) {
			open := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{"protected-mode no", `rename-command PING ""`}})
			r, out := check(t, redisconn.Options{Port: open.Port}, nil)
			expect(t, r, out, result.Critical, "the default user is usable without a password (PING renamed or disabled, DBSIZE served without credentials)")

			limited := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{"protected-mode no", `rename-command PING ""`,
				"user default on nopass -@all +acl|whoami"}})
			r, out = check(t, redisconn.Options{Port: limited.Port}, nil)
			expect(t, r, out, result.Warning, "logged in as the default user, which has no password; PING renamed or disabled, DBSIZE")

			pw := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{`rename-command PING ""`, "requirepass " + pwDefault}})
			r, out = check(t, redisconn.Options{Port: pw.Port}, nil)
			expect(t, r, out, result.Unknown, "cannot tell whether it needs a password", "DBSIZE: NOAUTH")
		})
	}
}

// A user added at run time with nopass lets anyone who names it in AUTH in,
// while the default user's password makes clients without credentials look
// refused. Without credentials the check cannot see the user and must say
// so; with them the audit names it.
func TestVersionsNopassUserBehindPassword(t *testing.T) {
	for label, bin := range redistest.Binaries(t) {
		t.Run(label, func(t *testing.T) {
			s := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{"requirepass " + pwDefault}})
			ao := redisconn.Options{Host: "127.0.0.1", Port: s.Port, Password: pwDefault}
			admin := ao.Client(t.Context())
			defer admin.Close()
			if err := admin.Do(t.Context(), "ACL", "SETUSER", "guest", "on", "nopass", "+@all", "~*").Err(); err != nil {
				t.Fatal(err)
			}
			// The server's own answer: any password logs in as guest.
			gu := redisconn.Options{Host: "127.0.0.1", Port: s.Port, Username: "guest", Password: "anything"}
			guest := gu.Client(t.Context())
			defer guest.Close()
			if err := guest.DBSize(t.Context()).Err(); err != nil {
				t.Fatalf("guest login: %v", err)
			}

			r, out := check(t, redisconn.Options{Port: s.Port}, nil)
			expect(t, r, out, result.OK, "ACL users and enable-* settings not audited (no credentials)",
				"OK: not audited without credentials: the other ACL users", "set $REDIS_PASSWORD, and $REDIS_USERNAME")

			r, out = check(t, redisconn.Options{Port: s.Port}, map[string]string{redisconn.PasswordEnv: pwDefault})
			expect(t, r, out, result.Critical, `CRITICAL: user "guest" is enabled without a password (nopass): AUTH with any password logs in as it and can run CONFIG`)
			if strings.Contains(out, "not audited without credentials") {
				t.Errorf("an audited server called unaudited:\n%s", out)
			}
		})
	}
}
