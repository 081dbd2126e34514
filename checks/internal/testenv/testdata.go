package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// Testdata is the path of elem under the module's testdata directory,
// found from the test's working directory (its package's directory) by
// walking up to go.mod, so a test does not count ../ to reach it.
func Testdata(t testing.TB, elem ...string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("testdata: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(append([]string{dir, "testdata"}, elem...)...)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("testdata: no go.mod above the test's directory")
		}
		dir = parent
	}
}
