package nftjson

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

func TestParseCapturedDumps(t *testing.T) {
	files, _ := filepath.Glob(testenv.Testdata(t, "firewall", "scenarios", "*", "nft.json"))
	if len(files) < 6 {
		t.Fatalf("found %d captured dumps", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := Parse(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if rs.SchemaVersion != 1 {
			t.Errorf("%s: schema version %d", f, rs.SchemaVersion)
		}
		for _, r := range rs.Rules {
			for _, st := range r.Stmts {
				// limit is left to the caller (it is history-dependent).
				if o, ok := st.(OtherStmt); ok && o.Kind != "limit" {
					t.Errorf("%s: rule %d: statement %s not decoded", f, r.Handle, o.Kind)
				}
			}
		}
	}
}

// The native scenario has a verdict map, named sets, a mark set and a
// reject: check they decode to the typed nodes.
func TestDecodeNativeScenario(t *testing.T) {
	data, err := os.ReadFile(testenv.Testdata(t, "firewall", "scenarios", "nft-native", "nft.json"))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, r := range rs.Rules {
		for _, st := range r.Stmts {
			switch s := st.(type) {
			case VMap:
				if _, ok := s.Data.(AnonSet); ok {
					kinds["vmap"]++
				}
			case Match:
				if _, ok := s.Right.(SetRef); ok {
					kinds["setref"]++
				}
			case Mangle:
				kinds["mangle"]++
			case Reject:
				kinds["reject"]++
			}
		}
	}
	want := map[string]int{"vmap": 1, "setref": 2, "mangle": 1, "reject": 1}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%s: %d, want %d", k, kinds[k], n)
		}
	}
	var set *Set
	for _, s := range rs.Sets {
		if s.Name == "trusted4" {
			set = s
		}
	}
	if set == nil || !set.HasFlag("interval") || len(set.Elems) != 2 {
		t.Fatalf("trusted4 = %+v", set)
	}
	if p, ok := set.Elems[0].(Prefix); !ok || p.Addr != "192.0.2.0" || p.Len != 26 {
		t.Errorf("first element = %#v", set.Elems[0])
	}
}

// Scalars and lists are both accepted where nft may write either.
func TestScalarOrList(t *testing.T) {
	in := `{"nftables": [{"set": {"family": "inet", "name": "s", "table": "t", "type": "ipv4_addr", "flags": "interval", "elem": "192.0.2.1"}},
	{"chain": {"family": "netdev", "table": "t", "name": "c", "type": "filter", "hook": "ingress", "prio": 0, "dev": "eth0"}},
	{"rule": {"family": "inet", "table": "t", "chain": "c", "expr": [{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": "new"}}, {"accept": null}]}}]}`
	rs, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if s := rs.Sets[0]; len(s.Flags) != 1 || len(s.Elems) != 1 {
		t.Errorf("set = %+v", s)
	}
	if c := rs.Chains[0]; len(c.Devices) != 1 || c.Devices[0] != "eth0" {
		t.Errorf("chain = %+v", c)
	}
}

func TestUnknownKindsAreKept(t *testing.T) {
	in := `{"nftables": [{"flowtable": {"name": "f"}},
	{"rule": {"family": "inet", "table": "t", "chain": "c", "expr": [{"match": {"op": "==", "left": {"osf": {"key": "name"}}, "right": "Linux"}}, {"synproxy": {"mss": 1460}}]}}]}`
	rs, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Others) != 1 || rs.Others[0].Kind != "flowtable" {
		t.Errorf("others = %+v", rs.Others)
	}
	st := rs.Rules[0].Stmts
	if m, ok := st[0].(Match); !ok {
		t.Errorf("match: %#v", st[0])
	} else if o, ok := m.Left.(OtherExpr); !ok || o.Kind != "osf" {
		t.Errorf("left = %#v", m.Left)
	}
	if o, ok := st[1].(OtherStmt); !ok || o.Kind != "synproxy" {
		t.Errorf("statement = %#v", st[1])
	}
}

func TestErrorsHaveLineNumbers(t *testing.T) {
	cases := []struct {
		in   string
		line int
		want error
	}{
		{"{\"nftables\": [\n{\"table\": {\"family\": \"ip\"}}\n]}", 2, ErrShape},
		{"{\"nftables\": [\n{\"rule\": {\"family\": \"ip\", \"table\": \"t\", \"chain\": \"c\",\n \"expr\": [{\"jump\": {}}]}}]}", 2, ErrShape},
		{"{\"nftables\": [\n{\"table\": }", 2, nil},
		{"{\"other\": 1}", 1, ErrShape},
		{"{\"nftables\": []} {}", 1, ErrShape},
		{"[]", 1, ErrShape},
	}
	for _, c := range cases {
		_, err := Parse(strings.NewReader(c.in))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: err = %v, want SyntaxError", c.in, err)
			continue
		}
		if se.Line != c.line {
			t.Errorf("%q: line %d, want %d (%v)", c.in, se.Line, c.line, err)
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%q: %v is not %v", c.in, err, c.want)
		}
	}
}

func TestSizeLimit(t *testing.T) {
	big := strings.NewReader(`{"nftables": [` + strings.Repeat(" ", MaxSize) + `]}`)
	if _, err := Parse(big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v", err)
	}
}

// FuzzParse checks that no input panics the decoder.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Add([]byte(`{"nftables": [{"rule": {"family": "inet", "table": "t", "chain": "c", "expr": [{"vmap": {"key": {"concat": [{"payload": {"protocol": "ip", "field": "saddr"}}, {"meta": {"key": "iifname"}}]}, "data": {"set": [[{"concat": [{"prefix": {"addr": "192.0.2.0", "len": 24}}, "eth*"]}, {"goto": {"target": "x"}}]]}}}]}}]}`))
	f.Add([]byte(`{"x": {"y": [1, 2.5, -0, true, null]}, "nftables": [{"metainfo": {"json_schema_version": 1}}, {"chain": {"family": "netdev", "table": "t", "name": "c", "handle": 2, "type": "filter", "hook": "ingress", "prio": -500, "dev": ["eth0", "eth1"], "policy": "accept"}}, {"map": {"family": "inet", "table": "t", "name": "m", "type": ["ipv4_addr", "inet_service"], "map": "verdict", "flags": "interval", "elem": [[{"concat": [{"prefix": {"addr": "192.0.2.0", "len": 24}}, {"range": [1, 1024]}]}, {"accept": null}]]}}, {"rule": {"family": "inet", "table": "t", "chain": "c", "handle": 9, "expr": [{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}, {"mangle": {"key": {"meta": {"key": "mark"}}, "value": {"^": [{"&": [{"meta": {"key": "mark"}}, 4294967040]}, 1]}}}, {"match": {"left": {"fib": {"result": "type", "flags": ["daddr", 1]}}, "right": "local"}}, {"match": {"op": "!=", "left": {"osf": {"key": "name"}}, "right": {"a": 1, "b": {"c": "<&>"}}}}, {"xt": {"type": "match", "name": "multiport"}}, {"limit": {"rate": 5, "per": "minute"}}, {"counter": {"packets": 0, "bytes": 0}}, {"vmap": {"key": {"payload": {"base": "nh", "offset": 12, "len": 32}}, "data": "@m"}}, null, {}, {"jump": {"target": "x\u00e9\n"}}]}}, {"flowtable": {"name": "f"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Parse(bytes.NewReader(data))
		if err == nil && rs == nil {
			t.Fatal("nil ruleset without error")
		}
		if err == nil {
			return
		}
		// Every error locates itself, and its line is the offset's.
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("%v is not a *SyntaxError", err)
		}
		if se.Offset < 0 || se.Offset > int64(len(data)) || se.Line != 1+bytes.Count(data[:se.Offset], []byte{'\n'}) {
			t.Fatalf("%v: line %d offset %d in %d bytes", err, se.Line, se.Offset, len(data))
		}
		if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrShape) && !errors.Is(err, ErrUnusual) {
			t.Fatalf("%v: no sentinel", err)
		}
	})
}
