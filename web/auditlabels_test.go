package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sesame/internal/i18n"
)

// auditDynamic says, for each audit code the program builds as a prefix
// plus a value ("provision." + string(res.Outcome)), where the values are:
// the constants of a folder whose type is Type or whose name starts with
// Prefix. A new prefix fails the test until it is listed here.
var auditDynamic = map[string]struct {
	Dir, Type, Prefix string
	// Except are values written under another code (an applied import is
	// "import.apply", see onboarding/apply.go).
	Except []string
}{
	"person.link.": {Dir: "internal/store", Type: "TokenPurpose"},
	"provision.":   {Dir: "internal/apps", Type: "Outcome"},
	"import.":      {Dir: "onboarding", Prefix: "Status", Except: []string{"applied"}},
}

// auditPkg is one folder's parsed Go files (tests excluded).
type auditPkg struct {
	fset  *token.FileSet
	files []*ast.File
	funcs []ast.Node // every FuncDecl and FuncLit
}

func loadAuditPkg(t *testing.T, fset *token.FileSet, dir string) *auditPkg {
	t.Helper()
	p := &auditPkg{fset: fset}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		p.files = append(p.files, f)
		ast.Inspect(f, func(n ast.Node) bool {
			switch n.(type) {
			case *ast.FuncDecl, *ast.FuncLit:
				p.funcs = append(p.funcs, n)
			}
			return true
		})
	}
	return p
}

// enclosing returns the functions around pos, innermost first.
func (p *auditPkg) enclosing(pos token.Pos) []ast.Node {
	var out []ast.Node
	for _, f := range p.funcs {
		if f.Pos() <= pos && pos < f.End() {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b ast.Node) int { return int(b.Pos() - a.Pos()) })
	return out
}

// consts returns the package's string constants and variables by name,
// and those matching a type or a name prefix.
func (p *auditPkg) consts(typ, prefix string) (byName map[string]string, matching []string) {
	byName = map[string]string{}
	for _, f := range p.files {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || (g.Tok != token.CONST && g.Tok != token.VAR) {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				for i, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING || i >= len(vs.Names) {
						continue
					}
					val, _ := strconv.Unquote(lit.Value)
					name := vs.Names[i].Name
					byName[name] = val
					if id, ok := vs.Type.(*ast.Ident); (ok && typ != "" && id.Name == typ) || (prefix != "" && strings.HasPrefix(name, prefix)) {
						matching = append(matching, val)
					}
				}
			}
		}
	}
	return byName, matching
}

// writtenAuditCodes scans the module's Go code for the action of every
// audit entry it writes: the Action of a store.AuditEntry literal, followed
// through local variables, constants and the parameters of the functions
// that pass it on (manage's audit, provision's auditGone).
func writtenAuditCodes(t *testing.T, root string) map[string][]string {
	t.Helper()
	fset := token.NewFileSet()
	pkgs := map[string]*auditPkg{}
	pkg := func(dir string) *auditPkg {
		if pkgs[dir] == nil {
			pkgs[dir] = loadAuditPkg(t, fset, dir)
		}
		return pkgs[dir]
	}
	dynamic := map[string][]string{}
	for prefix, d := range auditDynamic {
		_, vals := pkg(filepath.Join(root, d.Dir)).consts(d.Type, d.Prefix)
		if len(vals) == 0 {
			t.Fatalf("no constants of %s in %s: the scan is broken", prefix, d.Dir)
		}
		for _, v := range vals {
			if !slices.Contains(d.Except, v) {
				dynamic[prefix] = append(dynamic[prefix], v)
			}
		}
	}
	codes := map[string][]string{}
	var resolve func(p *auditPkg, e ast.Expr, depth int) []string
	resolve = func(p *auditPkg, e ast.Expr, depth int) []string {
		where := fset.Position(e.Pos()).String()
		if depth > 8 {
			t.Errorf("%s: the audit action goes through too many hops to follow", where)
			return nil
		}
		switch x := e.(type) {
		case *ast.BasicLit:
			if v, err := strconv.Unquote(x.Value); err == nil && x.Kind == token.STRING {
				return []string{v}
			}
		case *ast.ParenExpr:
			return resolve(p, x.X, depth+1)
		case *ast.BinaryExpr:
			if lit, ok := x.X.(*ast.BasicLit); ok && x.Op == token.ADD && lit.Kind == token.STRING {
				prefix, _ := strconv.Unquote(lit.Value)
				vals, ok := dynamic[prefix]
				if !ok {
					t.Errorf("%s: audit action %q + a value: list its values in auditDynamic", where, prefix)
					return nil
				}
				var out []string
				for _, v := range vals {
					out = append(out, prefix+v)
				}
				return out
			}
		case *ast.Ident:
			if consts, _ := p.consts("", ""); consts[x.Name] != "" {
				return []string{consts[x.Name]}
			}
			var out []string
			found := false
			for _, fn := range p.enclosing(x.Pos()) {
				// Assignments to the name inside the function.
				ast.Inspect(fn, func(n ast.Node) bool {
					if as, ok := n.(*ast.AssignStmt); ok && len(as.Lhs) == len(as.Rhs) {
						for i, l := range as.Lhs {
							if id, ok := l.(*ast.Ident); ok && id.Name == x.Name {
								found = true
								out = append(out, resolve(p, as.Rhs[i], depth+1)...)
							}
						}
					}
					return true
				})
				if found {
					return out
				}
				// A parameter: the arguments of the function's calls.
				var ft *ast.FuncType
				name := ""
				switch f := fn.(type) {
				case *ast.FuncDecl:
					ft, name = f.Type, f.Name.Name
				case *ast.FuncLit:
					ft = f.Type
					for _, file := range p.files {
						ast.Inspect(file, func(n ast.Node) bool {
							if as, ok := n.(*ast.AssignStmt); ok {
								for i, r := range as.Rhs {
									if r == ast.Expr(f) && i < len(as.Lhs) {
										if id, ok := as.Lhs[i].(*ast.Ident); ok {
											name = id.Name
										}
									}
								}
							}
							return true
						})
					}
				}
				idx, i := -1, 0
				for _, field := range ft.Params.List {
					for _, n := range field.Names {
						if n.Name == x.Name {
							idx = i
						}
						i++
					}
				}
				if idx < 0 {
					continue
				}
				if name == "" {
					t.Errorf("%s: audit action %s is a parameter of an unnamed function", where, x.Name)
					return nil
				}
				calls := 0
				for _, file := range p.files {
					ast.Inspect(file, func(n ast.Node) bool {
						if c, ok := n.(*ast.CallExpr); ok {
							if id, ok := c.Fun.(*ast.Ident); ok && id.Name == name && idx < len(c.Args) {
								calls++
								out = append(out, resolve(p, c.Args[idx], depth+1)...)
							}
						}
						return true
					})
				}
				if calls == 0 {
					t.Errorf("%s: no call of %s passes the audit action", where, name)
				}
				return out
			}
		}
		t.Errorf("%s: cannot tell which audit action this writes: make it a literal, a constant or a listed prefix", where)
		return nil
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		// storetest writes made-up entries to test the stores.
		if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "storetest" ||
			rel == filepath.Join("internal", "third_party")) {
			return filepath.SkipDir
		}
		p := pkg(path)
		for _, f := range p.files {
			ast.Inspect(f, func(n ast.Node) bool {
				cl, ok := n.(*ast.CompositeLit)
				if !ok {
					return true
				}
				switch ty := cl.Type.(type) {
				case *ast.Ident:
					if ty.Name != "AuditEntry" {
						return true
					}
				case *ast.SelectorExpr:
					if ty.Sel.Name != "AuditEntry" {
						return true
					}
				default:
					return true
				}
				for _, el := range cl.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok && isIdentNamed(kv.Key, "Action") {
						for _, c := range resolve(p, kv.Value, 0) {
							codes[c] = append(codes[c], fset.Position(kv.Pos()).String())
						}
					}
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return codes
}

func isIdentNamed(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// TestEveryAuditActionHasALabel: every action code the program writes to
// the audit log (found by reading the source, so a new one cannot slip
// by) has its label on the audit page, in French and in English, and
// every label is of a code the program writes.
func TestEveryAuditActionHasALabel(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	codes := writtenAuditCodes(t, root)
	// The scan finds the codes of every writer: manage (through audit),
	// provision (through auditGone and a variable), notify (a constant),
	// onboarding and the web (variables), and the prefixed ones.
	for _, c := range []string{"person.disable", "service.update", "provision.failed", "mail.sent", "import.rejected",
		"import.apply", "person.password.reset", "person.link.reset", "provision.manual-action-needed", "person.mfa.enrol"} {
		if _, ok := codes[c]; !ok {
			t.Errorf("the scan does not find %q: it is broken", c)
		}
	}
	if len(codes) < 40 {
		t.Errorf("the scan finds %d codes: it is broken", len(codes))
	}
	for c, where := range codes {
		k, ok := auditActions[c]
		if !ok {
			t.Errorf("audit action %q (written at %v) has no label in auditActions", c, where)
			continue
		}
		if fr, en := i18n.T("fr", k), i18n.T("en", k); fr == "" || en == "" || strings.HasPrefix(fr, "[") || fr == en {
			t.Errorf("audit action %q: label %q / %q", c, fr, en)
		}
	}
	for c := range auditActions {
		if _, ok := codes[c]; !ok {
			t.Errorf("auditActions labels %q, which the program never writes", c)
		}
	}
}
