package redistest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// Expected are the labels Binaries should find after scripts/setup: the
// system's 7.0 (Debian 12) and what scripts/setup-redis-versions fetches.
// Redis 6.2, 7.2 and Valkey 7.2 are in no Debian suite; Valkey 8 reports
// redis_version 7.2.
var Expected = []string{"6.0", "7.0", "8.0", "valkey-8", "valkey-8.1"}

var (
	binariesOnce sync.Once
	binaries     map[string]string
)

// Binaries returns every redis-server that runs here, by version label: the
// system's (labelled with its major.minor, e.g. "7.0") and each wrapper that
// scripts/setup-redis-versions unpacked under .cache/redis/<label>/ (e.g.
// "6.0", "valkey-8"). Tests iterate over it to check a behaviour on every
// version. A label already taken by the system server keeps the system one.
// It skips the test (fails in strict mode) when no server runs at all.
func Binaries(t testing.TB) map[string]string {
	t.Helper()
	binariesOnce.Do(func() { binaries = findBinaries() })
	if len(binaries) == 0 {
		testenv.Skip(t, "no redis-server runs here; scripts/setup installs it")
	}
	out := make(map[string]string, len(binaries))
	for k, v := range binaries {
		out[k] = v
	}
	return out
}

func findBinaries() map[string]string {
	found := map[string]string{}
	if p, err := exec.LookPath("redis-server"); err == nil {
		if v := versionOf(p); v != "" {
			found[majorMinor(v)] = p
		}
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return found
	}
	cache := filepath.Join(filepath.Dir(file), "..", "..", "..", ".cache", "redis")
	wrappers, _ := filepath.Glob(filepath.Join(cache, "*", "redis-server"))
	for _, w := range wrappers {
		label := filepath.Base(filepath.Dir(w))
		if _, taken := found[label]; taken {
			continue
		}
		if versionOf(w) != "" {
			found[label] = filepath.Clean(w)
		}
	}
	return found
}

// versionOf returns the v= field of `redis-server --version`, or "" when the
// binary does not run (missing libraries, wrong architecture).
func versionOf(bin string) string {
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		return ""
	}
	for _, f := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return v
		}
	}
	return ""
}

// majorMinor turns "7.0.15" into "7.0".
func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}
