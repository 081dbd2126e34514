package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTestdata(t *testing.T) {
	root := ModuleRoot(t)
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("ModuleRoot %s has no go.mod: %v", root, err)
	}
	p := Testdata(t, "exposure", "loopback-refused.golden")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("Testdata: %v", err)
	}
	if want := filepath.Join(root, "testdata", "exposure", "loopback-refused.golden"); p != want {
		t.Fatalf("Testdata = %s, want %s", p, want)
	}
}
