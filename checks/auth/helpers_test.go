package auth

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

func TestMain(m *testing.M) { bintest.Main(m) }

// Passwords used by the live tests: distinct, so a leak names its source.
const (
	pwDefault = "pw-default-7d1e"
	pwAdmin   = "pw-admin-93ac"
	pwOps     = "pw-ops-4b60"
)

// start runs a redis-server with the given config lines.
func start(t *testing.T, conf ...string) *redistest.Server {
	t.Helper()
	return redistest.Start(t, redistest.Spec{Config: conf})
}

// check runs the check like the runner does (validate, then Run under a
// deadline) against 127.0.0.1:port with the given environment.
func check(t *testing.T, conn redisconn.Options, env map[string]string, admins ...string) (result.Result, string) {
	t.Helper()
	if conn.Host == "" {
		conn.Host = "127.0.0.1"
	}
	if conn.Username == "" {
		conn.Username = env[redisconn.UsernameEnv]
	}
	if admins == nil {
		admins = []string{"default"}
	}
	c := Options{Conn: conn, Admins: admins}
	if err := c.Validate(func(k string) string { return env[k] }); err != nil {
		t.Fatalf("validate: %v", err)
	}
	const deadline = 5 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	r := Judge(c, Gather(ctx, &c))
	if el := time.Since(start); el > deadline {
		t.Errorf("Run took %v with a %v deadline", el, deadline)
	}
	out := render(r)
	assertNoSecrets(t, out)
	return r, out
}

var hexRun = regexp.MustCompile(`[0-9a-f]{40,}`)

// assertNoSecrets fails when output carries a test password or anything
// shaped like a password hash.
func assertNoSecrets(t *testing.T, out string) {
	t.Helper()
	for _, pw := range []string{pwDefault, pwAdmin, pwOps} {
		if strings.Contains(out, pw) {
			t.Errorf("password %q in output:\n%s", pw, out)
		}
	}
	if hexRun.MatchString(out) {
		t.Errorf("hash-like text in output:\n%s", out)
	}
}

func expect(t *testing.T, r result.Result, out string, state result.State, substrings ...string) {
	t.Helper()
	t.Logf("%s", out)
	if r.State != state {
		t.Errorf("state %s, want %s\n%s", r.State, state, out)
	}
	for _, s := range substrings {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}
