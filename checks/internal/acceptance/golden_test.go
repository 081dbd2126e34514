package acceptance

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from this run")

// Timings vary from run to run; everything else in these outputs is fixed
// by the topology (documentation addresses, standard ports).
var elapsed = regexp.MustCompile(`elapsed=[0-9.]+s`)

// The vantage line names the host the tests run on.
var vantage = regexp.MustCompile(`vantage point: [^,\n]+,`)

// golden compares a cell's exact output and exit code with
// testdata/<name>.golden.
func golden(t *testing.T, name string, c *Cell) {
	t.Helper()
	got := fmt.Sprintf("exit %d\n%s", c.Res.Code, vantage.ReplaceAllString(elapsed.ReplaceAllString(c.Res.Stdout, "elapsed=Ns"), "vantage point: HOST,"))
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s / %s: output differs from %s\n--- want\n%s--- got\n%s", c.Deployment, c.Column, path, want, got)
	}
}
