package codemod

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"
)

// facadetestPath is the import path of the facade's test double, whose
// Recorder takes the place of a team's legacy double.
const facadetestPath = FacadePath + "/facadetest"

// The swap of a test double. A double T that reaches the facade only
// through the bridge's adapters (doubles.go) is, where a test holds it, a
// *facadetest.Recorder in the making: the retype step puts one in its
// place, in every slot (a local variable or a struct field of type *T)
// that the test uses only
//
//   - as the value of bridge.NotifierOf or bridge.EmitterOf (the next
//     step folds them: rec for a Notifier, rec.Emitter() for an Emitter);
//     not of bridge.PresenceOf, through which the code asks the double
//     who is connected: T answers in its own terms, a Recorder from what
//     the test set with SetConns, and a test that relied on T's answer
//     would fail after the step;
//   - through methods that *facadetest.Recorder has with the same name
//     and the same signature (Types, FailWith, Sent of a double that
//     records facade values, …), taken to mean what the Recorder's do:
//     they are what doubles of the kind offer, and the tests of the step
//     say if one does not;
//   - set to an empty &T{} or new(T), which become &facadetest.Recorder{}
//     and new(facadetest.Recorder).
//
// A slot used any other way (a method the Recorder has not, or has with
// another signature; the double's own record types read; the slot passed
// on, copied or addressed) keeps its double, and the double's finding
// lists each such use with the Recorder's counterpart if it has one: those
// assertions read what the double recorded in its own terms, and which
// Recorder reading means the same is the team's decision. The swap is
// verified with the rest of the step, and a slot whose swap does not
// type-check keeps its double (the steer's skip, as a declaration does).
type swapSlot struct {
	v       *types.Var
	ident   *ast.Ident // its declaration
	sites   []useSite  // the type expressions naming T to rewrite
	blocked bool
}

// doubleSwap is the swap of one double's slots.
type doubleSwap struct {
	tn       *types.TypeName
	rec      types.Type // *facadetest.Recorder
	slots    map[*types.Var]*swapSlot
	blockers []Related // the uses that keep a slot's double, for the finding
	asked    bool      // a slot is kept because the code asks it who is connected
}

// recorderType returns *facadetest.Recorder, or why the program has none:
// an older wsunify, or a vendor directory without facadetest.
func (rt *retyper) recorderType() (types.Type, error) {
	p, err := rt.prog.loadTypes(facadetestPath)
	if err != nil {
		if strings.Contains(err.Error(), "-mod=vendor") {
			err = fmt.Errorf("%s is not in vendor/ (go mod vendor adds it once a test imports it)", facadetestPath)
		}
		return nil, err
	}
	tn, ok := p.Scope().Lookup("Recorder").(*types.TypeName)
	if !ok {
		return nil, fmt.Errorf("%s has no Recorder: a wsunify older than this one", facadetestPath)
	}
	return types.NewPointer(tn.Type()), nil
}

// swapDoubles plans the swap of the slots of every double that reaches
// the facade only through the adapters. It runs after plan, and only
// when the program asserts that a type implements a legacy interface.
func (rt *retyper) swapDoubles() {
	var rec types.Type
	for _, d := range rt.order {
		if d.blocked == "" || !isAssertion(d) {
			continue
		}
		tn, u := rt.doubleUsage(d)
		if tn == nil || len(u.legacy) > 0 || len(u.unknown) > 0 || len(u.wraps) == 0 {
			continue
		}
		if rec == nil {
			if rec, _ = rt.recorderType(); rec == nil {
				return // doubleReason says why
			}
		}
		s := &doubleSwap{tn: tn, rec: rec, slots: map[*types.Var]*swapSlot{}}
		for _, pkg := range rt.prog.Packages {
			if pkg.Info == nil {
				continue
			}
			for _, f := range pkg.Files {
				rt.swapUsesIn(s, pkg, f)
			}
		}
		if rt.swaps == nil {
			rt.swaps = map[*types.TypeName]*doubleSwap{}
		}
		rt.swaps[tn] = s
		rt.planSwap(s)
	}
}

// planSwap adds the edits of the slots of s that nothing blocks.
func (rt *retyper) planSwap(s *doubleSwap) {
	for _, sl := range s.slots {
		if sl.blocked || sl.ident == nil || len(sl.sites) == 0 {
			continue
		}
		if _, kept := rt.st.kept(rt.prog.Fset, sl.ident); kept {
			continue
		}
		key := declKey(rt.prog.Fset, sl.ident)
		rt.touched[key] = map[string]bool{}
		for _, u := range sl.sites {
			te := u.node
			rt.edits[u.file.Name] = append(rt.edits[u.file.Name], edit{target: te, text: func(r *renderer) string {
				return r.e.importName(types.NewPackage(facadetestPath, "facadetest"), te.Pos()) + ".Recorder"
			}})
			rt.touched[key][u.file.Name] = true
		}
	}
}

// slot returns the slot of v, a variable of type *T, creating it.
func (s *doubleSwap) slot(v *types.Var) *swapSlot {
	sl := s.slots[v]
	if sl == nil {
		sl = &swapSlot{v: v}
		s.slots[v] = sl
	}
	return sl
}

// blockSlot keeps v's double because of the use at n, which the finding
// lists.
func (rt *retyper) blockSlot(s *doubleSwap, v *types.Var, n ast.Node, why string) {
	s.slot(v).blocked = true
	s.blockers = append(s.blockers, Related{Pos: rt.prog.Fset.Position(n.Pos()), Message: why})
}

// newOf returns the type expression T of an empty &T{} or new(T) of tn,
// or nil.
func newOf(info *types.Info, e ast.Expr, tn *types.TypeName) ast.Expr {
	switch e := ast.Unparen(e).(type) {
	case *ast.UnaryExpr:
		if lit, ok := e.X.(*ast.CompositeLit); ok && e.Op == token.AND && lit.Type != nil && len(lit.Elts) == 0 &&
			namedOf(typeExprType(info, lit.Type)) == tn && !isPointerType(typeExprType(info, lit.Type)) {
			return lit.Type
		}
	case *ast.CallExpr:
		if id, ok := ast.Unparen(e.Fun).(*ast.Ident); ok && id.Name == "new" && len(e.Args) == 1 &&
			info.Uses[id] == types.Universe.Lookup("new") && namedOf(typeExprType(info, e.Args[0])) == tn &&
			!isPointerType(typeExprType(info, e.Args[0])) {
			return e.Args[0]
		}
	}
	return nil
}

func isPointerType(t types.Type) bool {
	_, ok := t.(*types.Pointer)
	return ok
}

// isPtrTo reports whether t is *tn.
func isPtrTo(t types.Type, tn *types.TypeName) bool {
	p, ok := t.(*types.Pointer)
	return ok && namedOf(p.Elem()) == tn && !isPointerType(p.Elem())
}

// swapUsesIn records the slots of s's double in f and how f uses them.
func (rt *retyper) swapUsesIn(s *doubleSwap, pkg *Package, f *File) {
	info := pkg.Info
	walk(f.AST, func(stack []ast.Node) {
		switch n := stack[len(stack)-1].(type) {
		case *ast.CompositeLit:
			// Positional fields of a struct literal set slots unseen.
			if len(n.Elts) == 0 {
				return
			}
			if _, keyed := n.Elts[0].(*ast.KeyValueExpr); keyed {
				return
			}
			var st *types.Struct
			if t := typeExprType(info, n.Type); n.Type != nil && t != nil {
				st, _ = t.Underlying().(*types.Struct)
			}
			if st == nil {
				return
			}
			for i := range st.NumFields() {
				if fv := st.Field(i); isPtrTo(fv.Type(), s.tn) {
					rt.blockSlot(s, fv.Origin(), n, "a struct literal without field names sets "+fv.Name())
				}
			}
			return
		case *ast.Ident:
			var v *types.Var
			def := false
			if obj, ok := info.Defs[n].(*types.Var); ok {
				v, def = obj, true
			} else if obj, ok := info.Uses[n].(*types.Var); ok {
				v = obj
			}
			if v == nil || !isPtrTo(v.Type(), s.tn) || inMethodOf(stack, info, s.tn) {
				return // the double's own methods go with it
			}
			if !pkg.Selected {
				rt.blockSlot(s, v, n, fmt.Sprintf("%s is used in %s, which the step does not rewrite", n.Name, pkg.Path))
				return
			}
			sl := s.slot(v)
			if def {
				sl.ident = n
				rt.swapDef(s, sl, pkg, f, stack)
				return
			}
			rt.swapUse(s, sl, pkg, f, stack)
		}
	})
}

// swapDef records the declaration of a slot: the type expression of a
// field or variable, the &T{} of x := &T{}.
func (rt *retyper) swapDef(s *doubleSwap, sl *swapSlot, pkg *Package, f *File, stack []ast.Node) {
	info := pkg.Info
	id := stack[len(stack)-1].(*ast.Ident)
	site := func(e ast.Expr) { sl.sites = append(sl.sites, useSite{pkg: pkg, file: f, node: e}) }
	star := func(te ast.Expr) bool {
		if st, ok := te.(*ast.StarExpr); ok && namedOf(typeExprType(info, st.X)) == s.tn {
			site(st.X)
			return true
		}
		return false
	}
	switch p := stack[len(stack)-2].(type) {
	case *ast.Field:
		_, inStruct := stack[len(stack)-3].(*ast.FieldList)
		if inStruct {
			_, inStruct = stack[len(stack)-4].(*ast.StructType)
		}
		switch {
		case !inStruct:
			rt.blockSlot(s, sl.v, id, id.Name+" is a parameter or a result")
		case len(p.Names) != 1:
			rt.blockSlot(s, sl.v, id, id.Name+" shares its type with the other fields of its line")
		case !star(p.Type):
			rt.blockSlot(s, sl.v, id, id.Name+"'s type is not written *"+s.tn.Name())
		}
	case *ast.AssignStmt:
		i := exprIndex(p.Lhs, id)
		var te ast.Expr
		if p.Tok == token.DEFINE && i >= 0 && len(p.Lhs) == len(p.Rhs) {
			te = newOf(info, p.Rhs[i], s.tn)
		}
		if te == nil {
			rt.blockSlot(s, sl.v, id, id.Name+" is set to a value other than an empty &"+s.tn.Name()+"{}")
			return
		}
		site(te)
	case *ast.ValueSpec:
		if len(p.Names) != 1 || (p.Type != nil && !star(p.Type)) {
			rt.blockSlot(s, sl.v, id, id.Name+" shares its declaration with other names")
			return
		}
		for _, v := range p.Values {
			te := newOf(info, v, s.tn)
			if te == nil {
				rt.blockSlot(s, sl.v, id, id.Name+" is set to a value other than an empty &"+s.tn.Name()+"{}")
				return
			}
			site(te)
		}
	default:
		rt.blockSlot(s, sl.v, id, id.Name+" is declared where the step cannot give it another type")
	}
}

// swapUse checks a use of a slot: a method of the Recorder's, an adapter's
// argument, a field key or assignment with an empty &T{}.
func (rt *retyper) swapUse(s *doubleSwap, sl *swapSlot, pkg *Package, f *File, stack []ast.Node) {
	info := pkg.Info
	id := stack[len(stack)-1].(*ast.Ident)
	i := len(stack) - 2
	var e ast.Expr = id
	switch p := stack[i].(type) {
	case *ast.KeyValueExpr:
		if p.Key == id {
			te := newOf(info, p.Value, s.tn)
			if te == nil {
				rt.blockSlot(s, sl.v, p.Value, id.Name+" is set to a value other than an empty &"+s.tn.Name()+"{}")
				return
			}
			sl.sites = append(sl.sites, useSite{pkg: pkg, file: f, node: te})
			return
		}
	case *ast.SelectorExpr:
		if p.Sel == id { // x.f: the selector is the slot's value
			e, i = p, i-1
		}
	}
	at := fmt.Sprintf("%s here is a *%s", types.ExprString(e), s.tn.Name())
	switch p := stack[i].(type) {
	case *ast.SelectorExpr:
		if p.X != e {
			break
		}
		sel := info.Selections[p]
		var fn *types.Func
		if sel != nil && sel.Kind() == types.MethodVal {
			fn, _ = sel.Obj().(*types.Func)
		}
		if fn == nil {
			rt.blockSlot(s, sl.v, p, fmt.Sprintf("%s reads a field of %s", types.ExprString(p), s.tn.Name()))
			return
		}
		obj, _, _ := types.LookupFieldOrMethod(s.rec, true, nil, fn.Name())
		m, ok := obj.(*types.Func)
		switch {
		case ok && types.Identical(m.Signature(), fn.Signature()):
			return // the Recorder's method of the same name and signature
		case ok:
			rt.blockSlot(s, sl.v, p, fmt.Sprintf("%s: %s's %s%s; a *facadetest.Recorder's is %s%s",
				types.ExprString(p), s.tn.Name(), fn.Name(), methodSig(fn, pkg), m.Name(), methodSig(m, pkg)))
		default:
			rt.blockSlot(s, sl.v, p, fmt.Sprintf("%s: a *facadetest.Recorder has no %s", types.ExprString(p), fn.Name()))
		}
		return
	case *ast.CallExpr:
		obj := calleeOf(info, p)
		if obj == nil || exprIndex(p.Args, e) < 0 {
			break
		}
		if w := rt.l.wrapTarget(obj); w != nil && w.iface.NumMethods() > 1 {
			// bridge.PresenceOf(x): the code asks x who is connected, and
			// T answers in its own terms (a Recorder from SetConns). The
			// finding lists the adapter already.
			sl.blocked, s.asked = true, true
			return
		}
		if rt.l.isOf(obj) || obj == rt.l.emitterOf {
			return // the next step folds the adapter
		}
	case *ast.AssignStmt:
		if k := exprIndex(p.Lhs, e); k >= 0 && len(p.Lhs) == len(p.Rhs) && p.Tok == token.ASSIGN {
			if te := newOf(info, p.Rhs[k], s.tn); te != nil {
				sl.sites = append(sl.sites, useSite{pkg: pkg, file: f, node: te})
				return
			}
		}
	}
	rt.blockSlot(s, sl.v, e, at)
}

// methodSig is the signature of fn as the file of pkg would write it.
func methodSig(fn *types.Func, pkg *Package) string {
	return strings.TrimPrefix(sigText(fn.Signature(), nil, func(p *types.Package) string {
		if p == pkg.Types {
			return ""
		}
		return p.Name()
	}), "func")
}

// swapBlockers are the uses that keep the slots of tn's double, for its
// finding, and whether a slot is kept because it is asked who is
// connected.
func (rt *retyper) swapBlockers(tn *types.TypeName) ([]Related, bool) {
	if s := rt.swaps[tn]; s != nil {
		return s.blockers, s.asked
	}
	return nil, false
}

// ownEmitter reports whether t, not legacy, has its own Emitter: a method
// Emitter() *facade.Emitter, which bridge.EmitterOf returns (a
// *facadetest.Recorder's).
func (rt *retyper) ownEmitter(t types.Type) bool {
	if _, legacy := rt.l.shapeOf(t); legacy || rt.l.emitter == nil {
		return false
	}
	sel := types.NewMethodSet(t).Lookup(nil, "Emitter")
	if sel == nil {
		return false
	}
	m, ok := sel.Obj().(*types.Func)
	if !ok {
		return false
	}
	sig := m.Signature()
	return sig.Params().Len() == 0 && sig.Results().Len() == 1 && types.Identical(sig.Results().At(0).Type(), rt.l.emitter)
}

// ownEmitterText is bridge.EmitterOf(x) of a value with its own Emitter:
// x.Emitter().
func ownEmitterText(r *renderer, x ast.Expr) string {
	switch x.(type) {
	case *ast.Ident, *ast.SelectorExpr, *ast.CallExpr, *ast.IndexExpr:
		return r.of(x) + ".Emitter()"
	}
	return "(" + r.of(x) + ").Emitter()"
}
