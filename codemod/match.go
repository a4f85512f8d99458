package codemod

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
)

// Options select what a rewrite or an inventory covers.
type Options struct {
	// Rules selects rules by ID; empty selects all.
	Rules RuleSet
	// Shapes maps a shape to qualified names of the user's own types that
	// play its part ("example.com/app/ws.Manager").
	Shapes map[Shape][]string
	// Generated rewrites generated files ("// Code generated … DO NOT
	// EDIT."); by default they are left alone, with a finding, and a
	// declaration they use keeps its type.
	Generated bool
}

// legacy holds the type objects that identify legacy code in one program.
type legacy struct {
	named  map[*types.TypeName]Shape // bridge's interfaces and the shaped types
	ifaces map[Shape][]*types.Interface
	sigs   map[string]*types.Signature // legacy method name → bridge signature

	notifierOf, emitterOf      types.Object
	newManager, newAgentBridge types.Object
	newUserContext             types.Object
	message                    types.Object
	bridge                     *types.Package
	notifier                   *types.Interface // facade.Notifier
	emitter                    types.Type       // *facade.Emitter
	methodRule                 map[string]*Rule
	lookup                     func(path string) *types.Package
}

// newLegacy finds the legacy types through lookup, which returns the
// package with the given path if it is loaded.
func newLegacy(lookup func(path string) *types.Package, opts *Options) *legacy {
	l := &legacy{
		named:      map[*types.TypeName]Shape{},
		ifaces:     map[Shape][]*types.Interface{},
		sigs:       map[string]*types.Signature{},
		methodRule: map[string]*Rule{},
		lookup:     lookup,
	}
	for _, r := range Rules {
		if r.method != "" {
			l.methodRule[r.method] = r
		}
	}
	add := func(tn *types.TypeName, s Shape) {
		l.named[tn] = s
		if it, ok := tn.Type().Underlying().(*types.Interface); ok {
			l.ifaces[s] = append(l.ifaces[s], it)
		}
	}
	if b := lookup(BridgePath); b != nil {
		l.bridge = b
		sc := b.Scope()
		for _, s := range []Shape{ShapeManager, ShapeAgent} {
			if tn, ok := sc.Lookup(string(s)).(*types.TypeName); ok {
				add(tn, s)
				if it, ok := tn.Type().Underlying().(*types.Interface); ok {
					for i := range it.NumMethods() {
						m := it.Method(i)
						l.sigs[m.Name()] = m.Signature()
					}
				}
			}
		}
		l.notifierOf = sc.Lookup("NotifierOf")
		l.emitterOf = sc.Lookup("EmitterOf")
		l.newManager = sc.Lookup("NewWebSocketManager")
		l.newAgentBridge = sc.Lookup("NewAgentWebSocketBridge")
		l.newUserContext = sc.Lookup("NewUserExecutionContext")
		if tn, ok := sc.Lookup("UserExecutionContext").(*types.TypeName); ok {
			l.named[tn] = shapeContext
		}
		l.message = sc.Lookup("Message")
	}
	if f := lookup(FacadePath); f != nil {
		if tn, ok := f.Scope().Lookup("Notifier").(*types.TypeName); ok {
			l.notifier, _ = tn.Type().Underlying().(*types.Interface)
		}
		if tn, ok := f.Scope().Lookup("Emitter").(*types.TypeName); ok {
			l.emitter = types.NewPointer(tn.Type())
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

// methodRule returns the rule of fn if fn is a legacy method: a method of a
// legacy shape, or of a concrete type implementing a legacy interface, with
// the legacy signature.
func (l *legacy) ruleOf(fn *types.Func) *Rule {
	r := l.methodRule[fn.Name()]
	if r == nil {
		return nil
	}
	sig := fn.Signature()
	recv := sig.Recv()
	if recv == nil {
		return nil
	}
	if want := l.sigs[fn.Name()]; want != nil {
		if !types.Identical(types.NewSignatureType(nil, nil, nil, sig.Params(), sig.Results(), sig.Variadic()),
			types.NewSignatureType(nil, nil, nil, want.Params(), want.Results(), want.Variadic())) {
			return nil
		}
	}
	rt := recv.Type()
	if s, ok := l.shapeOf(rt); ok {
		if s == r.shape {
			return r
		}
		return nil
	}
	if p, ok := rt.(*types.Pointer); ok {
		rt = p.Elem()
	}
	if types.IsInterface(rt) {
		return nil // an interface of the user's that merely shares a name
	}
	for _, it := range l.ifaces[r.shape] {
		if types.Implements(rt, it) || types.Implements(types.NewPointer(rt), it) {
			return r
		}
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

// scanFile finds the legacy uses in one file of pkg.
func (l *legacy) scanFile(pkg *Package, f *File) []use {
	info := pkg.Info
	var uses []use
	called := map[*ast.SelectorExpr]*ast.CallExpr{}
	ast.Inspect(f.AST, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if sel, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr); ok {
				called[sel] = n
			}
		case *ast.SelectorExpr:
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
			// Qualified identifiers of package bridge.
			x, ok := n.X.(*ast.Ident)
			if !ok {
				break
			}
			pn, ok := info.Uses[x].(*types.PkgName)
			if !ok || pn.Imported().Path() != BridgePath {
				break
			}
			obj := info.Uses[n.Sel]
			switch {
			case obj != nil && obj == l.message:
				u := use{rule: RuleByID(RuleMessageType), kind: useMessage, file: f, pos: n.Pos(), sel: n}
				u.reason, u.related = shadowReason(pkg, n.Pos(), obj.Type())
				uses = append(uses, u)
			case obj != nil && (obj == l.notifierOf || obj == l.emitterOf || obj == l.newManager || obj == l.newAgentBridge ||
				obj == l.newUserContext || obj.Name() == string(ShapeManager) || obj.Name() == string(ShapeAgent) ||
				obj.Name() == string(shapeContext)):
				uses = append(uses, use{rule: RuleByID(RuleRetype), kind: useRef, file: f, pos: n.Pos(), sel: n,
					reason: fmt.Sprintf("bridge.%s stays until its declaration is retyped", n.Sel.Name)})
			default:
				uses = append(uses, use{rule: &Rule{ID: RuleBridgeRef}, kind: useRef, file: f, pos: n.Pos(), sel: n,
					reason: fmt.Sprintf("bridge.%s has no automatic rewrite", n.Sel.Name)})
			}
		}
		return true
	})
	return uses
}
