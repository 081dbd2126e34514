package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// ModuleRoot (from this file's place) and Testdata (from the working
// directory) agree.
func TestModuleRoot(t *testing.T) {
	root := ModuleRoot(t)
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("ModuleRoot %s has no go.mod: %v", root, err)
	}
	if want := filepath.Join(root, "testdata", "exposure"); Testdata(t, "exposure") != want {
		t.Fatalf("Testdata = %s, want %s", Testdata(t, "exposure"), want)
	}
}
