package i18n

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
	"text/template/parse"
)

// templateDirs are the folders of the templates that call t: the one
// renderer's (package web). Emails (notify) have their own template pairs.
var templateDirs = []string{"web/templates"}

// moduleRoot is the folder of go.mod above the test's folder.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// templateUse is what the templates say about keys: the literal keys they
// pass to t, and the calls whose key is computed inside the template.
type templateUse struct {
	literal  map[string][]string // key -> files
	computed []string            // "file: call"
}

// templateKeys parses every template of dir and collects the keys of its
// t calls: {{t .Lang "key" args...}}. A key given by a field or a variable
// ({{t .Lang .Title}}) comes from Go code, where it is a declared Key; a key
// computed in the template ({{t $l (printf "%s.intro" .Mode)}}) is refused,
// since no test could tell which keys it names.
func templateKeys(t *testing.T, dir string, use *templateUse) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		trees := map[string]*parse.Tree{}
		tr := parse.New(filepath.Base(file))
		tr.Mode = parse.SkipFuncCheck
		if _, err := tr.Parse(string(b), "{{", "}}", trees); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, tree := range trees {
			walkTemplate(tree.Root, func(cmd *parse.CommandNode) {
				id, ok := cmd.Args[0].(*parse.IdentifierNode)
				if !ok || id.Ident != "t" {
					return
				}
				if len(cmd.Args) < 3 {
					use.computed = append(use.computed, filepath.Base(file)+": "+cmd.String())
					return
				}
				switch k := cmd.Args[2].(type) {
				case *parse.StringNode:
					use.literal[k.Text] = append(use.literal[k.Text], filepath.Base(file))
				case *parse.FieldNode, *parse.VariableNode, *parse.ChainNode, *parse.DotNode:
				default:
					use.computed = append(use.computed, filepath.Base(file)+": "+cmd.String())
				}
			})
		}
	}
	return len(files)
}

func walkTemplate(n parse.Node, f func(*parse.CommandNode)) {
	switch n := n.(type) {
	case nil:
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkTemplate(c, f)
		}
	case *parse.ActionNode:
		walkTemplate(n.Pipe, f)
	case *parse.IfNode:
		walkBranch(&n.BranchNode, f)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, f)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, f)
	case *parse.TemplateNode:
		walkTemplate(n.Pipe, f)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walkTemplate(c, f)
		}
	case *parse.CommandNode:
		f(n)
		for _, a := range n.Args {
			walkTemplate(a, f)
		}
	}
}

func walkBranch(b *parse.BranchNode, f func(*parse.CommandNode)) {
	walkTemplate(b.Pipe, f)
	walkTemplate(b.List, f)
	walkTemplate(b.ElseList, f)
}

// declaredKeys reads this package's declarations of keys: each
// `Name = key("text")` of a var block. key is called nowhere else.
func declaredKeys(t *testing.T, root string) (map[string]string, []string) {
	t.Helper()
	decl := map[string]string{}
	var stray []string
	fset := token.NewFileSet()
	dir := filepath.Join(root, "internal/i18n")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		inDecl := map[ast.Node]bool{}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				for i, v := range vs.Values {
					call, ok := v.(*ast.CallExpr)
					if !ok || !isIdent(call.Fun, "key") || len(call.Args) != 1 {
						continue
					}
					lit, ok := call.Args[0].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					text, _ := strconv.Unquote(lit.Value)
					decl[vs.Names[i].Name] = text
					inDecl[call] = true
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok && isIdent(call.Fun, "key") && !inDecl[call] {
				if fd, ok := enclosingFunc(f, call); !ok || fd != "key" {
					stray = append(stray, fset.Position(call.Pos()).String())
				}
			}
			return true
		})
	}
	return decl, stray
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// enclosingFunc names the function declaration around n.
func enclosingFunc(f *ast.File, n ast.Node) (string, bool) {
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Pos() <= n.Pos() && n.End() <= fd.End() {
			return fd.Name.Name, true
		}
	}
	return "", false
}

// goUses counts, in the module's Go code (tests excluded: a key only a
// test names is unused), the references to each declared key: i18n.Name
// outside this package, Name inside this package's functions.
func goUses(t *testing.T, root string, declared map[string]string) map[string]int {
	t.Helper()
	uses := map[string]int{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || rel == filepath.Join("internal", "third_party") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if filepath.Dir(rel) == filepath.Join("internal", "i18n") {
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
					ast.Inspect(fd.Body, func(n ast.Node) bool {
						if id, ok := n.(*ast.Ident); ok {
							if _, ok := declared[id.Name]; ok {
								uses[id.Name]++
							}
						}
						return true
					})
				}
			}
			return nil
		}
		name := ""
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "sesame/internal/i18n" {
				name = "i18n"
				if imp.Name != nil {
					name = imp.Name.Name
				}
			}
		}
		if name == "" {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && isIdent(sel.X, name) {
				if _, ok := declared[sel.Sel.Name]; ok {
					uses[sel.Sel.Name]++
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return uses
}

// The catalogue and its users agree: every key a template or Go code names
// exists, no template computes a key, every declared key has its entry and
// is used, and no entry is unused.
func TestCatalogueUsage(t *testing.T) {
	root := moduleRoot(t)
	use := &templateUse{literal: map[string][]string{}}
	n := 0
	for _, d := range templateDirs {
		n += templateKeys(t, filepath.Join(root, d), use)
	}
	if n < 10 || len(use.literal) < 60 {
		t.Fatalf("%d templates with %d literal keys: the template scan is broken", n, len(use.literal))
	}
	for _, c := range use.computed {
		t.Errorf("a template computes its key (give a Key from Go instead): %s", c)
	}
	for k, files := range use.literal {
		if _, ok := catalogue[Key{name: k}]; !ok {
			t.Errorf("template key %q (in %v) is not in the catalogue", k, slices.Compact(files))
		}
	}

	declared, stray := declaredKeys(t, root)
	if len(declared) < 50 {
		t.Fatalf("%d declared keys: the declaration scan is broken", len(declared))
	}
	for _, s := range stray {
		t.Errorf("key() called outside a declaration at %s", s)
	}
	for name, k := range declared {
		if _, ok := catalogue[Key{name: k}]; !ok {
			t.Errorf("declared key %s (%q) is not in the catalogue", name, k)
		}
	}
	uses := goUses(t, root, declared)
	usedByGo := map[string]bool{}
	for name, k := range declared {
		if uses[name] == 0 {
			t.Errorf("declared key %s (%q) is used by no Go code", name, k)
			continue
		}
		usedByGo[k] = true
	}
	for k := range catalogue {
		if _, ok := use.literal[k.name]; !ok && !usedByGo[k.name] {
			t.Errorf("key %q is used by no template and no Go code", k.name)
		}
	}
}
