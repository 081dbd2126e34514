package shiptest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	"gopkg.in/yaml.v2"
)

// root is the repository's top directory.
func root(t testing.TB) string {
	t.Helper()
	return testenv.ModuleRoot(t)
}

// cmdBinaries lists the binaries in cmd/: every directory holding Go files.
func cmdBinaries(t testing.TB) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(root(t), "cmd", "*", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var names []string
	for _, d := range dirs {
		n := filepath.Base(filepath.Dir(d))
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func hasCmd(t testing.TB, name string) bool {
	t.Helper()
	for _, n := range cmdBinaries(t) {
		if n == name {
			return true
		}
	}
	return false
}

// readYAML decodes one YAML document into JSON-compatible values (YAML
// maps become map[string]any), then into v through encoding/json, so the
// types' own JSON tags apply. Unknown fields are errors.
func readYAML(data []byte, v any) error {
	var raw any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return err
	}
	j, err := toJSON(raw)
	if err != nil {
		return err
	}
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return strictJSON(b, v)
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// toJSON converts yaml.v2's map[interface{}]interface{} trees.
func toJSON(v any) (any, error) {
	switch x := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("non-string key %v", k)
			}
			c, err := toJSON(val)
			if err != nil {
				return nil, err
			}
			m[ks] = c
		}
		return m, nil
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			c, err := toJSON(val)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	return v, nil
}

func readFile(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// helpCache keeps each binary's --help output for the process.
var (
	helpMu    sync.Mutex
	helpCache = map[string]string{}
)

// helpOf builds cmd/<name> and returns its --help output. The test is
// skipped when the binary is not in cmd/ yet (failed in strict mode).
func helpOf(t *testing.T, name string) string {
	t.Helper()
	if !hasCmd(t, name) {
		testenv.Skip(t, "cmd/%s not present yet", name)
	}
	helpMu.Lock()
	defer helpMu.Unlock()
	if h, ok := helpCache[name]; ok {
		return h
	}
	bin := bintest.Build(t, name)
	r := bintest.Run(t, 30*time.Second, nil, bin, "--help")
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("%s --help: exit %d, stderr %q", name, r.Code, r.Stderr)
	}
	helpCache[name] = r.Stdout
	return r.Stdout
}

var flagRE = regexp.MustCompile(`(?m)^\s+(?:-([A-Za-z]), )?--([a-z0-9][a-z0-9-]*)`)

// helpFlags returns the long flags in --help output, with their shorthands.
func helpFlags(help string) (long map[string]bool, short map[string]bool) {
	long, short = map[string]bool{}, map[string]bool{}
	for _, m := range flagRE.FindAllStringSubmatch(help, -1) {
		long[m[2]] = true
		if m[1] != "" {
			short[m[1]] = true
		}
	}
	return long, short
}

var deadlineRE = regexp.MustCompile(`(?m)^\s+(?:-[A-Za-z], )?--([a-z-]+) string\s+deadline of the whole check.*\(default "([^"]+)"\)`)

// helpDeadline returns the runner's deadline flag and its default.
func helpDeadline(t *testing.T, help string) (string, time.Duration) {
	t.Helper()
	m := deadlineRE.FindStringSubmatch(help)
	if m == nil {
		t.Fatalf("no deadline flag in --help:\n%s", help)
	}
	d, err := time.ParseDuration(m[2])
	if err != nil {
		t.Fatal(err)
	}
	return m[1], d
}

// readYAMLLoose is readYAML without the unknown-field check, for files the
// tests model only in part.
func readYAMLLoose(data []byte, v any) error {
	var raw any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return err
	}
	j, err := toJSON(raw)
	if err != nil {
		return err
	}
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
