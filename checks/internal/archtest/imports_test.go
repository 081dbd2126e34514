// Package archtest holds the layering rules of docs/architecture.md as tests,
// so the picture a newcomer reads stays true.
package archtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

const module = "github.com/sensu-community/sensu-redis-security-checks"

// pkg is what `go list -json` says of one package of the module.
type pkg struct {
	ImportPath   string
	Dir          string
	Imports      []string // non-test imports
	GoFiles      []string
	TestImports  []string
	XTestImports []string
}

// rel is a package path relative to the module ("checks/bind").
func (p pkg) rel() string { return strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/") }

// own returns the module's packages among imports, relative.
func own(imports []string) []string {
	var out []string
	for _, i := range imports {
		if strings.HasPrefix(i, module+"/") {
			out = append(out, strings.TrimPrefix(i, module+"/"))
		}
	}
	return out
}

func repoRoot(t *testing.T) string {
	t.Helper()
	return testenv.ModuleRoot(t)
}

var (
	listOnce sync.Once
	listed   []pkg
	listErr  error
)

// listPackages runs `go list` once per test process.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	listOnce.Do(func() { listed, listErr = goList(t) })
	if listErr != nil {
		t.Fatal(listErr)
	}
	return listed
}

func goList(t *testing.T) ([]pkg, error) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("skipped: the go command is not on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Without VCS stamping, so that a checkout owned by another user (git
	// refuses to read it) lists as well.
	cmd := exec.CommandContext(ctx, "go", "list", "-buildvcs=false", "-json", "./...")
	cmd.Dir = repoRoot(t)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -json ./...: %v: %s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("decoding go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		return nil, fmt.Errorf("go list found only %d packages; is the module root right?", len(pkgs))
	}
	return pkgs, nil
}

// layers sorts the module's packages into the layers of
// docs/architecture.md.
type layers struct {
	mains    map[string]pkg // cmd/*
	checks   map[string]bool
	internal map[string]bool // checks/internal/*: test helpers
}

func classify(pkgs []pkg) layers {
	l := layers{mains: map[string]pkg{}, checks: map[string]bool{}, internal: map[string]bool{}}
	for _, p := range pkgs {
		r := p.rel()
		switch {
		case strings.HasPrefix(r, "cmd/"):
			l.mains[r] = p
		case strings.HasPrefix(r, "checks/internal/"):
			l.internal[r] = true
		}
	}
	// A check package is what a main runs: the one project package a main
	// imports besides the runner.
	for _, m := range l.mains {
		for _, i := range own(m.Imports) {
			if i != "checks/plugin" {
				l.checks[i] = true
			}
		}
	}
	return l
}

// allowed lists, per package, the only project packages it may import.
// Packages not named here follow the general rules tested below.
var allowed = map[string][]string{
	"checks/result": {},
	"checks/plugin": {"checks/result"},
	// redisconn binds its connection options to flags, so it knows the
	// runner's option types; nothing else below the checks does. Its
	// connections read through the RESP guard of checks/resp, and
	// checks/neterr tells its failures apart.
	"checks/redisconn": {"checks/plugin", "checks/resp", "checks/neterr"},
	// neterr knows the RESP guard's errors and nothing else of the module.
	"checks/neterr":    {"checks/resp"},
	"checks/redisport": {},
}

func TestImportRules(t *testing.T) {
	pkgs := listPackages(t)
	l := classify(pkgs)
	if len(l.mains) == 0 || len(l.checks) == 0 {
		t.Fatalf("found %d mains and %d check packages; the layout changed", len(l.mains), len(l.checks))
	}
	for _, p := range pkgs {
		r := p.rel()
		imports := own(p.Imports)
		if want, ok := allowed[r]; ok {
			for _, i := range imports {
				if !contains(want, i) {
					t.Errorf("%s imports %s; it may import only %v", r, i, want)
				}
			}
		}
		if _, isMain := l.mains[r]; isMain {
			var checks []string
			for _, i := range imports {
				switch {
				case i == "checks/plugin":
				case l.checks[i]:
					checks = append(checks, i)
				default:
					t.Errorf("%s imports %s: a main wires one check package to the runner and nothing else", r, i)
				}
			}
			if len(checks) != 1 {
				t.Errorf("%s imports check packages %v; a main runs exactly one", r, checks)
			}
			continue
		}
		for _, i := range imports {
			if l.checks[i] && !l.internal[r] {
				t.Errorf("%s imports the check package %s: checks share code through library packages, never through each other", r, i)
			}
			if strings.HasPrefix(i, "cmd/") {
				t.Errorf("%s imports %s", r, i)
			}
			if l.internal[i] && !l.internal[r] {
				t.Errorf("%s imports the test helper %s outside a test", r, i)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestLayerListIsCurrent keeps the table in docs/architecture.md honest
// about which packages are checks.
func TestLayerListIsCurrent(t *testing.T) {
	l := classify(listPackages(t))
	var got []string
	for c := range l.checks {
		got = append(got, c)
	}
	sort.Strings(got)
	doc := readDoc(t)
	for _, c := range got {
		if !strings.Contains(doc, "`"+c+"`") {
			t.Errorf("docs/architecture.md does not name the check package %s", c)
		}
	}
	for m := range l.mains {
		if !strings.Contains(doc, "`"+m+"`") && !strings.Contains(doc, "`cmd/*`") {
			t.Errorf("docs/architecture.md does not describe %s", m)
		}
	}
}

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "architecture.md"))
	if err != nil {
		t.Fatalf("reading docs/architecture.md: %v", err)
	}
	return string(b)
}
