package codemod

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
)

// declKind is where a declaration of a legacy type stands.
type declKind int

const (
	declLocal    declKind = iota // var or := in a function
	declParam                    // parameter of a function (not a method)
	declField                    // named struct field
	declEmbedded                 // embedded struct field
	declPkgVar                   // package-level var
	declResult                   // result of a function or method (see flow.go)
)

// newType is the facade type a declaration gets.
type newType string

const (
	toNotifier newType = "Notifier" // facade.Notifier
	toHub      newType = "Hub"      // *facade.Hub
	toEmitter  newType = "Emitter"  // *facade.Emitter
	toScope    newType = "Scope"    // facade.Scope
)

// decl is one declaration of a legacy type and what the retype step knows
// of its uses.
type decl struct {
	v        *types.Var
	shape    Shape
	kind     declKind
	pkg      *Package
	file     *File
	ident    *ast.Ident
	typeExpr ast.Expr     // nil for :=
	group    []*ast.Ident // the names sharing typeExpr
	fn       *types.Func  // for parameters and results
	owner    types.Object // for a result of a func type: the type, field or variable of that type
	param    int          // for parameters and results: the index in the signature
	define   bool         // declared by :=

	wraps   []useSite // bridge.NotifierOf(x) / bridge.EmitterOf(x)
	directs []useSite // x.SendToUser(...) and the like, rewritten in the same step
	hubs    []useSite // x.IsConnectionActive(u) / x.GetUserConnections(u)
	assigns []useSite // values assigned to it (node is the value)
	args    []useSite // for parameters: the arguments of every call
	renames []useSite // for embedded fields: the identifiers naming the field
	bridges []useSite // for contexts: bridge.NewAgentWebSocketBridge(n, x) calls

	blocked string    // why it keeps its type; "" if it is retyped
	related []Related // the places blocked names
	to      newType
	target  *ifaceTarget // the interface target chosen for d.to (target.go)
}

// useSite is a node in a file of a package.
type useSite struct {
	pkg  *Package
	file *File
	node ast.Node
	sel  *ast.SelectorExpr // hub uses: the method selector
	use  ast.Expr          // wrap uses: the expression denoting the declaration
}

// retyper plans the retype step over a whole program: which declarations
// get a facade type and the edits to every file that uses them.
type retyper struct {
	prog    *Program
	l       *legacy
	st      *steer                     // the declarations to keep
	touched map[string]map[string]bool // declKey → files its retype edits
	decls   map[*types.Var]*decl
	order   []*decl
	funcs   map[*types.Func][]*decl // functions with candidate parameters
	edits   map[string][]edit
	covered map[token.Pos]bool         // hub call sites the retype rewrites
	direct  map[*ast.SelectorExpr]bool // legacy calls whose receiver is retyped
	flow    *flow                      // the values that link declarations
	spans   map[string][]span          // what the step answers for, by file (leftover.go)
	// answeredAt are the places a finding relates, doubleWhy the
	// findings of test doubles' assertions (leftover.go).
	answeredAt map[token.Position]bool
	doubleWhy  map[*decl]kept
	opts       *Options
	// usage and swaps are the test doubles' uses (doubles.go) and the
	// swaps of their slots (doubleswap.go).
	usage map[*decl]doubleUsage
	swaps map[*types.TypeName]*doubleSwap
	reach map[*Package]*reach       // what importers reach of a package (api.go)
	needs map[needsKey]*ifaceTarget // ruleNeeds's answers (target.go)
}

func newRetyper(prog *Program, l *legacy, opts *Options, st *steer) *retyper {
	rt := &retyper{
		prog: prog, l: l, st: st,
		touched: map[string]map[string]bool{},
		decls:   map[*types.Var]*decl{},
		funcs:   map[*types.Func][]*decl{},
		edits:   map[string][]edit{},
		covered: map[token.Pos]bool{},
		direct:  map[*ast.SelectorExpr]bool{},
		flow:    newFlow(),
		opts:    opts,
	}
	if l.retype == nil || !opts.Rules.Has(l.retype.ID) {
		return rt
	}
	may := l.rewrites(prog.mayUseLegacy(opts))
	for _, pkg := range prog.Packages {
		if pkg.Selected && may(pkg) {
			for _, f := range pkg.Files {
				rt.findDecls(pkg, f)
				rt.findResults(pkg, f)
				rt.findRedundant(pkg, f)
			}
		}
	}
	if len(rt.decls) == 0 {
		rt.indexAnswered()
		return rt
	}
	for _, d := range rt.order {
		rt.blockUnchecked(d)
	}
	for _, pkg := range prog.Packages {
		if !may(pkg) {
			continue // no use of a legacy declaration either
		}
		for _, f := range pkg.Files {
			rt.findUses(pkg, f)
		}
	}
	// After the uses, whose reasons (a use outside the selection) say
	// more than this one.
	for _, d := range rt.order {
		if why := rt.apiReason(d); why != "" && d.blocked == "" {
			d.blocked = why
			// The legacy values that callers in other packages pass stay
			// with it: the finding names them, so that none of the uses
			// plan counts there is left without one.
			for _, a := range d.args {
				if a.pkg != d.pkg {
					d.related = append(d.related, Related{Pos: rt.prog.Fset.Position(a.node.Pos()), Message: "a caller's argument, which stays legacy with it"})
				}
			}
		}
	}
	rt.linkClasses()
	rt.blockUnlinked()
	rt.blockImplemented()
	rt.decide()
	rt.keepUneditable()
	rt.plan()
	rt.swapDoubles()
	rt.indexAnswered()
	return rt
}

// keepUneditable keeps the declarations whose retype would edit a file
// the rewrite leaves alone (see uneditable), and with them the ones linked
// to them (settle), until none is left to keep.
func (rt *retyper) keepUneditable() {
	for rt.keepUneditableOnce() && rt.settle() {
	}
}

// keepUneditableOnce is one round of keepUneditable; it reports whether it
// kept a declaration.
func (rt *retyper) keepUneditableOnce() bool {
	kept := false
	for _, d := range rt.order {
		if d.blocked != "" {
			continue
		}
		sites := append([]useSite{{pkg: d.pkg, file: d.file, node: d.ident}}, d.wraps...)
		for _, us := range [][]useSite{d.directs, d.hubs, d.assigns, d.args, d.renames, d.bridges} {
			sites = append(sites, us...)
		}
		for _, u := range sites {
			if why := uneditable(u.file, rt.opts); why != "" {
				rt.block(d, u.pkg, u.node, "its retype would edit "+filepath.Base(u.file.Name)+", which "+why)
				kept = true
				break
			}
		}
	}
	return kept
}

// walk calls fn for every node of f with the stack of its ancestors
// (stack[len(stack)-1] is the node itself).
func walk(f *ast.File, fn func(stack []ast.Node)) {
	var stack []ast.Node
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		fn(stack)
		return true
	})
}

// findDecls records the declarations of legacy interface types in f.
func (rt *retyper) findDecls(pkg *Package, f *File) {
	info := pkg.Info
	walk(f.AST, func(stack []ast.Node) {
		id, ok := stack[len(stack)-1].(*ast.Ident)
		if !ok {
			rt.funcTypeNode(pkg, f, stack[len(stack)-1])
			return
		}
		v, ok := info.Defs[id].(*types.Var)
		if !ok {
			return
		}
		shape, ok := rt.candidate(v)
		if !ok {
			return
		}
		d := &decl{v: v, shape: shape, pkg: pkg, file: f, ident: id}
		if len(stack) < 5 {
		} else if fd, ok := stack[len(stack)-5].(*ast.FuncDecl); ok {
			if ft, ok := stack[len(stack)-4].(*ast.FuncType); ok && fd.Type == ft && ft.Results == stack[len(stack)-3] {
				// A named result.
				d.kind, d.typeExpr, d.group = declResult, stack[len(stack)-2].(*ast.Field).Type, stack[len(stack)-2].(*ast.Field).Names
				d.fn, _ = info.Defs[fd.Name].(*types.Func)
				d.param = paramIndex(ft.Results, id)
			}
		}
		rt.addDecl(d)
		if k, ok := rt.st.kept(rt.prog.Fset, id); ok {
			// Kept whatever the rest finds, which still places it (its type
			// expression answers for a legacy reference: leftover.go).
			defer func() { d.blocked, d.related = k.why, k.related }()
		}
		if d.kind == declResult {
			return
		}
		if id.Name == "_" {
			d.blocked = assertionReason
			if vs, ok := stack[len(stack)-2].(*ast.ValueSpec); ok {
				d.typeExpr = vs.Type // its finding answers for the type (leftover.go)
			}
			return
		}
		parent := stack[len(stack)-2]
		switch p := parent.(type) {
		case *ast.SelectorExpr: // embedded field pkg.Type
			field, ok := stack[len(stack)-3].(*ast.Field)
			if !ok || len(field.Names) > 0 {
				d.blocked = "declared in an unsupported place"
				return
			}
			d.kind, d.typeExpr = declEmbedded, field.Type
		case *ast.Field:
			d.typeExpr, d.group = p.Type, p.Names
			if _, ok := p.Type.(*ast.Ellipsis); ok {
				d.blocked = "variadic parameter"
				return
			}
			list, _ := stack[len(stack)-3].(*ast.FieldList)
			switch owner := stack[len(stack)-4].(type) {
			case *ast.StructType:
				d.kind = declField
			case *ast.FuncType:
				fd, ok := stack[len(stack)-5].(*ast.FuncDecl)
				_, inIface := stack[len(stack)-5].(*ast.Field)
				switch {
				case !ok && inIface:
					d.blocked = "parameter of an interface method: its implementations follow the interface"
				case !ok:
					d.blocked = "parameter of a function literal"
				case list != owner.Params:
					d.blocked = "result of a function"
				default:
					// A method's too, unless an interface requires its
					// signature (blockImplemented).
					d.kind = declParam
					d.fn, _ = info.Defs[fd.Name].(*types.Func)
					d.param = paramIndex(owner.Params, id)
					rt.funcs[d.fn] = append(rt.funcs[d.fn], d)
				}
			default:
				d.blocked = "declared in an unsupported place"
			}
		case *ast.ValueSpec:
			d.typeExpr, d.group = p.Type, p.Names
			d.kind = declLocal
			if v.Parent() == pkg.Types.Scope() {
				d.kind = declPkgVar
			}
			if len(p.Values) > 0 {
				if len(p.Values) != len(p.Names) {
					d.blocked = "initialized by a multi-value expression"
					return
				}
				d.assigns = append(d.assigns, useSite{pkg: pkg, file: f, node: p.Values[identIndex(p.Names, id)]})
			}
		case *ast.AssignStmt:
			if rt.l.role(shape) == roleScope && p.Tok == token.DEFINE && len(p.Lhs) == 2 && len(p.Rhs) == 1 && p.Lhs[0] == id {
				// uc, err := bridge.NewUserExecutionContext(u, t, r)
				d.kind, d.define = declLocal, true
				d.assigns = append(d.assigns, useSite{pkg: pkg, file: f, node: p.Rhs[0]})
				return
			}
			if p.Tok == token.DEFINE && len(p.Rhs) == 1 && len(p.Lhs) > 1 {
				// x, err := f(): a result of f links it (resultUse).
				d.kind, d.define = declLocal, true
				rt.flow.multi[d] = true
				return
			}
			if p.Tok != token.DEFINE || len(p.Lhs) != len(p.Rhs) {
				d.blocked = "initialized by a multi-value expression"
				return
			}
			d.kind, d.define = declLocal, true
			for i, l := range p.Lhs {
				if l == id {
					d.assigns = append(d.assigns, useSite{pkg: pkg, file: f, node: p.Rhs[i]})
				}
			}
		default:
			d.blocked = describeDecl(parent)
		}
	})
}

func identIndex(ids []*ast.Ident, id *ast.Ident) int {
	for i, x := range ids {
		if x == id {
			return i
		}
	}
	return -1
}

// paramIndex is the index of the parameter named id in the signature.
func paramIndex(params *ast.FieldList, id *ast.Ident) int {
	i := 0
	for _, f := range params.List {
		if len(f.Names) == 0 {
			i++
			continue
		}
		for _, n := range f.Names {
			if n == id {
				return i
			}
			i++
		}
	}
	return -1
}

// blockUnchecked keeps d when a file that no configuration checks may
// use it: one in its package's directory or importing its package that
// names it (or, for a parameter, its function; for a field, the struct
// type that declares it, which an unkeyed literal sets without naming
// the field).
func (rt *retyper) blockUnchecked(d *decl) {
	if d.blocked != "" || d.kind == declLocal {
		return
	}
	names := []string{d.ident.Name}
	if d.fn != nil {
		names[0] = d.fn.Name()
	}
	if d.kind == declField || d.kind == declEmbedded {
		if owner := fieldOwner(d.pkg.Types, d.v); owner != "" {
			names = append(names, owner)
		}
	}
	for _, u := range rt.prog.unchecked {
		if !u.sees(d.pkg) || ignoredRecipe(u.src) {
			continue
		}
		own := u.belongsTo(d.pkg)
		for i, name := range names {
			// An importer names only what pkg exports: not an unexported
			// field, nor, for one, its struct.
			if !own && (!token.IsExported(name) || !token.IsExported(names[0])) {
				continue
			}
			field := i == 0 && (d.kind == declField || d.kind == declEmbedded)
			if field && u.mentionsField(name) || !field && u.mentions(name) {
				d.blocked = fmt.Sprintf("%s is used in %s, %s", name, filepath.Base(u.name), u.why)
				return
			}
		}
	}
}

// block marks d as kept, with the reason and where.
func (rt *retyper) block(d *decl, pkg *Package, n ast.Node, why string) {
	if d.blocked == "" {
		d.blocked = why
		d.related = nil
		if n.Pos() != d.ident.Pos() { // the finding's own place says it
			d.related = []Related{{Pos: rt.prog.Fset.Position(n.Pos()), Message: why}}
		}
	}
}

// findUses classifies every use of a recorded declaration in f.
func (rt *retyper) findUses(pkg *Package, f *File) {
	info := pkg.Info
	walk(f.AST, func(stack []ast.Node) {
		switch n := stack[len(stack)-1].(type) {
		case *ast.Ident:
			if fn, ok := info.Uses[n].(*types.Func); ok && (rt.funcs[fn] != nil || rt.flow.results[fn] != nil) {
				if rt.funcs[fn] != nil {
					rt.funcUse(pkg, f, fn, stack)
				}
				if rt.flow.results[fn] != nil {
					rt.resultUse(pkg, f, fn, stack)
				}
				return
			}
			v, ok := info.Uses[n].(*types.Var)
			if !ok {
				return
			}
			if d := rt.decls[v]; d != nil {
				rt.varUse(d, pkg, f, stack)
			}
		case *ast.SelectorExpr:
			// A method or field promoted through an embedded candidate.
			if s := info.Selections[n]; s != nil && len(s.Index()) > 1 {
				for _, fv := range embeddedPath(s) {
					if d := rt.decls[fv]; d != nil {
						rt.block(d, pkg, n, "promotes "+n.Sel.Name)
					}
				}
			}
		case *ast.ReturnStmt:
			rt.returnUse(pkg, f, stack, n)
		case *ast.CallExpr:
			if len(rt.flow.classes) > 0 {
				rt.classUse(pkg, f, stack)
			}
		case *ast.FuncType:
			if len(rt.flow.classes) > 0 {
				rt.blockOutside(pkg, n)
			}
		case *ast.CompositeLit:
			if len(n.Elts) == 0 {
				return
			}
			if _, keyed := n.Elts[0].(*ast.KeyValueExpr); keyed {
				return
			}
			t := litType(info, stack)
			if t == nil {
				switch litTypeExpr(stack).(type) {
				case *ast.ArrayType, *ast.MapType:
					return // its elements are no struct fields ({"blpop", "k", 0} in [][]any)
				}
				// Unknown type: keep every field that could be set here, that
				// is, that this package can name.
				for _, d := range rt.order {
					if (d.kind == declField || d.kind == declEmbedded) && (d.v.Exported() || d.v.Pkg() == pkg.Types) {
						rt.block(d, pkg, n, "perhaps set by this struct literal without field names")
					}
				}
				return
			}
			if p, ok := t.Underlying().(*types.Pointer); ok {
				t = p.Elem()
			}
			if st, ok := t.Underlying().(*types.Struct); ok {
				for i := range min(st.NumFields(), len(n.Elts)) {
					if d := rt.decls[st.Field(i).Origin()]; d != nil {
						d.assigns = append(d.assigns, useSite{pkg: pkg, file: f, node: n.Elts[i]})
					}
				}
			}
		}
	})
}

// embeddedPath returns the embedded fields a selection goes through.
func embeddedPath(s *types.Selection) []*types.Var {
	var path []*types.Var
	t := s.Recv()
	idx := s.Index()
	for _, i := range idx[:len(idx)-1] {
		if p, ok := t.Underlying().(*types.Pointer); ok {
			t = p.Elem()
		}
		st, ok := t.Underlying().(*types.Struct)
		if !ok {
			break
		}
		f := st.Field(i)
		path = append(path, f)
		t = f.Type()
	}
	return path
}

// funcUse records a use of a function with candidate parameters: a direct
// call gives the arguments to convert; any other use keeps the signature.
func (rt *retyper) funcUse(pkg *Package, f *File, fn *types.Func, stack []ast.Node) {
	id := stack[len(stack)-1]
	call, _ := calledName(stack)
	for _, d := range rt.funcs[fn] {
		switch {
		case call == nil:
			rt.block(d, pkg, id, fmt.Sprintf("%s is used as a value", fn.Name()))
		case !pkg.Selected:
			rt.block(d, pkg, id, fmt.Sprintf("%s is called from %s, outside the selected packages", fn.Name(), pkg.Path))
		case call.Ellipsis.IsValid() || d.param >= len(call.Args) || len(call.Args) != fn.Signature().Params().Len():
			rt.block(d, pkg, id, fmt.Sprintf("%s is called with a spread or multi-value argument", fn.Name()))
		default:
			d.args = append(d.args, useSite{pkg: pkg, file: f, node: call.Args[d.param]})
		}
	}
}

// varUse classifies one use of d.
func (rt *retyper) varUse(d *decl, pkg *Package, f *File, stack []ast.Node) {
	info := pkg.Info
	id := stack[len(stack)-1].(*ast.Ident)
	if !pkg.Selected {
		why := fmt.Sprintf("used in %s, outside the selected packages", pkg.Path)
		if rr := rt.l.anyValue[d.shape]; rr != nil {
			why += fmt.Sprintf(" (reach it with %s)", rr.Form) // bridge.EmitterOf(b) for an agent bridge
		}
		rt.block(d, pkg, id, why)
		return
	}
	i := len(stack) - 2
	var e ast.Expr = id
	if sel, ok := stack[i].(*ast.SelectorExpr); ok && sel.Sel == id {
		e, i = sel, i-1
	}
	if d.kind == declEmbedded {
		d.renames = append(d.renames, useSite{pkg: pkg, file: f, node: id})
	}
	if kv, ok := stack[i].(*ast.KeyValueExpr); ok && kv.Key == e {
		if _, ok := stack[i-1].(*ast.CompositeLit); ok {
			d.assigns = append(d.assigns, useSite{pkg: pkg, file: f, node: kv.Value})
			return
		}
	}
	for {
		p, ok := stack[i].(*ast.ParenExpr)
		if !ok {
			break
		}
		e, i = p, i-1
	}
	if as, ok := stack[i].(*ast.AssignStmt); ok && rt.multiValue(info, as.Lhs, as.Rhs, e) {
		return // x, err = f(): resultUse links x
	}
	rt.refUse(d, pkg, f, stack, i, e, id, id.Name)
}

// refUse classifies the use e of d, whose parent is stack[i]: an
// identifier or field naming it, or a call of a function it is the result
// of; at is where a finding points, name what it calls it.
func (rt *retyper) refUse(d *decl, pkg *Package, f *File, stack []ast.Node, i int, e ast.Expr, at ast.Node, name string) {
	info := pkg.Info
	if rt.l.role(d.shape) == roleScope {
		switch p := stack[i].(type) {
		case *ast.SelectorExpr:
			// uc.UserID, uc.ThreadID, uc.RunID: a facade.Scope has them too.
			if s := info.Selections[p]; p.X == e && s != nil && s.Kind() == types.FieldVal &&
				(p.Sel.Name == "UserID" || p.Sel.Name == "ThreadID" || p.Sel.Name == "RunID") {
				return
			}
		case *ast.CallExpr:
			if len(p.Args) == 2 && p.Args[1] == e && isFunc(info, p, rt.l.newAgentBridge) {
				d.bridges = append(d.bridges, useSite{pkg: pkg, file: f, node: p})
				return
			}
		}
	}
	switch p := stack[i].(type) {
	case *ast.CallExpr:
		if len(p.Args) == 1 && p.Args[0] == e &&
			(rt.l.wrapOf(info, p, d.shape) != nil || (rt.l.role(d.shape) == roleEmitter && isFunc(info, p, rt.l.emitterOf))) {
			d.wraps = append(d.wraps, useSite{pkg: pkg, file: f, node: p, use: ast.Unparen(e)})
			return
		}
	case *ast.SelectorExpr:
		if p.X == e && i > 0 {
			if call, ok := stack[i-1].(*ast.CallExpr); ok && call.Fun == p {
				if s := info.Selections[p]; s != nil {
					if fn, ok := s.Obj().(*types.Func); ok {
						r := rt.l.ruleOf(fn)
						switch {
						case r != nil && r.hubMethod != "":
							d.hubs = append(d.hubs, useSite{pkg: pkg, file: f, node: call, sel: p})
							return
						case r != nil && rt.opts.Rules.Has(r.ID):
							// The call-site step rewrites this call in the same
							// step; with the declaration retyped it calls the
							// facade on x directly.
							d.directs = append(d.directs, useSite{pkg: pkg, file: f, node: call, sel: p})
							return
						}
					}
				}
			}
			// A method value: a hub method keeps its name on a *facade.Hub
			// (Connected and ConnIDs have the same types); the others become
			// func literals calling the facade on x directly.
			if s := info.Selections[p]; s != nil && s.Kind() == types.MethodVal && !calledAt(stack, i) {
				if fn, ok := s.Obj().(*types.Func); ok {
					switch r := rt.l.ruleOf(fn); {
					case r == nil:
					case r.hubMethod != "":
						d.hubs = append(d.hubs, useSite{pkg: pkg, file: f, node: p, sel: p})
						return
					case rt.opts.Rules.Has(r.ID) && methodValueOK(rt.l, pkg, p, r):
						d.directs = append(d.directs, useSite{pkg: pkg, file: f, node: p, sel: p})
						return
					}
				}
			}
		}
	case *ast.AssignStmt:
		if k := exprIndex(p.Lhs, e); k >= 0 && len(p.Lhs) == len(p.Rhs) {
			d.assigns = append(d.assigns, useSite{pkg: pkg, file: f, node: p.Rhs[k]})
			return
		}
	}
	if rt.flowInto(d, pkg, stack, i, e) {
		return
	}
	rt.block(d, pkg, at, describeUse(name, stack[i], e))
}

// methodValueOK reports whether the method value p of r can be rewritten.
func methodValueOK(l *legacy, pkg *Package, p *ast.SelectorExpr, r *Rule) bool {
	why, _ := l.methodValueReason(pkg, p, r)
	return why == ""
}

func exprIndex(list []ast.Expr, e ast.Expr) int {
	for i, x := range list {
		if x == e {
			return i
		}
	}
	return -1
}

// value says how a value assigned to a retyped declaration is converted.
type valueKind int

const (
	valueWrap     valueKind = iota // bridge.NotifierOf(x) / bridge.EmitterOf(x)
	valueNil                       // nil stays nil
	valueAsIs                      // a facade.Notifier already stays as it is
	valueHub                       // bridge.NewWebSocketManager(h) → h
	valueEmitter                   // bridge.NewAgentWebSocketBridge(n, uc) → facade.NewEmitter(...)
	valueScope                     // bridge.NewUserExecutionContext(u, t, r) → facade.NewScope(u, t, r)
	valueScopeLit                  // uc → facade.Scope{UserID: uc.UserID, ...}
	valueBlocked                   // cannot be converted
)

func (rt *retyper) classify(u useSite, d *decl) valueKind {
	info := u.pkg.Info
	e := ast.Unparen(u.node.(ast.Expr))
	if s := rt.refOf(u); s != nil && s != d {
		return valueAsIs // a declaration retyped with it (flow.go)
	}
	if rt.l.role(d.shape) == roleScope {
		if call, ok := e.(*ast.CallExpr); ok && isFunc(info, call, rt.l.newUserContext) {
			if len(call.Args) == 3 && !call.Ellipsis.IsValid() {
				return valueScope
			}
			return valueBlocked // options have no facade.Scope counterpart
		}
		if pure(e) {
			return valueScopeLit
		}
		return valueBlocked
	}
	if id, ok := e.(*ast.Ident); ok && id.Name == "nil" && info.Uses[id] == types.Universe.Lookup("nil") {
		return valueNil
	}
	if call, ok := e.(*ast.CallExpr); ok {
		if isFunc(info, call, rt.l.newManager) && len(call.Args) == 1 {
			return valueHub
		}
		if isFunc(info, call, rt.l.newAgentBridge) && len(call.Args) == 2 {
			if pure(call.Args[1]) {
				return valueEmitter
			}
			return valueBlocked
		}
	}
	if t := exprType(info, e); t != nil && d.target != nil {
		// bridge.NotifierOf(x) would return x itself, and the next step
		// would take the call away again.
		if _, legacy := rt.l.shapeOf(t); !legacy && types.Implements(t, d.target.iface) {
			return valueAsIs
		}
	}
	return valueWrap
}

// pure reports whether e can be evaluated several times without effect:
// an identifier or a chain of field selections.
func pure(e ast.Expr) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		return true
	case *ast.SelectorExpr:
		return pure(e.X)
	}
	return false
}

// decide chooses each declaration's facade type, or why it keeps its own.
func (rt *retyper) decide() {
	// Contexts last: they follow the bridges built from them.
	slices.SortStableFunc(rt.order, func(a, b *decl) int {
		return b2i(rt.l.role(a.shape) == roleScope) - b2i(rt.l.role(b.shape) == roleScope)
	})
	for _, d := range rt.order {
		if d.blocked != "" {
			continue
		}
		switch {
		case rt.l.role(d.shape) == roleScope:
			d.to = toScope
		case rt.l.role(d.shape) == roleEmitter:
			d.to = toEmitter
		case len(d.hubs) > 0:
			d.to = toHub
		case !rt.chooseTarget(d):
			continue
		}
	}
	rt.settle()
	for _, d := range rt.order {
		if d.kind == declEmbedded && d.blocked == "" {
			st := structOf(d)
			if obj, _, _ := types.LookupFieldOrMethod(st, true, d.pkg.Types, rt.l.targetName(d.to)); obj != nil {
				rt.block(d, d.pkg, d.ident, "the struct already has a field or method "+rt.l.targetName(d.to))
			}
			// A struct that overrides a legacy method must keep its shape:
			// bridge.NotifierOf reaches the override only through it.
			ms := types.NewMethodSet(types.NewPointer(st))
			for i := range ms.Len() {
				if m := ms.At(i); len(m.Index()) == 1 && rt.l.methods[m.Obj().Name()] != nil {
					rt.block(d, d.pkg, d.ident, "the struct declares "+m.Obj().Name()+" itself")
				}
			}
		}
	}
	rt.settle()
}

// converted returns the bridge.NewAgentWebSocketBridge calls the step
// rewrites: the values of the retyped agent bridges.
func (rt *retyper) converted() map[ast.Node]bool {
	converted := map[ast.Node]bool{}
	for _, d := range rt.order {
		if d.blocked != "" || rt.l.role(d.shape) == roleScope {
			continue
		}
		for _, u := range append(d.assigns, d.args...) {
			if rt.classify(u, d) == valueEmitter {
				converted[ast.Unparen(u.node.(ast.Expr))] = true
			}
		}
	}
	return converted
}

// checkValues keeps d if a value it is given cannot take its facade
// type, and reports whether it did; converted is rt.converted().
func (rt *retyper) checkValues(d *decl, converted map[ast.Node]bool) bool {
	if rt.l.role(d.shape) == roleScope {
		for _, u := range d.bridges {
			if !converted[u.node] {
				rt.block(d, u.pkg, u.node, "handed to bridge.NewAgentWebSocketBridge, which keeps it")
			}
		}
		for _, u := range append(d.assigns, d.args...) {
			if rt.classify(u, d) == valueBlocked {
				rt.block(d, u.pkg, u.node, "its value has no facade.Scope form here (options, or an expression evaluated once)")
			}
		}
		return d.blocked != ""
	}
	if d.to == toHub && d.kind == declParam && len(d.args) == 0 {
		// Callers outside the program may have no hub.
		d.blocked = "IsConnectionActive/GetUserConnections need a *facade.Hub, and a parameter's callers may not have one"
		return true
	}
	for _, u := range append(d.assigns, d.args...) {
		switch k := rt.classify(u, d); {
		case k == valueBlocked:
			rt.block(d, u.pkg, u.node, "built by bridge.NewAgentWebSocketBridge from an expression evaluated once")
		case d.to == toHub && k != valueHub && k != valueNil && k != valueAsIs:
			rt.block(d, u.pkg, u.node, "IsConnectionActive/GetUserConnections need a *facade.Hub, and this value is not built by bridge.NewWebSocketManager")
		case d.define && d.target != nil && k == valueHub && len(d.assigns) > 1:
			// x := bridge.NewWebSocketManager(h) makes x a *facade.Hub, which
			// other assignments could not fit.
			rt.block(d, u.pkg, u.node, "declared with := from bridge.NewWebSocketManager and assigned other values")
		}
	}
	return d.blocked != ""
}

// shareTypes keeps the names sharing one type expression together: they
// change together or not at all. It reports whether it kept any.
func (rt *retyper) shareTypes() bool {
	any := false
	for changed := true; changed; {
		changed = false
		for _, d := range rt.order {
			if d.blocked != "" || len(d.group) < 2 {
				continue
			}
			for _, id := range d.group {
				v, _ := d.pkg.Info.Defs[id].(*types.Var)
				o := rt.decls[v]
				if o == nil || o.blocked != "" || o.to != d.to {
					d.blocked = fmt.Sprintf("shares its type with %s, which keeps it", id.Name)
					changed, any = true, true
					break
				}
			}
		}
	}
	return any
}

// structOf returns the struct type that holds the embedded field of d.
func structOf(d *decl) types.Type {
	var found types.Type
	for _, obj := range d.pkg.Info.Defs {
		tn, ok := obj.(*types.TypeName)
		if !ok || found != nil {
			continue
		}
		if st, ok := tn.Type().Underlying().(*types.Struct); ok {
			for i := range st.NumFields() {
				if st.Field(i) == d.v {
					found = tn.Type()
				}
			}
		}
	}
	if found == nil {
		return types.NewStruct(nil, nil)
	}
	return found
}

// plan turns the decisions into file edits.
func (rt *retyper) plan() {
	for _, d := range rt.order {
		if d.blocked != "" {
			continue
		}
		rt.touched[declKey(rt.prog.Fset, d.ident)] = map[string]bool{}
		add := func(f *File, target ast.Node, text func(*renderer) string) {
			rt.edits[f.Name] = append(rt.edits[f.Name], edit{target: target, text: text})
			rt.touched[declKey(rt.prog.Fset, d.ident)][f.Name] = true
		}
		if d.typeExpr != nil {
			te := d.typeExpr
			add(d.file, te, func(r *renderer) string { return r.facadeTypeText(d.to) })
		}
		for _, u := range d.renames {
			id := u.node.(*ast.Ident)
			add(u.file, id, func(*renderer) string { return rt.l.targetName(d.to) })
		}
		for _, u := range d.wraps {
			call, x := u.node, u.use
			add(u.file, call, func(r *renderer) string { return r.of(x) })
		}
		for _, u := range d.directs {
			rt.direct[u.sel] = true
			rt.touched[declKey(rt.prog.Fset, d.ident)][u.file.Name] = true
		}
		for _, u := range d.hubs {
			rt.covered[u.sel.Sel.Pos()] = true
			r := rt.l.ruleOf(u.pkg.Info.Selections[u.sel].Obj().(*types.Func))
			sel := u.sel
			add(u.file, sel.Sel, func(*renderer) string { return r.hubMethod })
		}
		for _, u := range append(d.assigns, d.args...) {
			k := rt.classify(u, d)
			v := u.node.(ast.Expr)
			scoped := k == valueEmitter && rt.scoped(u.pkg, ast.Unparen(v).(*ast.CallExpr).Args[1])
			add(u.file, v, func(r *renderer) string { return r.convertText(v, k, d, scoped) })
		}
	}
}

// targetName is the name of the type a declaration retyped to t gets
// (Notifier for a facade.Notifier): an embedded field's new name.
func (l *legacy) targetName(t newType) string {
	if tn := namedOf(l.targets[t]); tn != nil {
		return tn.Name()
	}
	return string(t)
}

// scoped reports whether x names a context the step makes a facade.Scope.
func (rt *retyper) scoped(pkg *Package, x ast.Expr) bool {
	id, ok := ast.Unparen(x).(*ast.Ident)
	if !ok {
		return false
	}
	v, _ := pkg.Info.Uses[id].(*types.Var)
	d := rt.decls[v]
	return d != nil && d.blocked == "" && d.to == toScope
}

// editsIn returns the retype edits of f.
func (rt *retyper) editsIn(f *File) []edit { return rt.edits[f.Name] }

// covers reports whether the retype step rewrites the call-site use u.
func (rt *retyper) covers(u use) bool { return u.sel != nil && rt.covered[u.sel.Sel.Pos()] }

// findings reports the declarations of the selected packages that keep
// their legacy type, with the reason.
func (rt *retyper) findings() []Finding {
	var out []Finding
	for _, d := range rt.order {
		if d.blocked == "" {
			continue
		}
		why, related := d.blocked, d.related
		if isAssertion(d) {
			if w, r := rt.cachedDouble(d); w != "" {
				why, related = w, r // doubles.go
			}
		}
		out = append(out, Finding{
			Pos:     rt.prog.Fset.Position(d.ident.Pos()),
			Package: d.pkg.Path,
			Rule:    rt.l.retypeID(),
			Message: fmt.Sprintf("%s keeps its legacy type: %s", d.ident.Name, why),
			Related: related,
		})
	}
	return out
}

// declKey identifies a declaration across the programs of successive steps.
func declKey(fset *token.FileSet, id *ast.Ident) string {
	p := fset.Position(id.Pos())
	return fmt.Sprintf("%s:%d", p.Filename, p.Offset)
}

// findRedundant removes bridge.NotifierOf(x) where x is a facade.Notifier
// already, and bridge.EmitterOf(x) where x is a *facade.Emitter: what is
// left of a value the previous step retyped.
func (rt *retyper) findRedundant(pkg *Package, f *File) {
	if rt.l.notifier == nil {
		return
	}
	ast.Inspect(f.AST, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) != 1 {
			return true
		}
		t := exprType(pkg.Info, call.Args[0])
		if t == nil {
			return true
		}
		var redundant bool
		switch {
		case rt.l.isOf(calleeOf(pkg.Info, call)):
			redundant = rt.l.redundantWrap(pkg.Info, call, t)
		case isFunc(pkg.Info, call, rt.l.emitterOf):
			redundant = types.Identical(t, rt.l.emitter)
			if !redundant && rt.ownEmitter(t) { // doubleswap.go
				x := ast.Unparen(call.Args[0])
				rt.edits[f.Name] = append(rt.edits[f.Name], edit{target: call, text: func(r *renderer) string { return ownEmitterText(r, x) }})
			}
		}
		if redundant {
			x := ast.Unparen(call.Args[0])
			rt.edits[f.Name] = append(rt.edits[f.Name], edit{target: call, text: func(r *renderer) string { return r.of(x) }})
		}
		return true
	})
}

// exprType is the type of an identifier or a selector, from the Uses and
// Selections the type checker recorded (the codemod does not keep the type
// of every expression: at scale it is most of the memory). Other
// expressions give nil.
func exprType(info *types.Info, e ast.Expr) types.Type {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		if obj := info.ObjectOf(e); obj != nil {
			if _, isType := obj.(*types.TypeName); !isType {
				return obj.Type()
			}
		}
	case *ast.SelectorExpr:
		if s := info.Selections[e]; s != nil {
			return s.Type()
		}
		if obj := info.Uses[e.Sel]; obj != nil {
			if _, isType := obj.(*types.TypeName); !isType {
				return obj.Type()
			}
		}
	}
	return nil
}

// typeExprType is the type a type expression denotes, or nil if it is not
// a plain (possibly qualified, possibly pointer) type name.
func typeExprType(info *types.Info, e ast.Expr) types.Type {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		if tn, ok := info.Uses[e].(*types.TypeName); ok {
			return tn.Type()
		}
	case *ast.SelectorExpr:
		if tn, ok := info.Uses[e.Sel].(*types.TypeName); ok {
			return tn.Type()
		}
	case *ast.StarExpr:
		if t := typeExprType(info, e.X); t != nil {
			return types.NewPointer(t)
		}
	case *ast.ArrayType:
		if t := typeExprType(info, e.Elt); t != nil {
			return types.NewSlice(t) // only the element type matters here
		}
	case *ast.IndexExpr:
		return instance(info, e.X, e.Index)
	case *ast.IndexListExpr:
		return instance(info, e.X, e.Indices...)
	case *ast.MapType:
		k, v := typeExprType(info, e.Key), typeExprType(info, e.Value)
		if _, ok := e.Key.(*ast.InterfaceType); ok {
			// No key literal can elide an interface type, so the key's
			// type does not matter: map[interface{}]*T{"a": {1, 2}}.
			k = types.Typ[types.Invalid]
		}
		if k != nil && v != nil {
			return types.NewMap(k, v)
		}
	case *ast.StructType:
		// An anonymous struct, as in a table-driven test: its fields by
		// position, so that a legacy field set without keys is still seen.
		// A field type this function cannot name is no legacy type.
		var fields []*types.Var
		for _, f := range e.Fields.List {
			t := typeExprType(info, f.Type)
			if t == nil {
				t = types.Typ[types.Invalid]
			}
			if len(f.Names) == 0 {
				fields = append(fields, types.NewField(f.Pos(), nil, "_", t, true))
			}
			for _, n := range f.Names {
				fields = append(fields, types.NewField(n.Pos(), nil, n.Name, t, false))
			}
		}
		return types.NewStruct(fields, nil)
	}
	return nil
}

// instance is the generic type gen instantiated with the type arguments
// args (box[int]), or nil if typeExprType cannot name them all. Its fields
// are new objects: their Origin is the declared field.
func instance(info *types.Info, gen ast.Expr, args ...ast.Expr) types.Type {
	g, ok := typeExprType(info, gen).(*types.Named)
	if !ok || g.TypeParams().Len() != len(args) {
		return nil
	}
	targs := make([]types.Type, len(args))
	for i, a := range args {
		if targs[i] = typeExprType(info, a); targs[i] == nil {
			return nil
		}
	}
	t, err := types.Instantiate(nil, g, targs, false)
	if err != nil {
		return nil
	}
	return t
}

// litType is the type of the composite literal at the top of stack: its
// own type expression, or for an elided one, the element type of the
// literal around it.
func litType(info *types.Info, stack []ast.Node) types.Type {
	lit := stack[len(stack)-1].(*ast.CompositeLit)
	if lit.Type != nil {
		return typeExprType(info, lit.Type)
	}
	around, key := enclosingLit(stack)
	if around == nil {
		return nil
	}
	outer := litType(info, around)
	if outer == nil {
		return nil
	}
	switch u := outer.Underlying().(type) {
	case *types.Slice:
		return u.Elem()
	case *types.Array:
		return u.Elem()
	case *types.Map:
		if key {
			return u.Key()
		}
		return u.Elem()
	}
	return nil
}

// enclosingLit returns the stack of the composite literal whose element
// (or key, then key is true) is the one with an elided type at the top of
// stack; nil if there is none.
func enclosingLit(stack []ast.Node) (around []ast.Node, key bool) {
	lit := stack[len(stack)-1]
	i := len(stack) - 2
	if kv, ok := stack[i].(*ast.KeyValueExpr); ok {
		key = kv.Key == lit
		i--
	}
	if _, ok := stack[i].(*ast.CompositeLit); !ok {
		return nil, false
	}
	return stack[:i+1], key
}

// litTypeExpr is the type expression of the composite literal at the top
// of stack, read from the syntax where litType cannot name the type: its
// own, or for an elided one, the element (or key) type expression of the
// literal around it; nil where the syntax does not say.
func litTypeExpr(stack []ast.Node) ast.Expr {
	lit := stack[len(stack)-1].(*ast.CompositeLit)
	if lit.Type != nil {
		return lit.Type
	}
	around, key := enclosingLit(stack)
	if around == nil {
		return nil
	}
	switch outer := ast.Unparen(litTypeExpr(around)).(type) {
	case *ast.ArrayType:
		return outer.Elt
	case *ast.MapType:
		if key {
			return outer.Key
		}
		return outer.Value
	}
	return nil
}

// calledAt reports whether stack[i], through parentheses, is the function
// of a call.
func calledAt(stack []ast.Node, i int) bool {
	var fun ast.Node = stack[i]
	for j := i - 1; j >= 0; j-- {
		switch p := stack[j].(type) {
		case *ast.ParenExpr:
			fun = p
			continue
		case *ast.CallExpr:
			return p.Fun == fun
		}
		return false
	}
	return false
}
