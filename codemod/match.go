package codemod

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"

	"github.com/wsunify/wsunify/codemod/recipe"
)

// Options select what a rewrite or an inventory covers.
type Options struct {
	// Recipe holds the rules of the migration; nil means the built-in
	// recipe (package recipe/builtin). The engine type-checks its source
	// again against the program it migrates, so that the recipe's types
	// are the program's own.
	Recipe *recipe.Recipe
	// Rules selects rules by ID; empty selects all.
	Rules RuleSet
	// Shapes maps a shape (the name of a legacy type of the recipe) to
	// qualified names of the user's own types that play its part
	// ("example.com/app/ws.Manager").
	Shapes map[Shape][]string
	// Generated rewrites generated files ("// Code generated … DO NOT
	// EDIT."); by default they are left alone, with a finding, and a
	// declaration they use keeps its type.
	Generated bool
	// API says whether the retype step may change the exported API of a
	// package, what importers outside its module can reach: by default
	// ([APIAuto]) it keeps a library's and changes a service's (api.go).
	API API
}

// role is the part a legacy type plays in the retype step, after the
// target its recipe gives a declaration of it: an interface (a manager
// becomes a facade.Notifier), a pointer (an agent bridge, a
// *facade.Emitter) or a value built from the legacy value's fields (a
// context, a facade.Scope).
type role int

const (
	roleNone role = iota // no retype rule: declarations keep their type
	roleNotifier
	roleEmitter
	roleScope
)

// legacy holds the rules of a recipe and the type objects that identify
// legacy code in one program.
type legacy struct {
	rules  []*Rule
	named  map[*types.TypeName]Shape // the recipe's legacy types and the shaped types
	ifaces map[Shape][]*types.Interface
	roles  map[Shape]role
	// methods holds the method rules by method name; types the type rules
	// by legacy type name.
	methods map[string][]*Rule
	types   map[types.Object]*Rule
	pkgs    map[string]bool // the recipe's legacy packages
	// everyRef counts every other name of a legacy package as a use left
	// (bridge-ref): the built-in recipe's legacy package goes as a whole,
	// a team's own stays beside its recipe's migrated forms.
	everyRef bool
	// retype is the rule of the retype step (its ID); nil if the recipe
	// has none.
	retype *Rule

	// What the retype step's rules name: the functions that reach a
	// target through a legacy value (bridge.NotifierOf), the legacy
	// constructors the step rewrites, and the target types.
	notifierOf, emitterOf      types.Object
	newManager, newAgentBridge types.Object
	newUserContext             types.Object
	notifier                   *types.Interface // facade.Notifier
	emitter                    types.Type       // *facade.Emitter
	targets                    map[newType]types.Type
	// The retype pairs: the one of any value of a legacy type, by shape;
	// those of a value a legacy constructor builds, by constructor; the
	// form of each; and the shape whose role is roleScope.
	anyValue map[Shape]*recipe.Rule
	// ifaceTargets are the pairs of any value whose target is an
	// interface, by shape (target.go).
	ifaceTargets map[Shape][]*ifaceTarget
	ctors        map[types.Object]*recipe.Rule
	forms        map[*recipe.Rule]*form
	scopeShape   Shape

	lookup func(path string) *types.Package
}

// newLegacy holds the rules of rc; lookup returns the package of the
// program with the given path if it is loaded. A nil rc makes nothing
// legacy.
func newLegacy(rc *recipe.Recipe, lookup func(path string) *types.Package, opts *Options) *legacy {
	l := &legacy{
		named:        map[*types.TypeName]Shape{},
		ifaces:       map[Shape][]*types.Interface{},
		roles:        map[Shape]role{},
		methods:      map[string][]*Rule{},
		types:        map[types.Object]*Rule{},
		pkgs:         map[string]bool{},
		targets:      map[newType]types.Type{},
		anyValue:     map[Shape]*recipe.Rule{},
		ifaceTargets: map[Shape][]*ifaceTarget{},
		ctors:        map[types.Object]*recipe.Rule{},
		forms:        map[*recipe.Rule]*form{},
		lookup:       lookup,
	}
	if rc == nil {
		return l
	}
	for _, p := range rc.Legacy {
		l.pkgs[p] = true
	}
	add := func(tn *types.TypeName, s Shape) {
		if _, ok := l.named[tn]; ok {
			return
		}
		l.named[tn] = s
		if it, ok := tn.Type().Underlying().(*types.Interface); ok {
			l.ifaces[s] = append(l.ifaces[s], it)
		}
	}
	l.rules = rulesOf(rc)
	for _, r := range l.rules {
		switch r.kind {
		case recipe.Method:
			if r.method != nil && r.recv != nil {
				l.methods[r.method.Name()] = append(l.methods[r.method.Name()], r)
				add(r.recv, Shape(r.recv.Name()))
			}
		case recipe.Type:
			l.types[r.src.Legacy] = r
		case recipe.Retype:
			l.retype = r
		}
	}
	for _, rr := range rc.Rules {
		if rr.Kind == recipe.Retype {
			l.retypeRule(rc, rr, add)
		}
	}
	if opts != nil {
		for s, names := range opts.Shapes {
			for _, q := range names {
				path, name := splitQualified(q)
				if p := lookup(path); p != nil {
					if tn, ok := p.Scope().Lookup(name).(*types.TypeName); ok {
						add(tn, s)
					}
				}
			}
		}
	}
	return l
}

// newLegacyRebound holds the call-site rules of rc, which was
// type-checked against other *types.Package objects than the program's,
// with their legacy methods and types found again in the program's
// packages by path and name (the analyzer under go vet).
func newLegacyRebound(rc *recipe.Recipe, lookup func(path string) *types.Package) *legacy {
	l := newLegacy(nil, lookup, nil)
	for _, p := range rc.Legacy {
		l.pkgs[p] = true
	}
	find := func(o types.Object) types.Object {
		if o == nil || o.Pkg() == nil {
			return nil
		}
		if p := lookup(o.Pkg().Path()); p != nil {
			return p.Scope().Lookup(o.Name())
		}
		return nil
	}
	l.rules = rulesOf(rc)
	for _, r := range l.rules {
		switch r.kind {
		case recipe.Method:
			tn, _ := find(r.recv).(*types.TypeName)
			if tn == nil || r.method == nil {
				continue
			}
			m, _, _ := types.LookupFieldOrMethod(tn.Type(), true, tn.Pkg(), r.method.Name())
			fn, _ := m.(*types.Func)
			if fn == nil {
				continue
			}
			r.method, r.recv = fn, tn
			l.methods[fn.Name()] = append(l.methods[fn.Name()], r)
			shape := Shape(tn.Name())
			if _, ok := l.named[tn]; !ok {
				l.named[tn] = shape
				if it, ok := tn.Type().Underlying().(*types.Interface); ok {
					l.ifaces[shape] = append(l.ifaces[shape], it)
				}
			}
		case recipe.Type:
			if o := find(r.src.Legacy); o != nil {
				l.types[o] = r
			}
		}
	}
	return l
}

// retypeRule records what the retype pair rr names.
func (l *legacy) retypeRule(rc *recipe.Recipe, rr *recipe.Rule, add func(*types.TypeName, Shape)) {
	tn := namedOf(rr.Sig.Results().At(rr.TargetIndex).Type())
	if tn == nil {
		return
	}
	shape := Shape(tn.Name())
	add(tn, shape)
	callee := func(e ast.Expr) types.Object {
		if call, ok := e.(*ast.CallExpr); ok {
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
				return rc.Info.Uses[sel.Sel]
			}
		}
		return nil
	}
	l.forms[rr] = formOf(rc, rr)
	if _, anyValue := rr.Legacy.(*types.TypeName); anyValue {
		// Any value of the type: its role follows the target.
		if types.IsInterface(rr.Target) {
			l.roles[shape] = roleNotifier
			l.addIfaceTarget(shape, rr, callee(rr.AfterExpr))
			return
		}
		l.anyValue[shape] = rr
		switch t := rr.Target; {
		case isPointer(t):
			l.roles[shape] = roleEmitter
			l.emitterOf, l.emitter = callee(rr.AfterExpr), t
			l.targets[toEmitter] = t
		default:
			l.roles[shape] = roleScope
			l.targets[toScope] = t
			l.scopeShape = shape
		}
		return
	}
	l.ctors[rr.Legacy] = rr
	// A value built by a legacy constructor.
	switch {
	case isPointer(rr.Target) && l.roles[shape] != roleEmitter && len(rr.Params) == 1:
		l.newManager = rr.Legacy
		l.targets[toHub] = rr.Target
	case isPointer(rr.Target):
		l.newAgentBridge = rr.Legacy
	default:
		l.newUserContext = rr.Legacy
	}
}

func isPointer(t types.Type) bool {
	_, ok := t.(*types.Pointer)
	return ok
}

// rewrites narrows may, which tells the packages that may use the legacy
// API, to those the rules apply to: not the recipe's legacy packages
// themselves, whose adapters call the legacy methods on purpose (their
// external test packages are ordinary callers).
func (l *legacy) rewrites(may func(*Package) bool) func(*Package) bool {
	return func(pkg *Package) bool { return !l.pkgs[pkg.Path] && may(pkg) }
}

// role is the role of the legacy type shape s names.
func (l *legacy) role(s Shape) role { return l.roles[s] }

// retypeID is the ID of the retype step's rule.
func (l *legacy) retypeID() string {
	if l.retype == nil {
		return RuleRetype
	}
	return l.retype.ID
}

// shapeOf returns the shape a legacy named type plays.
func (l *legacy) shapeOf(t types.Type) (Shape, bool) {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return "", false
	}
	s, ok := l.named[n.Origin().Obj()]
	return s, ok
}

// ruleOf returns the rule of fn if fn is a legacy method: a method of a
// legacy type (or a type shaped as one), or of a concrete type
// implementing a legacy interface, with the legacy signature.
func (l *legacy) ruleOf(fn *types.Func) *Rule {
	rules := l.methods[fn.Name()]
	if rules == nil {
		return nil
	}
	sig := fn.Signature()
	recv := sig.Recv()
	if recv == nil {
		return nil
	}
	// The signatures without their receivers and type parameters,
	// compared as types.Identical compares two signatures without type
	// parameters, but without building them: this runs for every call of a
	// method.
	sameSig := func(b *types.Signature) bool {
		return sig.Variadic() == b.Variadic() &&
			types.Identical(sig.Params(), b.Params()) && types.Identical(sig.Results(), b.Results())
	}
	rt := recv.Type()
	s, shaped := l.shapeOf(rt)
	if p, ok := rt.(*types.Pointer); ok {
		rt = p.Elem()
	}
	for _, r := range rules {
		if !sameSig(r.method.Signature()) {
			continue
		}
		want := Shape(r.recv.Name())
		if shaped {
			if s == want {
				return r
			}
			continue
		}
		if types.IsInterface(rt) {
			return nil // an interface of the user's that merely shares a name
		}
		for _, it := range l.ifaces[want] {
			if types.Implements(rt, it) || types.Implements(types.NewPointer(rt), it) {
				return r
			}
		}
	}
	return nil
}

// calleeOf is the object a call calls, when named by an identifier or a
// selector.
func calleeOf(info *types.Info, call *ast.CallExpr) types.Object {
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		return info.Uses[f]
	case *ast.SelectorExpr:
		return info.Uses[f.Sel]
	}
	return nil
}

// isFunc reports whether the callee of call is obj.
func isFunc(info *types.Info, call *ast.CallExpr, obj types.Object) bool {
	if obj == nil {
		return false
	}
	var id *ast.Ident
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
	default:
		return false
	}
	return info.Uses[id] == obj
}

// useKind says how a legacy name is used.
type useKind int

const (
	useCall        useKind = iota // a call of a legacy method
	useMethodValue                // m.SendToUser not called
	useMethodExpr                 // bridge.WebSocketManager.SendToUser, (*Impl).SendToUser
	useMessage                    // the type bridge.Message
	useRef                        // any other reference to package bridge
)

// use is one legacy use found in a file.
type use struct {
	rule   *Rule
	kind   useKind
	file   *File
	pos    token.Pos
	call   *ast.CallExpr
	sel    *ast.SelectorExpr
	reason string // why it is not rewritten in this step; "" if it is
	// related are the places reason names.
	related []Related
}

// dotUse returns the use id makes of a name of a legacy package imported
// with a dot (Message for bridge.Message), which no rule rewrites: a
// finding of the name's type rule, a use the retype step answers for,
// or (built-in recipe) a reference to bridge left.
func (l *legacy) dotUse(pkg *Package, f *File, id *ast.Ident) (use, bool) {
	obj := pkg.Info.Uses[id]
	if obj == nil || obj.Pkg() == nil || obj.Pkg() == pkg.Types || !l.pkgs[obj.Pkg().Path()] || obj.Parent() != obj.Pkg().Scope() {
		return use{}, false
	}
	u := use{kind: useRef, file: f, pos: id.Pos(),
		reason: fmt.Sprintf("%s is imported with a dot from %s: no automatic rewrite; import the package by name", id.Name, obj.Pkg().Path())}
	tn, _ := obj.(*types.TypeName)
	_, legacyType := l.named[tn]
	switch {
	case l.types[obj] != nil:
		u.rule, u.kind = l.types[obj], useMessage
	case l.retype != nil && (legacyType || l.isOf(obj) || obj == l.emitterOf || obj == l.newManager ||
		obj == l.newAgentBridge || obj == l.newUserContext):
		u.rule = l.retype // the retype step rewrites it by its type, or reports the declaration
	case l.everyRef:
		u.rule = bridgeRefRule
	default:
		return use{}, false
	}
	return u, true
}

// scanFile finds the legacy uses in one file of pkg.
func (l *legacy) scanFile(pkg *Package, f *File) []use {
	info := pkg.Info
	var uses []use
	called := map[*ast.SelectorExpr]*ast.CallExpr{}
	selected := map[*ast.Ident]bool{} // the Sel of every selector: not a bare name
	ast.Inspect(f.AST, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if sel, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr); ok {
				called[sel] = n
			}
		case *ast.Ident:
			if !selected[n] {
				if u, ok := l.dotUse(pkg, f, n); ok {
					uses = append(uses, u)
				}
			}
		case *ast.SelectorExpr:
			selected[n.Sel] = true
			if s := info.Selections[n]; s != nil {
				fn, ok := s.Obj().(*types.Func)
				if !ok {
					break
				}
				r := l.ruleOf(fn)
				if r == nil {
					break
				}
				u := use{rule: r, file: f, pos: n.Sel.Pos(), sel: n}
				switch {
				case s.Kind() == types.MethodExpr:
					u.kind = useMethodExpr
					u.reason, u.related = l.methodValueReason(pkg, n, r)
				case called[n] != nil:
					u.kind, u.call = useCall, called[n]
					if r.hubMethod != "" {
						u.reason = "needs a *facade.Hub: reachable only when the receiver is a variable built by bridge.NewWebSocketManager (retype step)"
					}
				default:
					u.kind = useMethodValue
					u.reason, u.related = l.methodValueReason(pkg, n, r)
				}
				uses = append(uses, u)
				break
			}
			// Qualified identifiers of a legacy package.
			x, ok := n.X.(*ast.Ident)
			if !ok {
				break
			}
			pn, ok := info.Uses[x].(*types.PkgName)
			if !ok || !l.pkgs[pn.Imported().Path()] {
				break
			}
			obj := info.Uses[n.Sel]
			tn, _ := obj.(*types.TypeName)
			_, legacyType := l.named[tn]
			switch {
			case obj != nil && l.types[obj] != nil:
				u := use{rule: l.types[obj], kind: useMessage, file: f, pos: n.Pos(), sel: n}
				u.reason, u.related = shadowReason(pkg, n.Pos(), obj.Type())
				uses = append(uses, u)
			case obj != nil && l.retype != nil && (legacyType || l.isOf(obj) || obj == l.emitterOf || obj == l.newManager ||
				obj == l.newAgentBridge || obj == l.newUserContext):
				uses = append(uses, use{rule: l.retype, kind: useRef, file: f, pos: n.Pos(), sel: n,
					reason: fmt.Sprintf("%s.%s stays until its declaration is retyped", x.Name, n.Sel.Name)})
			case l.everyRef:
				uses = append(uses, use{rule: bridgeRefRule, kind: useRef, file: f, pos: n.Pos(), sel: n,
					reason: fmt.Sprintf("%s.%s has no automatic rewrite", x.Name, n.Sel.Name)})
			}
		}
		return true
	})
	return uses
}
