package codemod

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"go/version"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wsunify/wsunify/internal/gosrc"
)

// Method values. A legacy method taken as a value (send := m.SendToUser, an
// argument, a field value, a return value) becomes a func literal of the
// same type that calls the migrated form, so the code around it compiles
// unchanged:
//
//	func(ctx context.Context, userID string, msg map[string]any) error {
//		return bridge.NotifierOf(m).Notify(ctx, facade.ToUser(userID), facade.Raw(msg))
//	}
//
// A method value evaluates its receiver once, where the value is taken. The
// short form above evaluates it at every call instead, which is the same
// only when the receiver is a local variable or parameter that is never
// assigned after its declaration nor has its address taken, and when the
// value the method would see is the variable's own (an interface, or a
// pointer with a pointer method). Any other receiver is bound where the
// value is taken, by a func literal called on the spot:
//
//	func(n facade.Notifier) func(context.Context, string, map[string]any) error {
//		return func(ctx context.Context, userID string, msg map[string]any) error {
//			return n.Notify(ctx, facade.ToUser(userID), facade.Raw(msg))
//		}
//	}(bridge.NotifierOf(s.manager))
//
// The literal's type is the method value's: bridge.Message, an alias, is
// written map[string]any, and the packages the signature names are imported
// where the file lacks them. A method expression (methodExprText) takes the
// receiver as its first parameter and binds nothing.
//
// A method of a recipe's second-step call rule whose receiver a legacy
// function builds (Rule.Via, as in bridge.NewWebSocketManager(h).M(u))
// needs what it was built from: its values are left to the retype step,
// which renames them on a variable that becomes that, and reported
// otherwise. (The built-in recipe has none: IsConnectionActive and
// GetUserConnections ask bridge.PresenceOf(m) in the first step, and a
// method value of theirs on a retyped receiver is m.Connected, m.ConnIDs.)

// methodValueReason returns why the method value sel of rule r cannot be
// rewritten, or "" when it can.
func (l *legacy) methodValueReason(pkg *Package, sel *ast.SelectorExpr, r *Rule) (string, []Related) {
	if r.hubMethod != "" {
		return "needs a *facade.Hub: reachable only when the receiver is a variable built by bridge.NewWebSocketManager (retype step)", nil
	}
	s := pkg.Info.Selections[sel]
	what, want := "method value", len(r.form.params)-1
	if s.Kind() == types.MethodExpr {
		what, want = "method expression", want+1 // the receiver comes first
	}
	sig, ok := s.Type().(*types.Signature)
	if !ok || sig.Params().Len() != want || sig.Variadic() {
		return what + ": its signature is not the legacy one; call the facade in a func literal by hand", nil
	}
	var foreign string
	check := func(t types.Type) {
		if n := unexportedType(t, pkg.Types); n != "" && foreign == "" {
			foreign = n
		}
	}
	for i := range sig.Params().Len() {
		check(sig.Params().At(i).Type())
	}
	for i := range sig.Results().Len() {
		check(sig.Results().At(i).Type())
	}
	if foreign != "" {
		return fmt.Sprintf("%s: its type names %s, which this package cannot name; call the facade in a func literal by hand", what, foreign), nil
	}
	return shadowReason(pkg, sel.Pos(), sig)
}

// unexportedType returns the name of a type inside t that belongs to
// another package than pkg and is not exported, or "".
func unexportedType(t types.Type, pkg *types.Package) string {
	switch t := t.(type) {
	case *types.Alias:
		if o := t.Obj(); o.Pkg() != nil && o.Pkg() != pkg && !o.Exported() {
			return o.Pkg().Name() + "." + o.Name()
		}
		return unexportedType(types.Unalias(t), pkg)
	case *types.Named:
		if o := t.Obj(); o.Pkg() != nil && o.Pkg() != pkg && !o.Exported() {
			return o.Pkg().Name() + "." + o.Name()
		}
		for i := range t.TypeArgs().Len() {
			if n := unexportedType(t.TypeArgs().At(i), pkg); n != "" {
				return n
			}
		}
	case *types.Pointer:
		return unexportedType(t.Elem(), pkg)
	case *types.Slice:
		return unexportedType(t.Elem(), pkg)
	case *types.Array:
		return unexportedType(t.Elem(), pkg)
	case *types.Chan:
		return unexportedType(t.Elem(), pkg)
	case *types.Map:
		if n := unexportedType(t.Key(), pkg); n != "" {
			return n
		}
		return unexportedType(t.Elem(), pkg)
	}
	return ""
}

// methodValueRecv returns how the receiver of the method value u is reached:
// the embedded fields a promoted method goes through, and "&" when the
// method takes a pointer to an addressable value, "*" when it takes a copy
// of the value a pointer points to (a method value copies it where it is
// taken).
func methodValueRecv(pkg *Package, u use) (prefix string, path []string) {
	s := pkg.Info.Selections[u.sel]
	path = receiverPath(pkg, u)
	if len(s.Index()) > 1 && path == nil {
		return "", nil // reached through a field this package cannot name: as written
	}
	t := s.Recv()
	if len(path) > 0 {
		fields := embeddedPath(s)
		t = fields[len(fields)-1].Type()
	}
	return derefPrefix(s.Obj().(*types.Func), t), path
}

// derefPrefix returns "&" when method fn, reached on a value of type t,
// takes its address, "*" when it takes a copy of what t points to, and ""
// otherwise.
func derefPrefix(fn *types.Func, t types.Type) string {
	recv := fn.Signature().Recv()
	if recv == nil || types.IsInterface(recv.Type()) {
		return ""
	}
	_, ptrRecv := recv.Type().(*types.Pointer)
	_, ptrVal := t.Underlying().(*types.Pointer)
	switch {
	case ptrRecv && !ptrVal && !types.IsInterface(t):
		return "&"
	case !ptrRecv && ptrVal:
		return "*"
	}
	return ""
}

// stableReceiver reports whether the receiver of the method value u may be
// evaluated at every call instead of once: see the comment at the top of
// this file.
func (e *fileEditor) stableReceiver(u use) bool {
	id, ok := ast.Unparen(u.sel.X).(*ast.Ident)
	if !ok || len(e.pkg.Info.Selections[u.sel].Index()) > 1 {
		return false
	}
	v, ok := e.pkg.Info.Uses[id].(*types.Var)
	if !ok || v.IsField() || v.Parent() == nil || v.Parent() == e.pkg.Types.Scope() {
		return false
	}
	switch t := v.Type().(type) {
	case *types.TypeParam:
		return false // its type set may hold values copied by the method value
	case *types.Pointer:
		if derefPrefix(e.pkg.Info.Selections[u.sel].Obj().(*types.Func), t) != "" {
			return false
		}
	default:
		if !types.IsInterface(t) {
			return false
		}
	}
	return !e.assigned()[v]
}

// assigned returns the variables of the file that are assigned after their
// declaration, incremented, or have their address taken.
func (e *fileEditor) assigned() map[*types.Var]bool {
	if e.assignedVars != nil {
		return e.assignedVars
	}
	e.assignedVars = map[*types.Var]bool{}
	v := e.pkg.Types.GoVersion()
	sharedLoopVars := v != "" && version.Compare(v, "go1.22") < 0
	mark := func(x ast.Expr) {
		if id, ok := ast.Unparen(x).(*ast.Ident); ok {
			if v, ok := e.pkg.Info.Uses[id].(*types.Var); ok {
				e.assignedVars[v] = true
			}
		}
	}
	ast.Inspect(e.f.AST, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for _, l := range n.Lhs {
				mark(l) // := records a redeclared variable as a use
			}
		case *ast.IncDecStmt:
			mark(n.X)
		case *ast.UnaryExpr:
			if n.Op == token.AND {
				mark(n.X)
			}
		case *ast.RangeStmt:
			switch {
			case n.Tok == token.ASSIGN:
				mark(n.Key)
				mark(n.Value)
			case n.Tok == token.DEFINE && sharedLoopVars:
				// Before Go 1.22 one variable serves every iteration.
				for _, x := range []ast.Expr{n.Key, n.Value} {
					if id, ok := x.(*ast.Ident); ok {
						if v, ok := e.pkg.Info.Defs[id].(*types.Var); ok {
							e.assignedVars[v] = true
						}
					}
				}
			}
		}
		return true
	})
	return e.assignedVars
}

// importName returns the name that refers to package p at pos: the file's
// own import when it is not shadowed there, else a fresh name the file
// will import p under.
func (e *fileEditor) importName(p *types.Package, pos token.Pos) string {
	switch {
	case p == nil || p == e.pkg.Types:
		return ""
	case p.Path() == FacadePath:
		e.needFacade = true
		return e.facadeName
	}
	if imp, ok := e.imports[p.Path()]; ok {
		return imp.name
	}
	scope := e.pkg.Types.Scope().Innermost(pos)
	for _, spec := range e.f.AST.Imports {
		pn := e.pkg.Info.PkgNameOf(spec)
		if pn == nil || pn.Imported().Path() != p.Path() || pn.Name() == "_" || pn.Name() == "." || scope == nil {
			continue
		}
		if _, obj := scope.LookupParent(pn.Name(), pos); obj == pn {
			e.keep[pn] = true
			return pn.Name()
		}
	}
	name := e.fresh(p.Name(), "ws"+p.Name())
	e.imports[p.Path()] = addedImport{name: name, pkgName: p.Name()}
	return name
}

// addedImport is an import the edits add to a file.
type addedImport struct{ name, pkgName string }

// sigText writes sig as a func type, qualified by q, with the parameter
// names names (none when nil). bridge.Message is written map[string]any.
func sigText(sig *types.Signature, names []string, q types.Qualifier) string {
	typ := func(t types.Type) string {
		if a, ok := t.(*types.Alias); ok && a.Obj().Pkg() != nil && a.Obj().Pkg().Path() == BridgePath {
			t = types.Unalias(t)
		}
		return types.TypeString(t, q)
	}
	var b strings.Builder
	b.WriteString("func(")
	params := sig.Params()
	for i := range params.Len() {
		t := typ(params.At(i).Type())
		if names == nil {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(t)
			continue
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(names[i])
		// Consecutive parameters of one type share it.
		if i+1 == params.Len() || typ(params.At(i+1).Type()) != t {
			b.WriteString(" " + t)
		}
	}
	b.WriteString(")")
	res := sig.Results()
	switch res.Len() {
	case 0:
	case 1:
		b.WriteString(" " + typ(res.At(0).Type()))
	default:
		parts := make([]string, res.Len())
		for i := range res.Len() {
			parts[i] = typ(res.At(i).Type())
		}
		b.WriteString(" (" + strings.Join(parts, ", ") + ")")
	}
	return b.String()
}

// methodValueText is the func literal the method value or expression u
// becomes: its rule's form rendered with the literal's parameters.
func (r *renderer) methodValueText(u use) string {
	e := r.e
	s := e.pkg.Info.Selections[u.sel]
	sig := s.Type().(*types.Signature)
	pos := u.sel.Pos()
	f := u.rule.form
	qualifiers := map[string]bool{}
	q := func(p *types.Package) string {
		n := e.importName(p, pos)
		qualifiers[n] = true
		return n
	}
	qual := r.qual(pos)
	// The names the form writes for packages, which parameters must not
	// shadow.
	formQuals := map[string]bool{e.facadeName: true}
	for _, p := range f.qualUse {
		switch p.path {
		case FacadePath:
		case BridgePath:
			formQuals[e.bridgeName] = true
		default:
			formQuals[qual(p)] = true
		}
	}
	render := func(binds []binding, over map[ast.Node]string, direct bool, x ast.Expr) string {
		fr := &formRender{f: f, bind: binds, qual: qual, over: over, direct: direct, unwrap: e.l.unwrapsOnRetype}
		return fr.expr(x).text
	}
	// A method without results is called as a statement: the form is too.
	ret := "return "
	if sig.Results().Len() == 0 {
		ret = ""
	}
	if s.Kind() == types.MethodExpr {
		// The receiver is the first parameter, which keeps its type; the
		// facade is reached through it and nothing is bound.
		names := slices.Clone(f.params)
		avoid := maps.Clone(formQuals)
		avoid[e.bridgeName] = true
		for i, n := range names {
			names[i] = gosrc.FreshName(n, func(n string) bool { return avoid[n] })
			avoid[names[i]] = true
		}
		binds := make([]binding, len(names))
		for i, n := range names {
			binds[i] = binding{text: n}
		}
		fn := s.Obj().(*types.Func)
		binds[0].text = derefPrefix(fn, sig.Params().At(0).Type()) + names[0]
		return sigText(sig, names, q) + " {\n\t" + ret + render(binds, nil, false, f.expr) + "\n}"
	}
	bare := sigText(sig, nil, q)
	prefix, path := methodValueRecv(e.pkg, u)
	recv := r.of(u.sel.X)
	for _, n := range path {
		recv += "." + n
	}
	recv = prefix + recv
	direct := e.direct[u.sel]
	if m, ok := forwardedMethod(f, e.l.unwrapsOnRetype); ok && direct {
		return recv + "." + m
	}

	// The names the literal's body refers to, which its parameters must
	// not shadow.
	avoid := maps.Clone(formQuals)
	short := e.stableReceiver(u)
	part := f.recvPart()
	binder, binderType := "", ""
	if short {
		ast.Inspect(u.sel.X, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				avoid[id.Name] = true
			}
			return true
		})
	} else {
		// The receiver is evaluated once, where the value is taken: bound
		// to a parameter of a func literal called on the spot.
		t := r.formType(f, part, s, direct)
		binderType = types.TypeString(t, q)
		binder = gosrc.FreshName(binderName(t), func(n string) bool { return qualifiers[n] || formQuals[n] })
		avoid[binder] = true
	}
	names := slices.Clone(f.params[1:])
	for i, n := range names {
		names[i] = gosrc.FreshName(n, func(n string) bool { return avoid[n] })
	}
	binds := make([]binding, len(f.params))
	binds[0].text = recv
	for i, n := range names {
		binds[i+1].text = n
	}
	inner := sigText(sig, names, q)
	if short {
		return inner + " {\n\t" + ret + render(binds, nil, direct, f.expr) + "\n}"
	}
	value := render(binds, nil, direct, part)
	body := render(binds, map[ast.Node]string{part: binder}, direct, f.expr)
	return "func(" + binder + " " + binderType + ") " + bare + " {\n\treturn " + inner + " {\n\t\t" + ret +
		body + "\n\t}\n}(" + value + ")"
}

// formType is the type of the part of form f that a method value binds
// (see form.recvPart): the result of the function it calls, or the type of
// the method value's receiver.
func (r *renderer) formType(f *form, part ast.Expr, s *types.Selection, direct bool) types.Type {
	if call, ok := part.(*ast.CallExpr); ok {
		if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok {
				if p, ok := f.qualUse[x]; ok && r.e.lookup != nil {
					if pkg := r.e.lookup(p.path); pkg != nil {
						if fn, ok := pkg.Scope().Lookup(sel.Sel.Name).(*types.Func); ok && fn.Signature().Results().Len() == 1 {
							return fn.Signature().Results().At(0).Type()
						}
					}
				}
			}
		}
	}
	return s.Recv()
}

// binderName names the parameter that binds a value of type t: the first
// letter of its type's name, lower-cased (n for a facade.Notifier).
func binderName(t types.Type) string {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		c, _ := utf8.DecodeRuneInString(n.Obj().Name())
		return string(unicode.ToLower(c))
	}
	return "x"
}
