package codemod

import (
	"go/ast"
	"go/types"
	"strings"

	"github.com/wsunify/wsunify/codemod/recipe"
)

// An ifaceTarget is one retype pair of any value of a legacy interface
// type whose target is an interface: in the built-in recipe,
// WebSocketManager → facade.Notifier through bridge.NotifierOf and
// WebSocketManager → facade.Presence through bridge.PresenceOf. A shape
// may have several; a declaration gets the narrowest one that has every
// method its uses need (see chooseTarget).
type ifaceTarget struct {
	rule  *recipe.Rule
	of    types.Object     // the function After calls on the value (bridge.NotifierOf)
	typ   types.Type       // the target type (facade.Notifier)
	iface *types.Interface // its method set
	name  newType
}

// addIfaceTarget records the pair rr of shape, whose After is of(value).
// The first pair of a shape is its default target (toNotifier); each
// other one is named after its target type.
func (l *legacy) addIfaceTarget(shape Shape, rr *recipe.Rule, of types.Object) {
	t := &ifaceTarget{rule: rr, of: of, typ: rr.Target, iface: rr.Target.Underlying().(*types.Interface), name: toNotifier}
	if len(l.ifaceTargets[shape]) > 0 {
		t.name = newType(typeName(rr.Target))
	} else {
		l.anyValue[shape] = rr
		l.notifierOf, l.notifier = of, t.iface
	}
	l.targets[t.name] = rr.Target
	l.ifaceTargets[shape] = append(l.ifaceTargets[shape], t)
}

func typeName(t types.Type) string {
	if tn := namedOf(t); tn != nil {
		return tn.Name()
	}
	return t.String()
}

// isOf reports whether obj is the function of an interface target
// (bridge.NotifierOf, bridge.PresenceOf).
func (l *legacy) isOf(obj types.Object) bool {
	return l.wrapTarget(obj) != nil
}

// wrapTarget returns the interface target whose function is obj, or nil.
func (l *legacy) wrapTarget(obj types.Object) *ifaceTarget {
	if obj == nil {
		return nil
	}
	for _, ts := range l.ifaceTargets {
		for _, t := range ts {
			if t.of == obj {
				return t
			}
		}
	}
	return nil
}

// wrapOf returns the interface target of shape whose function call is,
// as in bridge.PresenceOf(x), or nil.
func (l *legacy) wrapOf(info *types.Info, call *ast.CallExpr, shape Shape) *ifaceTarget {
	obj := calleeOf(info, call)
	for _, t := range l.ifaceTargets[shape] {
		if t.of == obj {
			return t
		}
	}
	return nil
}

// ruleNeeds returns the interface target of shape that the call rule r
// reaches its receiver through (bridge.PresenceOf(m) in
// is-connection-active's After), or nil.
func (l *legacy) ruleNeeds(shape Shape, r *Rule) *ifaceTarget {
	if r == nil || r.src == nil || len(r.src.Params) == 0 {
		return nil
	}
	for _, t := range l.ifaceTargets[shape] {
		if r.src.Conversion(0, t.rule) != nil {
			return t
		}
	}
	return nil
}

// ruleNeeds is l.ruleNeeds of the rule of the method fn, computed once
// per shape and method: a declaration's direct uses call few methods, and
// a program's declarations share them.
func (rt *retyper) ruleNeeds(shape Shape, fn *types.Func) *ifaceTarget {
	k := needsKey{shape, fn}
	if t, ok := rt.needs[k]; ok {
		return t
	}
	if rt.needs == nil {
		rt.needs = map[needsKey]*ifaceTarget{}
	}
	t := rt.l.ruleNeeds(shape, rt.l.ruleOf(fn))
	rt.needs[k] = t
	return t
}

// needsKey is a shape and a method of it, the key of retyper.needs.
type needsKey struct {
	shape Shape
	fn    *types.Func
}

// chooseTarget gives d, a declaration of a shape with interface targets,
// the narrowest target that has the methods of every target its uses
// reach it through: facade.Presence for a manager some use asks
// bridge.PresenceOf of, facade.Notifier for one only notified through.
// It returns false, and blocks d, when no target has them all.
func (rt *retyper) chooseTarget(d *decl) bool {
	cands := rt.l.ifaceTargets[d.shape]
	if len(cands) == 0 {
		d.to = toNotifier // a shape of no pair: the facade's Notifier
		return true
	}
	var needs []*ifaceTarget
	need := func(t *ifaceTarget) {
		if t != nil && !containsTarget(needs, t) {
			needs = append(needs, t)
		}
	}
	for _, u := range d.wraps {
		need(rt.l.wrapOf(u.pkg.Info, u.node.(*ast.CallExpr), d.shape))
	}
	for _, u := range d.directs {
		if fn, ok := u.pkg.Info.Selections[u.sel].Obj().(*types.Func); ok {
			need(rt.ruleNeeds(d.shape, fn))
		}
	}
	var best *ifaceTarget
	for _, c := range cands {
		ok := true
		for _, n := range needs {
			ok = ok && types.Implements(c.typ, n.iface)
		}
		if ok && (best == nil || c.iface.NumMethods() < best.iface.NumMethods()) {
			best = c
		}
	}
	if best == nil {
		var names []string
		for _, n := range needs {
			names = append(names, typeName(n.typ))
		}
		rt.block(d, d.pkg, d.ident, "its uses need "+strings.Join(names, " and ")+", and no retype target has them all")
		return false
	}
	d.to, d.target = best.name, best
	return true
}

func containsTarget(ts []*ifaceTarget, t *ifaceTarget) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// redundantWrap reports whether call is the function of an interface
// target applied to a value of a type, not legacy, that has that target's
// methods already: bridge.PresenceOf(p) of a facade.Presence p is p.
func (l *legacy) redundantWrap(info *types.Info, call *ast.CallExpr, t types.Type) bool {
	w := l.wrapTarget(calleeOf(info, call))
	if w == nil {
		return false
	}
	_, legacy := l.shapeOf(t)
	return !legacy && types.Implements(t, w.iface)
}

// forwardedMethod returns M when the form f, with its receiver retyped, is
// recv.M(p1, …, pn): a call of a method of the target on the receiver with
// every other parameter in order (bridge.PresenceOf(m).Connected(userID)
// once m is a facade.Presence). A method value of the rule is then
// recv.M itself, which evaluates the receiver where it is taken, as the
// legacy method value did.
func forwardedMethod(f *form, unwrap func(pkgRef, string) bool) (string, bool) {
	call, ok := f.expr.(*ast.CallExpr)
	if !ok || call.Ellipsis.IsValid() || len(call.Args) != len(f.params)-1 {
		return "", false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return "", false
	}
	inner, ok := sel.X.(*ast.CallExpr)
	if !ok || !(&formRender{f: f, direct: true, unwrap: unwrap}).unwraps(inner) {
		return "", false
	}
	for i, a := range call.Args {
		id, ok := a.(*ast.Ident)
		if j, isParam := f.paramUse[id]; !ok || !isParam || j != i+1 {
			return "", false
		}
	}
	return sel.Sel.Name, true
}
