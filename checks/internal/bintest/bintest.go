// Package bintest builds the collection's binaries once per test process and
// runs them as a user or the Sensu agent would, so tests can assert the exact
// output and exit code.
package bintest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

var (
	mu    sync.Mutex
	built = map[string]string{}
	dir   string
)

// Build compiles cmd/<name> and returns the binary's path. It is built once
// per test process and removed when the process ends (the directory lives
// under os.TempDir and is named after the process).
func Build(t testing.TB, name string) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if p, ok := built[name]; ok {
		return p
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "redis-checks-bin-")
		if err != nil {
			t.Fatal(err)
		}
		dir = d
	}
	root := moduleRoot(t)
	out := filepath.Join(dir, name)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// -buildvcs=false: a checkout owned by another user (CI, sudo) makes
	// git refuse, and the tests do not need the stamp.
	cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", out, "./cmd/"+name)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/%s: %v\n%s", name, err, b)
	}
	built[name] = out
	return out
}

// Cleanup removes the built binaries; call it from TestMain after m.Run.
func Cleanup() {
	mu.Lock()
	defer mu.Unlock()
	if dir != "" {
		os.RemoveAll(dir)
		dir = ""
		built = map[string]string{}
	}
}

func moduleRoot(t testing.TB) string { return testenv.ModuleRoot(t) }

// Main is the TestMain of every package that builds binaries: it runs the
// tests, then removes the binaries Build made.
func Main(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// Result is what a run of a binary produced.
type Result struct {
	Stdout, Stderr string
	Code           int
	Elapsed        time.Duration
}

// Run runs a command (the binary, optionally behind a prefix such as
// `ip netns exec NS`) with stdin from /dev/null, as the agent does without
// `stdin: true`, and the given extra environment. It fails the test if the
// process outlives limit.
func Run(t testing.TB, limit time.Duration, env []string, argv ...string) Result {
	t.Helper()
	return RunStdin(t, limit, env, nil, argv...)
}

// RunStdin is Run with stdin as given (nil: /dev/null).
func RunStdin(t testing.TB, limit time.Duration, env []string, stdin []byte, argv ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	start := time.Now()
	err := cmd.Run()
	r := Result{Stdout: out.String(), Stderr: errb.String(), Elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%v did not finish within %v", argv, limit)
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running %v: %v", argv, err)
	}
	return r
}
