package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// effect is a call or value that reaches outside the check's result: the
// terminal, the process exit code, the environment.
type effect struct {
	pkg, name string
	why       string
}

// forbidden may appear only in the runner (checks/plugin) and the mains:
// logic returns data, the runner renders it and exits, and the environment
// reaches a check only through the runner's options.
var forbidden = []effect{
	{"os", "Stdout", "output is written by checks/result through the runner"},
	{"os", "Stderr", "stderr must stay quiet: the agent pastes it into the alert"},
	{"os", "Exit", "only the runner maps a state to an exit code"},
	{"fmt", "Print", "output is written by checks/result through the runner"},
	{"fmt", "Printf", "output is written by checks/result through the runner"},
	{"fmt", "Println", "output is written by checks/result through the runner"},
	{"log", "*", "stderr must stay quiet"},
	{"os", "Getenv", "the environment reaches a check through the runner's options"},
	{"os", "LookupEnv", "the environment reaches a check through the runner's options"},
	{"os", "Environ", "the environment reaches a check through the runner's options"},
}

// exceptions are known uses outside the runner, each with its reason. The
// test fails when one is no longer there, so the list only shrinks.
var exceptions = map[string]string{
	"checks/firewall/frontend/firewalld/dbus.go: os.Getenv": "the system bus address follows the D-Bus convention, not a check option",
}

func TestNoSideEffectsOutsideTheRunner(t *testing.T) {
	root := repoRoot(t)
	seen := map[string]bool{}
	fset := token.NewFileSet()
	for _, p := range listPackages(t) {
		r := p.rel()
		if r == "checks/plugin" || strings.HasPrefix(r, "cmd/") || strings.HasPrefix(r, "checks/internal/") {
			continue
		}
		for _, name := range p.GoFiles {
			path := filepath.Join(p.Dir, name)
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatalf("parsing %s: %v", path, err)
			}
			relFile, _ := filepath.Rel(root, path)
			for _, use := range effectsIn(f) {
				key := fmt.Sprintf("%s: %s.%s", filepath.ToSlash(relFile), use.pkg, use.name)
				if _, ok := exceptions[key]; ok {
					seen[key] = true
					continue
				}
				t.Errorf("%s at %s: %s", key, fset.Position(use.pos), use.why)
			}
		}
	}
	var stale []string
	for k := range exceptions {
		if !seen[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(stale)
	for _, k := range stale {
		t.Errorf("exception %q is no longer used: remove it from the list", k)
	}
}

type use struct {
	effect
	pos token.Pos
}

// effectsIn finds the forbidden selectors of one file, through whatever
// name the file imports each package under.
func effectsIn(f *ast.File) []use {
	names := map[string]string{} // local name -> import path
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		local := filepath.Base(path)
		if imp.Name != nil {
			local = imp.Name.Name
		}
		names[local] = path
	}
	var out []use
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		path, ok := names[id.Name]
		if !ok {
			return true
		}
		for _, e := range forbidden {
			if e.pkg == path && (e.name == "*" || e.name == sel.Sel.Name) {
				out = append(out, use{effect{e.pkg, sel.Sel.Name, e.why}, sel.Pos()})
			}
		}
		return true
	})
	return out
}
