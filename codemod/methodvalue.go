package codemod

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"go/version"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dave/dst"
	"github.com/dave/dst/decorator"
	"github.com/dave/dst/dstutil"
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
// The methods of IsConnectionActive and GetUserConnections need a
// *facade.Hub: their values are left to the retype step, which renames them
// on a variable that becomes a *facade.Hub, and reported otherwise.

// methodValueReason returns why the method value sel of rule r cannot be
// rewritten, or "" when it can.
func (l *legacy) methodValueReason(pkg *Package, sel *ast.SelectorExpr, r *Rule) (string, []Related) {
	if r.hubMethod != "" {
		return "needs a *facade.Hub: reachable only when the receiver is a variable built by bridge.NewWebSocketManager (retype step)", nil
	}
	s := pkg.Info.Selections[sel]
	what, want := "method value", len(r.paramNames())
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

// paramNames names the parameters of the func literal a method value of r
// becomes, after what each one feeds in the migrated form.
func (r *Rule) paramNames() []string {
	names := []string{"ctx"}
	switch {
	case r.payload != "":
		switch r.target {
		case "ToUser":
			names = append(names, "userID")
		case "ToThread":
			names = append(names, "threadID")
		}
		if r.payload == "Critical" {
			return append(names, "eventType", "data")
		}
		return append(names, "msg")
	case r.event != "":
		for _, f := range r.fields {
			f = strings.TrimPrefix(f, "Data.")
			c, n := utf8.DecodeRuneInString(f)
			names = append(names, string(unicode.ToLower(c))+f[n:])
		}
	}
	return names
}

// migratedCall is the migrated form of a call of r on recv with args (as
// text), on one line; facade qualifies a name of package facade.
func migratedCall(r *Rule, recv string, args []string, facade func(string) string) string {
	if r.payload != "" {
		n := 1
		target := facade("ToAll") + "()"
		if r.target != "" {
			target = facade(r.target) + "(" + args[1] + ")"
			n = 2
		}
		payload := facade(r.payload) + "(" + strings.Join(args[n:], ", ") + ")"
		return recv + ".Notify(" + args[0] + ", " + target + ", " + payload + ")"
	}
	elems := []string{"Type: " + facade(r.event)}
	var data []string
	dataAt := -1
	for i, field := range r.fields {
		if sub, ok := strings.CutPrefix(field, "Data."); ok {
			if dataAt < 0 {
				dataAt = len(elems)
				elems = append(elems, "")
			}
			data = append(data, sub+": "+args[i+1])
			continue
		}
		elems = append(elems, field+": "+args[i+1])
	}
	if dataAt >= 0 {
		elems[dataAt] = "Data: " + facade(r.dataType) + "{" + strings.Join(data, ", ") + "}"
	}
	return recv + ".Emit(" + args[0] + ", " + facade("Event") + "{" + strings.Join(elems, ", ") + "})"
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

// methodValueText is the func literal the method value u becomes, with x
// the text of its receiver expression.
func (e *fileEditor) methodValueText(u use, x string) string {
	s := e.pkg.Info.Selections[u.sel]
	sig := s.Type().(*types.Signature)
	pos := u.sel.Pos()
	qualifiers := map[string]bool{}
	q := func(p *types.Package) string {
		n := e.importName(p, pos)
		qualifiers[n] = true
		return n
	}
	facade := func(name string) string {
		e.needFacade = true
		return e.facadeName + "." + name
	}
	if s.Kind() == types.MethodExpr {
		return e.methodExprText(u, sig, q, facade)
	}
	bare := sigText(sig, nil, q)

	prefix, path := methodValueRecv(e.pkg, u)
	recv := x
	for _, n := range path {
		recv += "." + n
	}
	recv = prefix + recv
	wrapFn, binderType, binder := "NotifierOf", facade("Notifier"), "n"
	if u.rule.event != "" {
		wrapFn, binderType, binder = "EmitterOf", "*"+facade("Emitter"), "e"
	}
	if !e.direct[u.sel] {
		e.usesAddedText = true
		recv = e.bridgeName + "." + wrapFn + "(" + recv + ")"
	}

	// The names the literal's body refers to, which its parameters must
	// not shadow.
	avoid := map[string]bool{e.facadeName: true}
	short := e.stableReceiver(u)
	if short {
		ast.Inspect(u.sel.X, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				avoid[id.Name] = true
			}
			return true
		})
		if !e.direct[u.sel] {
			avoid[e.bridgeName] = true
		}
	} else {
		// The binder is in scope where the inner signature is written.
		binder = freeName(binder, func(n string) bool { return qualifiers[n] || n == e.facadeName })
		avoid[binder] = true
	}
	names := u.rule.paramNames()
	for i, n := range names {
		names[i] = freeName(n, func(n string) bool { return avoid[n] })
	}
	inner := sigText(sig, names, q)
	if short {
		return inner + " {\n\treturn " + migratedCall(u.rule, recv, names, facade) + "\n}"
	}
	return "func(" + binder + " " + binderType + ") " + bare + " {\n\treturn " + inner + " {\n\t\treturn " +
		migratedCall(u.rule, binder, names, facade) + "\n\t}\n}(" + recv + ")"
}

// methodExprText is the func literal the method expression u
// (bridge.WebSocketManager.SendToUser, (*Impl).SendToUser) becomes: its
// first parameter is the receiver, which keeps its type, and the facade is
// reached through bridge.NotifierOf or bridge.EmitterOf of it. Nothing is
// evaluated where the expression stands, so no binding is needed.
func (e *fileEditor) methodExprText(u use, sig *types.Signature, q types.Qualifier, facade func(string) string) string {
	wrapFn, recvName := "NotifierOf", "m"
	if u.rule.event != "" {
		wrapFn, recvName = "EmitterOf", "b"
	}
	avoid := map[string]bool{e.facadeName: true, e.bridgeName: true}
	names := append([]string{recvName}, u.rule.paramNames()...)
	for i, n := range names {
		names[i] = freeName(n, func(n string) bool { return avoid[n] })
		avoid[names[i]] = true
	}
	fn := e.pkg.Info.Selections[u.sel].Obj().(*types.Func)
	recv := derefPrefix(fn, sig.Params().At(0).Type()) + names[0]
	e.usesAddedText = true
	recv = e.bridgeName + "." + wrapFn + "(" + recv + ")"
	return sigText(sig, names, q) + " {\n\treturn " + migratedCall(u.rule, recv, names[1:], facade) + "\n}"
}

// freeName returns name, or name followed by a number, for which taken is
// false.
func freeName(name string, taken func(string) bool) string {
	for i := 2; taken(name); i++ {
		name = strings.TrimRight(name, "0123456789") + strconv.Itoa(i)
	}
	return name
}

// methodValueHole stands for the receiver in the text of a method value
// the dst path parses; it is replaced by the receiver's own node.
const methodValueHole = "wsunifyMethodValueReceiver"

// rewriteMethodValue rewrites the method value u in place: the literal is
// parsed from the same text as the text path writes, and the receiver's
// node, with its comments, takes the place of the hole.
func (e *fileEditor) rewriteMethodValue(u use) {
	src := snippetPrefix + e.methodValueText(u, methodValueHole) + "\n"
	fset := token.NewFileSet()
	af, err := parser.ParseFile(fset, "", src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		panic(fmt.Sprintf("codemod: method value literal does not parse: %v\n%s", err, src))
	}
	df, err := decorator.NewDecorator(fset).DecorateFile(af)
	if err != nil {
		panic(fmt.Sprintf("codemod: method value literal: %v", err))
	}
	lit := df.Decls[0].(*dst.GenDecl).Specs[0].(*dst.ValueSpec).Values[0]
	recv := e.node(u.sel.X).(dst.Expr)
	dstutil.Apply(lit, func(c *dstutil.Cursor) bool {
		if id, ok := c.Node().(*dst.Ident); ok && id.Name == methodValueHole {
			c.Replace(recv)
		}
		return true
	}, nil)
	*lit.Decorations() = dst.NodeDecs{}
	sel := e.node(u.sel)
	moveDecs(sel, lit)
	e.replace[sel] = lit
}
