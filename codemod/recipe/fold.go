package recipe

import (
	"go/ast"
	"go/types"
)

// Conversion returns the sub-expression of r's After that converts r's
// parameter i as the retype rule conv does: conv's After, with conv's one
// parameter in the place of r's parameter i. It returns nil if there is
// none, or if conv is not a Retype rule of one parameter.
//
// The built-in recipe's NewAgentWebSocketBridge(n, uc) becomes
// facade.NewEmitter(n, facade.Scope{UserID: uc.UserID, ...}), and that
// Scope literal is how a context becomes a facade.Scope. Where the same
// step retypes uc itself to facade.Scope, the engine writes uc in place of
// the sub-expression: facade.NewEmitter(n, uc).
func (r *Rule) Conversion(i int, conv *Rule) ast.Expr {
	if r.AfterExpr == nil || conv.Kind != Retype || len(conv.Params) != 1 || i < 0 || i >= len(r.Params) {
		return nil
	}
	if !types.Identical(r.Params[i].Var.Type(), conv.Params[0].Var.Type()) {
		return nil
	}
	eq := &exprEq{
		params: map[*ast.Ident]bool{},
		conv:   map[*ast.Ident]bool{},
	}
	for _, id := range r.Params[i].InAfter {
		eq.params[id] = true
	}
	for _, id := range conv.Params[0].InAfter {
		eq.conv[id] = true
	}
	var found ast.Expr
	ast.Inspect(r.AfterExpr, func(n ast.Node) bool {
		if e, ok := n.(ast.Expr); ok && found == nil && eq.equal(e, conv.AfterExpr) {
			found = e
		}
		return found == nil
	})
	return found
}

// exprEq compares an expression of one rule's After with one of
// another's, the uses of a parameter of each standing for each other.
// Other identifiers are equal when they have the same name: both rules
// are top-level functions of one file, so a name that is no parameter is
// the same package, field or predeclared object in both.
type exprEq struct {
	params, conv map[*ast.Ident]bool
}

func (q *exprEq) equal(a, b ast.Expr) bool {
	a, b = ast.Unparen(a), ast.Unparen(b)
	switch a := a.(type) {
	case *ast.Ident:
		b, ok := b.(*ast.Ident)
		if !ok {
			return false
		}
		if q.params[a] || q.conv[b] {
			return q.params[a] && q.conv[b]
		}
		return a.Name == b.Name
	case *ast.BasicLit:
		b, ok := b.(*ast.BasicLit)
		return ok && a.Kind == b.Kind && a.Value == b.Value
	case *ast.SelectorExpr:
		b, ok := b.(*ast.SelectorExpr)
		return ok && a.Sel.Name == b.Sel.Name && q.equal(a.X, b.X)
	case *ast.StarExpr:
		b, ok := b.(*ast.StarExpr)
		return ok && q.equal(a.X, b.X)
	case *ast.UnaryExpr:
		b, ok := b.(*ast.UnaryExpr)
		return ok && a.Op == b.Op && q.equal(a.X, b.X)
	case *ast.BinaryExpr:
		b, ok := b.(*ast.BinaryExpr)
		return ok && a.Op == b.Op && q.equal(a.X, b.X) && q.equal(a.Y, b.Y)
	case *ast.IndexExpr:
		b, ok := b.(*ast.IndexExpr)
		return ok && q.equal(a.X, b.X) && q.equal(a.Index, b.Index)
	case *ast.CallExpr:
		b, ok := b.(*ast.CallExpr)
		return ok && a.Ellipsis.IsValid() == b.Ellipsis.IsValid() && q.equal(a.Fun, b.Fun) && q.list(a.Args, b.Args)
	case *ast.CompositeLit:
		b, ok := b.(*ast.CompositeLit)
		return ok && (a.Type == nil) == (b.Type == nil) && (a.Type == nil || q.equal(a.Type, b.Type)) && q.list(a.Elts, b.Elts)
	case *ast.KeyValueExpr:
		b, ok := b.(*ast.KeyValueExpr)
		return ok && q.equal(a.Key, b.Key) && q.equal(a.Value, b.Value)
	}
	return false
}

func (q *exprEq) list(a, b []ast.Expr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !q.equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
