package nftjson

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// JSON that encoding/json would read in its own way is refused as
// unusual, not guessed at; invalid JSON is a syntax error.
func TestUnusualJSON(t *testing.T) {
	for _, in := range []string{
		`{"nftables": [{"table": {"family": "ip", "name": "a", "name": "b"}}]}`,
		`{"nftables": [{"table": {"family": "ip", "Name": "a"}}]}`,
		`{"nftables": [{"table": {"family": "ip", "n\u0061me": "a"}}]}`,
		`{"nft\u0061bles": [{"table": {"family": "ip", "name": "a"}}]}`,
		`{"nftables": [{"table": {"family": "ip", "name": "a", "handle": 1.5}}]}`,
		`{"nftables": [{"rule": {"family": "ip", "table": "t", "chain": "c", "expr": [{"match": {"op": "==", "left": 1e999, "right": 1}}]}}]}`,
		"{\"nftables\": [{\"table\": {\"family\": \"ip\", \"name\": \"a\"}}]}" + strings.Repeat("[", 300) + strings.Repeat("]", 300),
	} {
		if _, err := Parse(strings.NewReader(in)); !errors.Is(err, ErrUnusual) && !errors.Is(err, ErrShape) {
			t.Errorf("%s: %v, want ErrUnusual or ErrShape", in, err)
		}
	}
	for _, in := range []string{
		`{"nftables": [{"table": {"family": "ip", "name": "a"}},]}`,
		"{\"nftables\": [{\"table\": {\"family\": \"ip\", \"name\": \"a\tb\"}}]}",
		`{"nftables": [{"table": {"family": "ip", "name": "a\q"}}]}`,
		`{"nftables": [{"table": {"family": "ip", "name": "a"}}`,
		`{"nftables": [tru]}`,
		`{"nftables": [-]}`,
	} {
		if _, err := Parse(strings.NewReader(in)); !errors.Is(err, ErrSyntax) {
			t.Errorf("%s: %v, want ErrSyntax", in, err)
		}
	}
}

// addSeeds seeds a fuzz target with the objects of the captured dumps,
// one small document each. Whole dumps (1-4 KB) made the fuzzer stall:
// every mutant that finds new coverage is minimized before fuzzing goes
// on, the minimizer's work grows with the square of the input's length,
// and on a dump it ran out its whole -fuzzminimizetime (60 s) each time,
// with the exec count frozen. The dumps themselves are read whole by
// TestParseCapturedDumps.
func addSeeds(f *testing.F) {
	files, _ := filepath.Glob(testenv.Testdata(f, "firewall", "scenarios", "*", "nft.json"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var doc struct {
			Nftables []json.RawMessage `json:"nftables"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			f.Fatalf("%s: %v", file, err)
		}
		for _, o := range doc.Nftables {
			f.Add([]byte(`{"nftables": [` + string(o) + `]}`))
		}
	}
}
