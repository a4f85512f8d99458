package codemod

import (
	"errors"
	"fmt"
	"go/ast"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"go/types"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/wsunify/wsunify/codemod/recipe"
)

// FileChange is the new content of one file.
type FileChange struct {
	Package string
	Name    string // absolute path
	Old     []byte
	New     []byte

	ast *ast.File // New parsed into the program's FileSet, when at hand
}

// Finding is a legacy use left in place, with the reason.
type Finding struct {
	Pos     token.Position
	Package string
	Rule    string
	Message string
	// Related are the other places the reason names, as in
	// analysis.Diagnostic.
	Related []Related
}

// String formats f as "file:line:col: rule: message".
func (f Finding) String() string { return fmt.Sprintf("%s: %s: %s", f.Pos, f.Rule, f.Message) }

// Result is what a rewrite produced.
type Result struct {
	Changes []FileChange
	// Findings are the legacy uses the rewrite left, with the reason.
	Findings []Finding
	// Rewritten counts the rewritten sites per rule ID.
	Rewritten map[string]int

	retyped map[string]map[string]bool // declKey → files its retype edits
	sites   map[string]map[string]int  // file → rule ID → rewritten sites
	// The declarations by stable key (see steer.key): those the step
	// retypes, with the files their retype edits, and those it keeps with
	// the reason.
	retypedKeys map[string]map[string]bool
	keptKeys    map[string]kept
	exported    map[string]ExportedChange // by stable key: Exported

	// Exported lists the declarations of a service's exported API the
	// migration retypes (see [APIAuto]): a breaking change for any module
	// that imports the service's packages after all.
	Exported []ExportedChange
}

// ErrNotCompiling is returned for packages that do not type-check: the
// codemod rewrites only code whose meaning it knows.
var ErrNotCompiling = errors.New("codemod: packages do not type-check")

// Rewrite computes one step of the migration of the selected packages of
// prog: the call sites of legacy methods, then the declarations whose uses
// the previous steps already rewrote. It writes nothing. A package that does
// not type-check makes it fail with [ErrNotCompiling].
func Rewrite(prog *Program, opts *Options) (*Result, error) {
	return rewrite(prog, opts, nil, nil)
}

// rewrite is [Rewrite] keeping the declarations st names out of the
// retype step. With sc, each package's changes go to sc as its rewrite
// ends, with their syntax trees (the changes of the result have none), and
// the package's slot is held until sc has checked it, so that the new
// syntax waiting for a check stays bounded; the packages it does not
// rewrite go to sc, without changes, first.
func rewrite(prog *Program, opts *Options, st *steer, sc *stepCheck) (*Result, error) {
	if opts == nil {
		opts = &Options{}
	}
	if err := prog.Err(); err != nil {
		return nil, fmt.Errorf("%w:\n%w", ErrNotCompiling, err)
	}
	may := prog.mayUseLegacy(opts)
	for _, pkg := range prog.Packages {
		if pkg.Info == nil && may(pkg) {
			return nil, fmt.Errorf("codemod: %s was checked without type information", pkg.Path)
		}
	}
	l, err := prog.legacy(opts)
	if err != nil {
		return nil, err
	}
	may = l.rewrites(may)
	var pkgs []*Package
	for _, pkg := range prog.Packages {
		if pkg.Selected && may(pkg) {
			pkgs = append(pkgs, pkg)
		}
	}
	// The retype step plans on one goroutine while the others find the
	// legacy uses of every file, which do not depend on the plan.
	var rt *retyper
	planned := make(chan struct{})
	go func() {
		defer close(planned)
		rt = newRetyper(prog, l, opts, st)
	}()
	uses := scanPackages(pkgs, l)
	<-planned
	res := &Result{Rewritten: map[string]int{}, retyped: rt.touched, sites: map[string]map[string]int{},
		retypedKeys: map[string]map[string]bool{}, keptKeys: map[string]kept{}}
	for _, d := range rt.order {
		if d.blocked == "" {
			key := st.key(prog.Fset, d.ident)
			res.retypedKeys[key] = rt.touched[declKey(prog.Fset, d.ident)]
			if c, ok := rt.serviceAPI(d); ok {
				c.Pos = PositionOf(st.pos(prog.Fset, d.ident))
				res.exported = addExported(res.exported, map[string]ExportedChange{key: c})
			}
		} else {
			res.keptKeys[st.key(prog.Fset, d.ident)] = kept{d.blocked, d.related}
		}
	}
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	files := prog.counter(StageRewriting, prog.filesOf(func(pkg *Package) bool { return pkg.Selected && may(pkg) }))
	if sc != nil {
		for _, pkg := range prog.Packages {
			if !pkg.Selected || !may(pkg) {
				sc.add(pkg, nil)
			}
		}
	}
	for i, pkg := range pkgs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r, err := rewritePackage(prog.Fset, pkg, uses[i], l, rt, opts)
			files.add(len(pkg.Files))
			if err == nil && sc != nil {
				sc.add(pkg, r.Changes)
				for i := range r.Changes {
					r.Changes[i].ast = nil
				}
				sc.wait(pkg)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			res.Changes = append(res.Changes, r.Changes...)
			res.Findings = append(res.Findings, r.Findings...)
			for k, v := range r.Rewritten {
				res.Rewritten[k] += v
			}
			maps.Copy(res.sites, r.sites)
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	res.Findings = mergeLeftovers(res.Findings) // leftover.go
	// The declarations the retype step keeps, with the reason.
	res.Findings = append(res.Findings, rt.findings()...)
	sortResult(res)
	return res, nil
}

func sortResult(res *Result) {
	slices.SortFunc(res.Changes, func(a, b FileChange) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(res.Findings, func(a, b Finding) int {
		if c := strings.Compare(a.Pos.Filename, b.Pos.Filename); c != 0 {
			return c
		}
		if a.Pos.Offset != b.Pos.Offset {
			return a.Pos.Offset - b.Pos.Offset
		}
		return strings.Compare(a.Rule, b.Rule)
	})
}

// legacy returns the rules of the recipe of opts and the legacy types of
// p.
func (p *Program) legacy(opts *Options) (*legacy, error) {
	rc, err := p.recipeOf(opts)
	if err != nil {
		return nil, err
	}
	l := newLegacy(rc, p.lookupTypes, opts)
	l.everyRef = opts == nil || opts.Recipe == nil
	if err := l.checkShapes(opts); err != nil {
		return nil, err
	}
	return l, nil
}

// scanPackages returns the legacy uses of each file of pkgs (by package,
// by file), the packages scanned in parallel.
func scanPackages(pkgs []*Package, l *legacy) [][][]use {
	uses := make([][][]use, len(pkgs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(pkgs) {
					return
				}
				uses[i] = make([][]use, len(pkgs[i].Files))
				for j, f := range pkgs[i].Files {
					uses[i][j] = l.scanFile(pkgs[i], f)
				}
			}
		})
	}
	wg.Wait()
	return uses
}

// rewritePackage rewrites the files of one package, whose legacy uses
// are uses (by file).
func rewritePackage(fset *token.FileSet, pkg *Package, uses [][]use, l *legacy, rt *retyper, opts *Options) (*Result, error) {
	res := &Result{Rewritten: map[string]int{}, sites: map[string]map[string]int{}}
	for fi, f := range pkg.Files {
		site := func(rule string) {
			res.Rewritten[rule]++
			if res.sites[f.Name] == nil {
				res.sites[f.Name] = map[string]int{}
			}
			res.sites[f.Name][rule]++
		}
		var e *fileEditor
		editor := func() *fileEditor {
			if e == nil {
				e = newFileEditor(fset, pkg, f)
				e.direct, e.lookup, e.l = rt.direct, l.lookup, l
			}
			return e
		}
		buildLine := buildLineInCode(f.AST)
		for _, u := range uses[fi] {
			rule := u.rule
			if u.kind == useRef {
				// Retype removes the bridge references it can; the others are
				// for a human.
				if rule.ID == RuleBridgeRef && len(opts.Rules) == 0 {
					res.Findings = append(res.Findings, Finding{
						Pos: fset.Position(u.pos), Package: pkg.Path, Rule: rule.ID, Message: u.reason,
					})
				}
				if lf := rt.leftover(fset, pkg, f, u); lf != nil {
					res.Findings = append(res.Findings, *lf)
				}
				continue
			}
			if fixable(u, rt, opts) && buildLine.IsValid() {
				res.Findings = append(res.Findings, Finding{
					Pos: fset.Position(u.pos), Package: pkg.Path, Rule: rule.ID,
					Message: buildLineMessage,
					Related: []Related{{Pos: fset.Position(buildLine), Message: "reads as a build constraint"}},
				})
				continue
			}
			if !fixable(u, rt, opts) {
				if u.reason != "" && !rt.covers(u) && opts.Rules.Has(rule.ID) {
					res.Findings = append(res.Findings, Finding{
						Pos: fset.Position(u.pos), Package: pkg.Path, Rule: rule.ID, Message: u.reason, Related: u.related,
					})
				}
				continue
			}
			editor().add(useEdit(u))
			site(rule.ID)
		}
		for _, ed := range rt.editsIn(f) {
			if buildLine.IsValid() {
				break // its declarations keep their types (keepUneditable)
			}
			editor().add(ed)
			site(l.retypeID())
		}
		if e == nil {
			continue
		}
		if !opts.Generated && ast.IsGenerated(f.AST) {
			// Left alone: the next go generate would write it again.
			for rule, n := range res.sites[f.Name] {
				res.Rewritten[rule] -= n
			}
			delete(res.sites, f.Name)
			res.Findings = append(res.Findings, Finding{
				Pos: fset.Position(f.AST.Package), Package: pkg.Path, Rule: RuleGenerated,
				Message: generatedMessage(pkg, f),
			})
			continue
		}
		out, af, err := e.finish()
		if err != nil {
			return nil, err
		}
		if out != nil {
			res.Changes = append(res.Changes, FileChange{Package: pkg.Path, Name: f.Name, Old: f.Src, New: out, ast: af})
		}
	}
	return res, nil
}

// fixable reports whether the call-site step rewrites u.
func fixable(u use, rt *retyper, opts *Options) bool {
	return u.kind != useRef && u.reason == "" && opts.Rules.Has(u.rule.ID) && !rt.covers(u)
}

// target is the node a fixable use rewrites.
func (u use) target() ast.Node {
	if u.kind == useCall {
		return u.call
	}
	return u.sel
}

// useEdit is the edit of a fixable use.
func useEdit(u use) edit {
	return edit{
		target: u.target(),
		text: func(r *renderer) string {
			switch u.kind {
			case useCall:
				return r.callText(u)
			case useMethodValue, useMethodExpr:
				return r.methodValueText(u)
			}
			// A legacy type name: the type its rule gives.
			return (&formRender{f: u.rule.form, qual: r.qual(u.sel.Pos())}).render()
		},
	}
}

// addressed reports whether the legacy call u takes the address of its
// receiver (a method with a pointer receiver called on an addressable
// value): bridge.NotifierOf must get the pointer, whose method set has the
// method, not a copy of the value.
func addressed(pkg *Package, u use) bool {
	prefix, _ := methodValueRecv(pkg, u)
	return prefix == "&"
}

// receiverPath returns the names of the embedded fields a promoted legacy
// method is reached through, or nil when there are none or one cannot be
// named here.
func receiverPath(pkg *Package, u use) []string {
	s := pkg.Info.Selections[u.sel]
	idx := s.Index()
	if len(idx) < 2 {
		return nil
	}
	var names []string
	t := s.Recv()
	for _, i := range idx[:len(idx)-1] {
		if p, ok := t.Underlying().(*types.Pointer); ok {
			t = p.Elem()
		}
		st, ok := t.Underlying().(*types.Struct)
		if !ok {
			return nil
		}
		f := st.Field(i)
		if !f.Exported() && f.Pkg() != pkg.Types {
			return nil
		}
		names = append(names, f.Name())
		t = f.Type()
	}
	return names
}

// describeDecl says, for a finding, where a declaration the retype step
// does not handle stands.
func describeDecl(parent ast.Node) string {
	switch parent.(type) {
	case *ast.RangeStmt:
		return "declared by a range loop"
	case *ast.TypeSwitchStmt, *ast.CaseClause:
		return "declared by a type switch"
	case *ast.AssignStmt:
		return "declared by an assignment the retype does not rewrite"
	}
	return "declared in a place the retype does not rewrite"
}

// describeUse says, for a finding, what the code does with name, the
// expression e, whose parent is parent.
func describeUse(name string, parent ast.Node, e ast.Expr) string {
	switch p := parent.(type) {
	case *ast.CallExpr:
		if p.Fun == e {
			return name + " is called"
		}
		switch fun := ast.Unparen(p.Fun).(type) {
		case *ast.Ident:
			return fmt.Sprintf("%s is passed to %s", name, fun.Name)
		case *ast.SelectorExpr:
			return fmt.Sprintf("%s is passed to %s", name, fun.Sel.Name)
		}
		return name + " is passed to a function"
	case *ast.KeyValueExpr:
		if p.Key == e {
			return name + " is a map key"
		}
		return name + " is stored in a composite literal"
	case *ast.CompositeLit:
		return name + " is stored in a composite literal"
	case *ast.ReturnStmt:
		return name + " is returned"
	case *ast.AssignStmt:
		return name + " is assigned to another variable"
	case *ast.ValueSpec:
		return name + " initializes another variable"
	case *ast.BinaryExpr:
		if p.Op == token.EQL || p.Op == token.NEQ {
			return name + " is compared"
		}
	case *ast.UnaryExpr:
		if p.Op == token.AND {
			return name + " has its address taken"
		}
		if p.Op == token.ARROW {
			return name + " is received from"
		}
	case *ast.SendStmt:
		return name + " is sent on a channel"
	case *ast.TypeAssertExpr:
		return name + " is type-asserted"
	case *ast.TypeSwitchStmt, *ast.ExprStmt:
		return name + " is type-switched on"
	case *ast.SelectorExpr:
		return fmt.Sprintf("%s.%s is used, which the facade type has not", name, p.Sel.Name)
	case *ast.IndexExpr, *ast.IndexListExpr:
		return name + " is indexed"
	case *ast.StarExpr:
		return name + " is dereferenced"
	case *ast.RangeStmt:
		return name + " is ranged over"
	}
	return name + " is used in an expression the retype does not rewrite"
}

// uneditable says why the rewrite leaves f alone, or "": a generated file
// (unless opts.Generated), or one with a build constraint inside its code.
func uneditable(f *File, opts *Options) string {
	switch {
	case f.AST == nil:
		return ""
	case !opts.Generated && ast.IsGenerated(f.AST):
		return "is generated"
	case buildLineInCode(f.AST).IsValid():
		return "has a build constraint comment inside its code"
	}
	return ""
}

// ignoredRecipe reports whether the file src is a recipe (see
// recipe.IsRecipeFile) built only with the tag "ignore": it names the
// legacy API on purpose and is no use of the program's. Any other file
// built only with that tag is a program run by name (go run gen.go): the
// user's code, unchecked, reported, and keeping the declarations it names.
func ignoredRecipe(src []byte) bool {
	if !ignoreOnly(src) {
		return false
	}
	af, err := parser.ParseFile(token.NewFileSet(), "", src, parser.SkipObjectResolution)
	return err == nil && recipe.IsRecipeFile(af)
}

// ignoreOnly reports whether the file src is built only with the tag
// "ignore" (//go:build ignore, or // +build ignore alone): its constraint
// holds for no set of the other tags it names without "ignore", so no
// configuration of a run checks it. A constraint that excludes a tag
// (!js) is not one.
func ignoreOnly(src []byte) bool {
	x := buildExpr(src)
	if x == nil {
		return false
	}
	all := tagsOf(x)
	slices.Sort(all)
	all = slices.Compact(all)
	tags := slices.DeleteFunc(slices.Clone(all), func(t string) bool { return t == "ignore" })
	if len(tags) == len(all) || len(tags) > 12 {
		return false // no ignore; or too many tags to try: taken as buildable
	}
	for set := range 1 << len(tags) {
		if x.Eval(func(tag string) bool {
			i := slices.Index(tags, tag)
			return i >= 0 && set&(1<<i) != 0
		}) {
			return false
		}
	}
	return true
}

// buildLineInCode returns the position of a comment after the package
// clause that reads as a build constraint (//go:build, // +build), or
// NoPos. gofmt moves such a comment to the top of the file, where it
// becomes the file's constraint: no edit of the file can keep it in place.
func buildLineInCode(f *ast.File) token.Pos {
	if f == nil {
		return token.NoPos
	}
	for _, cg := range f.Comments {
		if cg.Pos() < f.Package {
			continue
		}
		for _, c := range cg.List {
			if constraint.IsGoBuild(c.Text) || constraint.IsPlusBuild(c.Text) {
				return c.Pos()
			}
		}
	}
	return token.NoPos
}

// buildLineMessage is the finding of a site in a file with a build
// constraint comment inside its code (its Related position).
const buildLineMessage = "the file has a comment inside its code that reads as a build constraint, which gofmt would move to the top and make the file's: not rewritten; reword that comment and run again"

// RuleGenerated reports the generated files a rewrite leaves alone.
const RuleGenerated = "generated"

// generatedMessage says that the generated file f is left alone, naming
// its generator from the //go:generate line of its package that names the
// file, or the only one.
func generatedMessage(pkg *Package, f *File) string {
	base := filepath.Base(f.Name)
	var lines []string
	for _, g := range pkg.Files {
		if g.AST == nil {
			continue
		}
		for _, cg := range g.AST.Comments {
			for _, c := range cg.List {
				if cmd, ok := strings.CutPrefix(c.Text, "//go:generate "); ok {
					lines = append(lines, fmt.Sprintf("//go:generate %s in %s", strings.TrimSpace(cmd), filepath.Base(g.Name)))
				}
			}
		}
	}
	by := ""
	for _, l := range lines {
		if strings.Contains(l, strings.TrimSuffix(base, ".go")) {
			by = l
		}
	}
	if by == "" && len(lines) == 1 {
		by = lines[0]
	}
	if by != "" {
		by = " (written by " + by + ")"
	}
	return fmt.Sprintf("%s is a generated file%s: not rewritten; change its generator and run go generate, or pass -generated to rewrite it", base, by)
}
