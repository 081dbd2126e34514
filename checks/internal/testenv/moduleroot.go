package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// ModuleRoot returns the directory of the module's go.mod, found upward
// from this file, so that a test reaches the repository's files the same
// way from any package.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the module: no caller information")
	}
	dir := filepath.Dir(file)
	for range 16 { // a bound: the module is a few levels up
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	t.Fatalf("no go.mod above %s", filepath.Dir(file))
	return ""
}
