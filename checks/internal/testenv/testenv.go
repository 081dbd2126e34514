// Package testenv decides whether a test that needs something from the
// machine (root, a tool, a redis-server) can run here.
//
// Plain `go test ./...` must pass anywhere, so such tests skip with a clear
// message. The project's full test command sets REDIS_CHECKS_STRICT=1, and
// then a missing prerequisite fails the test instead: a green run there means
// every test really ran.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// StrictEnv names the variable that turns skips into failures.
const StrictEnv = "REDIS_CHECKS_STRICT"

// Strict reports whether missing prerequisites must fail tests.
func Strict() bool { return os.Getenv(StrictEnv) == "1" }

// Skip skips the test, or fails it in strict mode.
func Skip(t testing.TB, format string, args ...any) {
	t.Helper()
	if Strict() {
		t.Fatalf("prerequisite missing ("+StrictEnv+"=1): "+format, args...)
	}
	t.Skipf("skipped: "+format, args...)
}

// RequireRoot skips unless the test runs as root (network namespaces and
// firewall rules need CAP_NET_ADMIN).
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "needs root (network namespaces, firewall rules); run the README's test command")
	}
}

// RequireTool skips unless each named program is on PATH and returns the
// path of the first.
func RequireTool(t testing.TB, names ...string) string {
	t.Helper()
	first := ""
	for _, n := range names {
		p, err := exec.LookPath(n)
		if err != nil {
			Skip(t, "%s not installed; scripts/setup installs it", n)
			return ""
		}
		if first == "" {
			first = p
		}
	}
	return first
}
