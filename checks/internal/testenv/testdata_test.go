package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTestdata(t *testing.T) {
	dir := Testdata(t, "firewall")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("%s: %v", dir, err)
	}
	if filepath.Base(filepath.Dir(dir)) != "testdata" {
		t.Errorf("%s is not under testdata", dir)
	}
}
