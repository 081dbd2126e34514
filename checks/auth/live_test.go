package auth

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

func TestLiveNoPassword(t *testing.T) {
	// Protected mode is on by default but does not apply to loopback
	// clients: the server is open to this one.
	for _, pm := range []string{"yes", "no"} {
		s := start(t, "protected-mode "+pm)
		r, out := check(t, redisconn.Options{Port: s.Port}, nil)
		expect(t, r, out, result.Critical, "the default user is usable without a password (PING answered, DBSIZE served without credentials)")
	}
}

func TestLiveRequirepass(t *testing.T) {
	s := start(t, "requirepass "+pwDefault, "bind 127.0.0.1 -::1")
	r, out := check(t, redisconn.Options{Port: s.Port}, nil)
	expect(t, r, out, result.OK, "clients without credentials are refused (NOAUTH: a password is required)")
	if ln, err := net.Listen("tcp6", "[::1]:0"); err == nil { // IPv6 loopback present
		ln.Close()
		r, out = check(t, redisconn.Options{Host: "::1", Port: s.Port}, nil)
		expect(t, r, out, result.OK, "[::1]:"+strconv.Itoa(s.Port)+": clients without credentials are refused")
	}

	// The password in the environment must not reach the first probe, and
	// the audit finds the default user as the only, admin, user.
	r, out = check(t, redisconn.Options{Port: s.Port}, map[string]string{redisconn.PasswordEnv: pwDefault})
	expect(t, r, out, result.OK, "NOAUTH", "1 enabled ACL user, none without a password, dangerous commands only for admin users; default user requires a password")

	// Without default among the admins its +@all is flagged.
	r, out = check(t, redisconn.Options{Port: s.Port}, map[string]string{redisconn.PasswordEnv: pwDefault}, "ops")
	expect(t, r, out, result.Warning, `user "default" is not an --admin-user but can run CONFIG, DEBUG, MODULE, FLUSHALL, SLAVEOF, REPLICAOF, ACL SETUSER, @dangerous via +@all`)

	r, out = check(t, redisconn.Options{Port: s.Port}, map[string]string{redisconn.PasswordEnv: "wrong"})
	expect(t, r, out, result.Unknown, `ACL audit: the server refused the credentials of user "default" (WRONGPASS)`)
}

// aclConfig is a server with ACL users of every kind the audit judges.
var aclConfig = []string{
	"user default off nopass +@all",
	"user admin on >" + pwAdmin + " ~* &* +@all",
	"user cache on nopass ~cache:* -@all +get +set +flushall",
	"user ops on >" + pwOps + " ~* -@all +@read +info +config|get",
	"user app on >" + pwOps + " ~app:* -@all +@read +@write -@dangerous",
	"user retired off nopass ~* +@all",
	"user broad on >" + pwOps + " ~* +@all -config -debug -module -flushall -slaveof -replicaof -acl",
}

func TestLiveACLUsers(t *testing.T) {
	s := start(t, aclConfig...)
	// Without credentials: the default user is off, so NOAUTH.
	r, out := check(t, redisconn.Options{Port: s.Port}, nil)
	expect(t, r, out, result.OK, "refused (NOAUTH")

	env := map[string]string{redisconn.UsernameEnv: "admin", redisconn.PasswordEnv: pwAdmin}
	r, out = check(t, redisconn.Options{Port: s.Port}, env, "admin")
	expect(t, r, out, result.Critical,
		`CRITICAL: user "cache" is enabled without a password (nopass): AUTH with any password logs in as it and can run FLUSHALL`,
		`WARNING: user "ops" is not an --admin-user but can run CONFIG GET`,
		`WARNING: user "broad" is not an --admin-user but can run @dangerous via +@all (`,
	)
	for _, quiet := range []string{`"app"`, `"retired"`, `"admin"`, `"default"`} {
		if strings.Contains(out, quiet) {
			t.Errorf("%s flagged:\n%s", quiet, out)
		}
	}

	// A user that may not list users cannot audit: UNKNOWN, not OK.
	env = map[string]string{redisconn.UsernameEnv: "ops", redisconn.PasswordEnv: pwOps}
	r, out = check(t, redisconn.Options{Port: s.Port}, env, "admin")
	expect(t, r, out, result.Unknown, `user "ops" may not run ACL LIST (NOPERM)`)
}

func TestLiveRestrictedDefaultUser(t *testing.T) {
	s := start(t, "user default on nopass ~* -@all +ping", "user admin on >"+pwAdmin+" ~* +@all")
	r, out := check(t, redisconn.Options{Port: s.Port}, nil)
	expect(t, r, out, result.Warning, "logged in as the default user, which has no password; PING answered, DBSIZE, SCAN 0 COUNT 1, INFO keyspace, CONFIG GET maxmemory, EXISTS x, COMMAND COUNT, ACL WHOAMI refused by its ACL rules (NOPERM)")

	env := map[string]string{redisconn.UsernameEnv: "admin", redisconn.PasswordEnv: pwAdmin}
	r, out = check(t, redisconn.Options{Port: s.Port}, env, "admin")
	expect(t, r, out, result.Critical, "the default user is enabled without a password (nopass)")
}

// TestLiveEvaluationMatchesRedis holds the evaluator to the server's own
// answer: for each rule set, ACL DRYRUN says whether each dangerous command
// form may run, and Evaluate must list exactly those.
func TestLiveEvaluationMatchesRedis(t *testing.T) {
	s := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), Protocol: 2, DisableIdentity: true})
	defer c.Close()
	forms := map[string][]string{ // display form -> a valid DRYRUN command
		"CONFIG GET": {"config", "get", "x"}, "CONFIG SET": {"config", "set", "x", "y"},
		"CONFIG REWRITE": {"config", "rewrite"}, "CONFIG RESETSTAT": {"config", "resetstat"},
		"DEBUG": {"debug", "object", "x"}, "MODULE": {"module", "list"}, "FLUSHALL": {"flushall"},
		"SLAVEOF": {"slaveof", "no", "one"}, "REPLICAOF": {"replicaof", "no", "one"},
		"ACL SETUSER": {"acl", "setuser", "x"},
	}
	lists := map[string][]string{}
	cats, err := c.Do(ctx, "ACL", "CAT").StringSlice()
	if err != nil {
		t.Fatal(err)
	}
	for _, cat := range cats {
		if lists[cat], err = c.Do(ctx, "ACL", "CAT", cat).StringSlice(); err != nil {
			t.Fatal(err)
		}
	}
	categories := NewCategories(lists)
	for _, rules := range []string{
		"+@all", "-@all", "+@all -@dangerous", "+@all -@dangerous +config|get", "+@all -config|set",
		"-@all +config -config|get", "-@all +@admin", "-@all +@dangerous -@admin", "-@all +@write",
		"+@all -@admin +debug", "-@all +@slow -@dangerous +acl|setuser", "+@all -@keyspace -@write",
		"-@all +get (+flushall) (+config|set)", "-@all +@connection +@admin -config -module",
		"+@all -flushall -debug -@admin +module",
	} {
		args := []any{"ACL", "SETUSER", "probe", "reset", "on", "nopass"}
		for _, f := range strings.Fields(rules) {
			args = append(args, f)
		}
		// Selectors are one argument each to ACL SETUSER.
		args = joinSelectors(args)
		if err := c.Do(ctx, args...).Err(); err != nil {
			t.Fatalf("%s: %v", rules, err)
		}
		line, err := c.Do(ctx, "ACL", "LIST").StringSlice()
		if err != nil {
			t.Fatal(err)
		}
		var u User
		for _, l := range line {
			if strings.HasPrefix(l, "user probe ") {
				if u, err = ParseUser(l); err != nil {
					t.Fatal(err)
				}
			}
		}
		got := map[string]bool{}
		for _, f := range expand(Evaluate(u, categories).Commands) {
			got[f] = true
		}
		for form, cmd := range forms {
			dry := append([]any{"ACL", "DRYRUN", "probe"}, toAny(cmd)...)
			// DRYRUN answers OK, or a bulk string explaining the denial.
			v, err := c.Do(ctx, dry...).Text()
			if err != nil || (v != "OK" && !strings.HasPrefix(v, "This user has no permissions")) {
				t.Fatalf("%s: DRYRUN %v: %q %v", rules, cmd, v, err)
			}
			allowed := v == "OK"
			if allowed != got[form] {
				t.Errorf("rules %q: Redis says %s allowed=%v, Evaluate says %v (%q)", rules, form, allowed, got[form], Evaluate(u, categories).Commands)
			}
		}
	}
}

// expand turns "CONFIG" (every form) into its forms for comparison.
func expand(cmds []string) []string {
	var out []string
	for _, c := range cmds {
		if c == "CONFIG" {
			out = append(out, "CONFIG GET", "CONFIG SET", "CONFIG REWRITE", "CONFIG RESETSTAT")
			continue
		}
		out = append(out, c)
	}
	return out
}

func joinSelectors(args []any) []any {
	var out []any
	var cur []string
	for _, a := range args {
		s := a.(string)
		switch {
		case cur != nil:
			cur = append(cur, s)
			if strings.HasSuffix(s, ")") {
				out, cur = append(out, strings.Join(cur, " ")), nil
			}
		case strings.HasPrefix(s, "(") && !strings.HasSuffix(s, ")"):
			cur = []string{s}
		default:
			out = append(out, s)
		}
	}
	return out
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// TestLiveSilentServers: a listener that accepts and never answers, and one
// that answers PING and then goes silent, both end inside the deadline.
func TestLiveSilentServers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		serve func(net.Conn)
		state result.State
		want  string
	}{
		{"never answers", func(c net.Conn) {}, result.Unknown, "could not probe without credentials: no reply before the deadline"},
		{"PONG then silence", func(c net.Conn) {
			buf := make([]byte, 64)
			if n, _ := c.Read(buf); n > 0 && strings.Contains(string(buf[:n]), "PING") {
				_, _ = c.Write([]byte("+PONG\r\n"))
			}
		}, result.Critical, "the default user is usable without a password (PING answered without credentials; DBSIZE: no reply before the deadline)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			t.Cleanup(func() { close(done); ln.Close() })
			go func() {
				for i := 0; i < 10; i++ { // bounded: the check opens two connections
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() { tc.serve(c); <-done; c.Close() }()
				}
			}()
			c := Options{Conn: redisconn.Options{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port}}
			if err := c.Validate(func(string) string { return "" }); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
			defer cancel()
			begin := time.Now()
			r := Judge(c, Gather(ctx, &c))
			if el := time.Since(begin); el > time.Second {
				t.Errorf("took %v with a 700ms deadline", el)
			}
			expect(t, r, render(r), tc.state, tc.want)
		})
	}
}
