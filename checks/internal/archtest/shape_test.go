package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"testing"
)

// notYetShaped lists check packages that do not have the common shape yet,
// with the reason. The test fails when one has it, so the list only
// shrinks.
var notYetShaped = map[string]string{}

// TestCheckShape holds every check package to one shape, so that a finding
// is two hops from its binary (cmd/<bin> → checks/<pkg>/judge.go):
//
//	type Options …                         the settings, bound to flags
//	func New() plugin.Check                what the main hands to plugin.Main
//	type Facts …                           what the gather step observed
//	func Judge(Options, Facts) result.Result   in judge.go, without I/O
func TestCheckShape(t *testing.T) {
	l := classify(listPackages(t))
	byPath := map[string]pkg{}
	for _, p := range listPackages(t) {
		byPath[p.rel()] = p
	}
	var checks []string
	for c := range l.checks {
		checks = append(checks, c)
	}
	sort.Strings(checks)
	for _, c := range checks {
		problems := shapeProblems(t, byPath[c])
		_, pending := notYetShaped[c]
		switch {
		case pending && len(problems) == 0:
			t.Errorf("%s has the common shape now: remove it from notYetShaped", c)
		case !pending:
			for _, pr := range problems {
				t.Errorf("%s: %s", c, pr)
			}
		}
	}
}

// shapeProblems parses the package's files and says what of the shape is
// missing.
func shapeProblems(t *testing.T, p pkg) []string {
	t.Helper()
	fset := token.NewFileSet()
	types := map[string]bool{}
	var newOK, judgeOK bool
	judgeFile := ""
	for _, name := range p.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parsing %s: %v", name, err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok {
						types[ts.Name.Name] = true
					}
				}
			case *ast.FuncDecl:
				if d.Recv != nil {
					continue
				}
				switch d.Name.Name {
				case "New":
					newOK = len(d.Type.Params.List) == 0 && results(d) == "plugin.Check"
				case "Judge":
					judgeFile = name
					judgeOK = params(d) == "Options,Facts" && results(d) == "result.Result"
				}
			}
		}
	}
	var out []string
	for _, want := range []string{"Options", "Facts"} {
		if !types[want] {
			out = append(out, "declares no type "+want)
		}
	}
	if !newOK {
		out = append(out, "has no func New() plugin.Check")
	}
	if !judgeOK {
		out = append(out, "has no func Judge(Options, Facts) result.Result")
	} else if judgeFile != "judge.go" {
		out = append(out, "declares Judge in "+judgeFile+", not judge.go")
	}
	return out
}

// typeString renders the simple types the shape uses: Name or pkg.Name.
func typeString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			return x.Name + "." + e.Sel.Name
		}
	}
	return "?"
}

func params(d *ast.FuncDecl) string {
	s := ""
	for _, f := range d.Type.Params.List {
		n := len(f.Names)
		if n == 0 {
			n = 1
		}
		for range n {
			if s != "" {
				s += ","
			}
			s += typeString(f.Type)
		}
	}
	return s
}

func results(d *ast.FuncDecl) string {
	if d.Type.Results == nil || len(d.Type.Results.List) != 1 || len(d.Type.Results.List[0].Names) > 1 {
		return ""
	}
	return typeString(d.Type.Results.List[0].Type)
}

// TestMainsAreOneLine: every main is `plugin.Main(<check>.New())`, so the
// binary names its check package and nothing else happens there.
func TestMainsAreOneLine(t *testing.T) {
	l := classify(listPackages(t))
	fset := token.NewFileSet()
	for r, p := range l.mains {
		ok := false
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatalf("parsing %s: %v", name, err)
			}
			for _, d := range f.Decls {
				fd, isFunc := d.(*ast.FuncDecl)
				if !isFunc || fd.Name.Name != "main" || fd.Body == nil || len(fd.Body.List) != 1 {
					continue
				}
				es, isExpr := fd.Body.List[0].(*ast.ExprStmt)
				if !isExpr {
					continue
				}
				call, isCall := es.X.(*ast.CallExpr)
				if !isCall || typeString(call.Fun) != "plugin.Main" || len(call.Args) != 1 {
					continue
				}
				inner, isCall := call.Args[0].(*ast.CallExpr)
				if !isCall || len(inner.Args) != 0 {
					continue
				}
				if sel, isSel := inner.Fun.(*ast.SelectorExpr); isSel && sel.Sel.Name == "New" {
					ok = true
				}
			}
		}
		if !ok {
			t.Errorf("%s: main is not the one line plugin.Main(<check>.New())", r)
		}
	}
}
