package nftjson

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// The captured dumps decode as encoding/json decoded them.
func TestDecodeCapturedDumps(t *testing.T) {
	files, _ := filepath.Glob(testenv.Testdata(t, "firewall", "scenarios", "*", "nft.json"))
	if len(files) < 6 {
		t.Fatalf("found %d captured dumps", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decode(string(data))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		want, err := old_parseStd(data)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decoded differently from encoding/json", f)
		}
	}
}

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

// FuzzFastSameAsStd checks that whatever the single-pass reader accepts,
// encoding/json decodes to the same ruleset.
// addSeeds seeds a fuzz target with the objects of the captured dumps,
// one small document each. Whole dumps (1-4 KB) made the fuzzer stall:
// every mutant that finds new coverage is minimized before fuzzing goes
// on, the minimizer's work grows with the square of the input's length,
// and on a dump it ran out its whole -fuzzminimizetime (60 s) each time,
// with the exec count frozen. The dumps themselves are read whole by the
// tests above.
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

// FuzzDecodeSameAsEncodingJSON: whatever decode reads, the encoding/json
// decoder it replaced read the same; whatever it refuses, that decoder
// refused too, bar the unusual JSON refused on purpose.
func FuzzDecodeSameAsEncodingJSON(f *testing.F) {
	addSeeds(f)
	f.Add([]byte(`{"x": {"y": [1, 2.5, -0, true, null]}, "nftables": [{"metainfo": {"json_schema_version": 1}}, {"chain": {"family": "netdev", "table": "t", "name": "c", "handle": 2, "type": "filter", "hook": "ingress", "prio": -500, "dev": ["eth0", "eth1"], "policy": "accept"}}, {"map": {"family": "inet", "table": "t", "name": "m", "type": ["ipv4_addr", "inet_service"], "map": "verdict", "flags": "interval", "elem": [[{"concat": [{"prefix": {"addr": "192.0.2.0", "len": 24}}, {"range": [1, 1024]}]}, {"accept": null}]]}}, {"rule": {"family": "inet", "table": "t", "chain": "c", "handle": 9, "expr": [{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}, {"mangle": {"key": {"meta": {"key": "mark"}}, "value": {"^": [{"&": [{"meta": {"key": "mark"}}, 4294967040]}, 1]}}}, {"match": {"left": {"fib": {"result": "type", "flags": ["daddr", 1]}}, "right": "local"}}, {"match": {"op": "!=", "left": {"osf": {"key": "name"}}, "right": {"a": 1, "b": {"c": "<&>"}}}}, {"xt": {"type": "match", "name": "multiport"}}, {"limit": {"rate": 5, "per": "minute"}}, {"counter": {"packets": 0, "bytes": 0}}, {"vmap": {"key": {"payload": {"base": "nh", "offset": 12, "len": 32}}, "data": "@m"}}, null, {}, {"jump": {"target": "x\u00e9\n"}}]}}, {"flowtable": {"name": "f"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := decode(string(data))
		want, stdErr := old_parseStd(data)
		switch {
		case err == nil && stdErr != nil:
			t.Fatalf("read, but rejected by encoding/json: %v", stdErr)
		case err == nil && !reflect.DeepEqual(got, want):
			t.Fatalf("decoded differently:\n%#v\n%#v", got, want)
		case err != nil && stdErr == nil && !errors.Is(err, ErrUnusual):
			t.Fatalf("refused (%v), but read by encoding/json", err)
		}
	})
}
