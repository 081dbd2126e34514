package auth

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
)

var update = flag.Bool("update", false, "rewrite testdata/auth/golden from the binary's output")

// TestGolden pins the exact output and exit code of the built binary.
// {{PORT}} in a golden file stands for the server's port.
func TestGolden(t *testing.T) {
	bin := bintest.Build(t, Name)
	for _, tc := range []struct {
		name   string
		server func(t *testing.T) *redistest.Server // nil: none
		env    []string
		args   []string
		code   int
	}{
		{name: "unknown-flag", args: []string{"--nope"}, code: 3},
		{name: "bad-port", args: []string{"--port", "0"}, code: 3},
		{name: "password-on-command-line", args: []string{"--password", "x"}, code: 3},
		{name: "username-without-password", env: []string{redisconn.UsernameEnv + "=admin"}, code: 3},
		{name: "no-password", server: func(t *testing.T) *redistest.Server { return start(t) }, code: 2},
		{name: "requirepass", server: func(t *testing.T) *redistest.Server { return start(t, "requirepass "+pwDefault) },
			env: []string{redisconn.PasswordEnv + "=" + pwDefault}, code: 0},
		{name: "requirepass-no-credentials", server: func(t *testing.T) *redistest.Server { return start(t, "requirepass "+pwDefault) }, code: 0},
		{name: "debug-command-yes", server: func(t *testing.T) *redistest.Server {
			return start(t, "requirepass "+pwDefault, "enable-debug-command yes")
		}, env: []string{redisconn.PasswordEnv + "=" + pwDefault}, code: 1},
		{name: "acl-users", server: func(t *testing.T) *redistest.Server { return start(t, aclConfig...) },
			env: []string{redisconn.UsernameEnv + "=admin", redisconn.PasswordEnv + "=" + pwAdmin}, args: []string{"--admin-user", "admin"}, code: 2},
		{name: "sentinel-open", server: func(t *testing.T) *redistest.Server {
			return redistest.Start(t, redistest.Spec{Sentinel: true})
		}, code: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{bin}, tc.args...)
			port := ""
			if tc.server != nil {
				port = strconv.Itoa(tc.server(t).Port)
				args = append(args, "--port", port)
			}
			// A clean environment apart from the case's own: the test
			// runner's REDIS_* variables must not leak in.
			env := append([]string{redisconn.PasswordEnv + "=", redisconn.UsernameEnv + "=", "REDIS_HOST=", "REDIS_PORT="}, tc.env...)
			r := bintest.Run(t, 15*time.Second, env, args...)
			out := r.Stdout
			if port != "" {
				out = strings.ReplaceAll(out, ":"+port, ":{{PORT}}")
			}
			file := testenv.Testdata(t, "auth", "golden", tc.name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if out != string(want) || r.Code != tc.code || r.Stderr != "" {
				t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant exit %d, stdout:\n%s", r.Code, r.Stderr, out, tc.code, want)
			}
			assertNoSecrets(t, r.Stdout)
		})
	}
}
