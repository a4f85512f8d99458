// Gendeprecation writes bridge's table of deprecated entry points,
// deprecation_table.go, from the built-in recipe: for each rule whose
// Before calls a function or method of package bridge documented as
// Deprecated, the entry point's name, the rule's ID and the replacement,
// which is the rule's migrated form. bridge/deprecation.go runs it:
//
//	//go:generate go run ../codemod/recipe/internal/gendeprecation
//
// It writes deprecation_table.go in the current directory, which must be
// package bridge's.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	goparser "go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/tools/go/packages"

	"github.com/wsunify/wsunify/codemod/recipe"
)

// bridgePath is the package whose table is generated.
const bridgePath = "github.com/wsunify/wsunify/bridge"

// Output is the generated file's name.
const Output = "deprecation_table.go"

func main() {
	src, err := generate(context.Background(), ".")
	if err == nil {
		err = os.WriteFile(Output, src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendeprecation:", err)
		os.Exit(1)
	}
}

// An entry is one deprecated entry point of bridge.
type entry struct {
	ident       string // the constant of type entry
	name        string // "WebSocketManager.SendToUser", "bridge.NewWebSocketManager"
	rule        string
	replacement string
}

// generate returns the content of deprecation_table.go, loading bridge
// with the go command run in dir.
//
// It reads the built-in recipe from its file rather than importing package
// builtin, and takes bridge's types even when bridge does not compile: a
// stale table can leave bridge's warn calls naming constants it lacks, and
// regenerating the table is how that is fixed.
func generate(ctx context.Context, dir string) ([]byte, error) {
	src, err := builtinSource(ctx, dir)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	paths, err := recipe.Imports(fset, builtinFile, src)
	if err != nil {
		return nil, err
	}
	cfg := &packages.Config{Context: ctx, Dir: dir, Fset: fset, Mode: recipe.LoadMode | packages.NeedFiles}
	pkgs, err := packages.Load(cfg, paths...)
	if err != nil {
		return nil, err
	}
	r, err := recipe.Parse(fset, builtinFile, src, recipe.ImporterOf(pkgs))
	if err != nil {
		return nil, fmt.Errorf("the built-in recipe: %w", err)
	}
	var bridge *packages.Package
	for _, p := range pkgs {
		if p.PkgPath == bridgePath {
			bridge = p
		}
	}
	if bridge == nil {
		return nil, errors.New("the built-in recipe does not import " + bridgePath)
	}
	deprecated, err := deprecatedNames(bridge.GoFiles)
	if err != nil {
		return nil, err
	}
	entries, err := tableOf(r, deprecated)
	if err != nil {
		return nil, err
	}
	return render(entries)
}

// The built-in recipe: its package and its file.
const (
	builtinPath = "github.com/wsunify/wsunify/codemod/recipe/builtin"
	builtinFile = "builtin.go"
)

// builtinSource reads the built-in recipe, found by the go command in dir.
func builtinSource(ctx context.Context, dir string) ([]byte, error) {
	pkgs, err := packages.Load(&packages.Config{Context: ctx, Dir: dir, Mode: packages.NeedName | packages.NeedFiles}, builtinPath)
	if err != nil {
		return nil, err
	}
	for _, p := range pkgs {
		for _, f := range p.GoFiles {
			if filepath.Base(f) == builtinFile {
				return os.ReadFile(f)
			}
		}
	}
	return nil, fmt.Errorf("%s has no %s", builtinPath, builtinFile)
}

// deprecatedNames returns the functions ("F") and methods ("T.M", of a
// type or of an interface) whose doc comment has a Deprecated: paragraph,
// in the files of package bridge.
func deprecatedNames(files []string) (map[string]bool, error) {
	names := map[string]bool{}
	fset := token.NewFileSet()
	for _, file := range files {
		f, err := goparser.ParseFile(fset, file, nil, goparser.ParseComments|goparser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !isDeprecated(d.Doc) {
					continue
				}
				if d.Recv == nil {
					names[d.Name.Name] = true
				} else if t := recvName(d.Recv.List[0].Type); t != "" {
					names[t+"."+d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					ts, ok := s.(*ast.TypeSpec)
					if !ok {
						continue
					}
					it, ok := ts.Type.(*ast.InterfaceType)
					if !ok {
						continue
					}
					for _, m := range it.Methods.List {
						if isDeprecated(m.Doc) {
							for _, n := range m.Names {
								names[ts.Name.Name+"."+n.Name] = true
							}
						}
					}
				}
			}
		}
	}
	return names, nil
}

func recvName(e ast.Expr) string {
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

func isDeprecated(doc *ast.CommentGroup) bool {
	if doc == nil {
		return false
	}
	for _, para := range strings.Split(doc.Text(), "\n\n") {
		if strings.HasPrefix(para, "Deprecated: ") {
			return true
		}
	}
	return false
}

// tableOf returns the entries of the deprecated functions and methods of
// bridge that the rules of r call, in the order of the rules; a function
// several rules call is the first's.
func tableOf(r *recipe.Recipe, deprecated map[string]bool) ([]entry, error) {
	var entries []entry
	seen := map[types.Object]bool{}
	idents := map[string]int{}
	for _, rule := range r.Rules {
		fn, ok := rule.Legacy.(*types.Func)
		if !ok || fn.Pkg().Path() != bridgePath || seen[fn] {
			continue
		}
		seen[fn] = true
		key, name := fn.Name(), "bridge."+fn.Name()
		if recv := fn.Signature().Recv(); recv != nil {
			t := recvName(typeExpr(recv.Type()))
			key = t + "." + fn.Name()
			name = key
		}
		if !deprecated[key] {
			continue
		}
		e := entry{ident: lowerFirst(fn.Name()), name: name, rule: rule.ID, replacement: replacement(r, rule)}
		entries = append(entries, e)
		idents[e.ident]++
	}
	// Two methods of one name on two types are told apart by the type.
	for i, e := range entries {
		if idents[e.ident] > 1 {
			entries[i].ident = lowerFirst(strings.ReplaceAll(e.name, ".", ""))
		}
	}
	if len(entries) == 0 {
		return nil, errors.New("no rule of the built-in recipe calls a deprecated entry point of bridge")
	}
	return entries, nil
}

// typeExpr is an expression naming t, enough for recvName.
func typeExpr(t types.Type) ast.Expr {
	if p, ok := t.(*types.Pointer); ok {
		return &ast.StarExpr{X: typeExpr(p.Elem())}
	}
	if n, ok := t.(*types.Named); ok {
		return ast.NewIdent(n.Obj().Name())
	}
	return nil
}

// replacement is the text a warning gives as the replacement: the rule's
// migrated form, with what it needs said.
func replacement(r *recipe.Recipe, rule *recipe.Rule) string {
	q := func(p *types.Package) string {
		if p == r.Pkg {
			return ""
		}
		return p.Name()
	}
	if id, ok := ast.Unparen(rule.AfterExpr).(*ast.Ident); ok && len(rule.Params) == 1 && rule.Params[0].InAfter[0] == id {
		// bridge.NewWebSocketManager(h) → h
		return "the " + types.TypeString(rule.Params[0].Var.Type(), q) + " itself"
	}
	if rule.Via != nil {
		// bridge.NewWebSocketManager(h).IsConnectionActive(userID) → h.Connected(userID)
		recv := rule.Call.Fun.(*ast.SelectorExpr).X
		var via bytes.Buffer
		_ = format.Node(&via, token.NewFileSet(), recv)
		h := rule.Params[0]
		return fmt.Sprintf("%s, where %s is the %s of %s", rule.Form, h.Name, types.TypeString(h.Var.Type(), q), via.String())
	}
	return rule.Form
}

func lowerFirst(s string) string {
	for i, r := range s {
		return string(unicode.ToLower(r)) + s[i+len(string(r)):]
	}
	return s
}

// render prints the table as Go source.
func render(entries []entry) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`// Code generated by gendeprecation from the built-in recipe (codemod/recipe/builtin/builtin.go); DO NOT EDIT.

package bridge

// The deprecated entry points, one for each that a rule of the built-in
// recipe rewrites.
const (
`)
	for i, e := range entries {
		if i == 0 {
			fmt.Fprintf(&b, "\t%s entry = iota\n", e.ident)
		} else {
			fmt.Fprintf(&b, "\t%s\n", e.ident)
		}
	}
	b.WriteString(`)

// entries says, for each deprecated entry point, which rule of the
// built-in recipe rewrites it and what it writes in its place.
var entries = [...]struct{ name, rule, replacement string }{
`)
	for _, e := range entries {
		fmt.Fprintf(&b, "\t%s: {%s, %s, %s},\n", e.ident, strconv.Quote(e.name), strconv.Quote(e.rule), strconv.Quote(e.replacement))
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}
