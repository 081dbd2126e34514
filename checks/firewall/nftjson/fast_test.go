package nftjson

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// The captured dumps are read by the single-pass reader, not left to
// encoding/json, and give what encoding/json gives.
func TestFastReadsCapturedDumps(t *testing.T) {
	files, _ := filepath.Glob(testenv.Testdata(t, "firewall", "scenarios", "*", "nft.json"))
	if len(files) < 6 {
		t.Fatalf("found %d captured dumps", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseFast(string(data))
		if !ok {
			t.Errorf("%s: the single-pass reader gave up", f)
			continue
		}
		want, err := parseStd(data)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decoded differently from encoding/json", f)
		}
	}
}

// Inputs the single-pass reader must leave to encoding/json, which reads
// them differently from a plain reading (or rejects them).
func TestFastGivesUp(t *testing.T) {
	for _, in := range []string{
		`{"nftables": [{"table": {"family": "ip", "name": "a", "name": "b"}}]}`,
		`{"nftables": [{"table": {"family": "ip", "Name": "a"}}]}`,
		`{"nftables": [{"table": {"family": "ip", "n\u0061me": "a"}}]}`,
		`{"nft\u0061bles": [{"table": {"family": "ip", "name": "a"}}]}`,
		`{"nftables": [{"table": {"family": "ip", "name": "a", "handle": 1.5}}]}`,
		`{"nftables": [{"rule": {"family": "ip", "table": "t", "chain": "c", "expr": [{"match": {"op": "==", "left": 1e999, "right": 1}}]}}]}`,
		`{"nftables": [{"table": {"family": "ip", "name": "a"}},]}`,
		`{"nftables": [{"table": {"family": "ip", "name": "a"}}]} x`,
		"{\"nftables\": [{\"table\": {\"family\": \"ip\", \"name\": \"a\tb\"}}]}",
	} {
		if _, ok := parseFast(in); ok {
			t.Errorf("%s: read by the single-pass reader", in)
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

func FuzzFastSameAsStd(f *testing.F) {
	addSeeds(f)
	f.Add([]byte(`{"x": {"y": [1, 2.5, -0, true, null]}, "nftables": [{"metainfo": {"json_schema_version": 1}}, {"chain": {"family": "netdev", "table": "t", "name": "c", "handle": 2, "type": "filter", "hook": "ingress", "prio": -500, "dev": ["eth0", "eth1"], "policy": "accept"}}, {"map": {"family": "inet", "table": "t", "name": "m", "type": ["ipv4_addr", "inet_service"], "map": "verdict", "flags": "interval", "elem": [[{"concat": [{"prefix": {"addr": "192.0.2.0", "len": 24}}, {"range": [1, 1024]}]}, {"accept": null}]]}}, {"rule": {"family": "inet", "table": "t", "chain": "c", "handle": 9, "expr": [{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}, {"mangle": {"key": {"meta": {"key": "mark"}}, "value": {"^": [{"&": [{"meta": {"key": "mark"}}, 4294967040]}, 1]}}}, {"match": {"left": {"fib": {"result": "type", "flags": ["daddr", 1]}}, "right": "local"}}, {"match": {"op": "!=", "left": {"osf": {"key": "name"}}, "right": {"a": 1, "b": {"c": "<&>"}}}}, {"xt": {"type": "match", "name": "multiport"}}, {"limit": {"rate": 5, "per": "minute"}}, {"counter": {"packets": 0, "bytes": 0}}, {"vmap": {"key": {"payload": {"base": "nh", "offset": 12, "len": 32}}, "data": "@m"}}, null, {}, {"jump": {"target": "x\u00e9\n"}}]}}, {"flowtable": {"name": "f"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := parseFast(string(data))
		if !ok {
			return
		}
		want, err := parseStd(data)
		if err != nil {
			t.Fatalf("read by the single-pass reader, rejected by encoding/json: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoded differently:\n%#v\n%#v", got, want)
		}
	})
}
