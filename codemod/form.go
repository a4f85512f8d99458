package codemod

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"
)

// form is the migrated form of a rule: the one expression of the rule's
// After function, in the recipe's source, and its parameters. A rewrite is
// rendered from it (see formRender): each parameter replaced by what it
// stands for at the site, each package qualifier by the file's name for
// that package.
type form struct {
	expr   ast.Expr
	fset   *token.FileSet // the recipe's
	src    []byte         // the recipe file's source
	params []string       // After's parameter names, in order (the receiver first)
	// paramUse maps the identifiers of expr that denote a parameter to its
	// index; qualUse those that denote an imported package to it.
	paramUse map[*ast.Ident]int
	qualUse  map[*ast.Ident]pkgRef
	// universe are the predeclared names expr uses (nil, string(x), …):
	// a site where one is shadowed keeps its legacy call.
	universe []string
	// top is the call the legacy call becomes, when expr is one;
	// firstArg[i] is the first parameter its argument i uses, or -1.
	top      *ast.CallExpr
	firstArg []int
}

// pkgRef is a package a form names.
type pkgRef struct{ path, name string }

// newForm makes the form of expr, with the parameter and qualifier
// identifiers resolved by paramOf and pkgOf.
func newForm(fset *token.FileSet, src []byte, expr ast.Expr, params []string,
	paramOf func(*ast.Ident) (int, bool), pkgOf func(*ast.Ident) (pkgRef, bool)) *form {
	f := &form{expr: expr, fset: fset, src: src, params: params,
		paramUse: map[*ast.Ident]int{}, qualUse: map[*ast.Ident]pkgRef{}}
	f.top, _ = expr.(*ast.CallExpr)
	seen := map[string]bool{}
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if x, ok := n.X.(*ast.Ident); ok {
				if p, ok := pkgOf(x); ok {
					f.qualUse[x] = p
					return false
				}
			}
			ast.Inspect(n.X, visit)
			return false // Sel names a field or method
		case *ast.KeyValueExpr:
			// A key that is an identifier is a field name, or in a map
			// literal an expression, resolved as one.
			if id, ok := n.Key.(*ast.Ident); ok {
				if i, ok := paramOf(id); ok {
					f.paramUse[id] = i
				}
				ast.Inspect(n.Value, visit)
				return false
			}
		case *ast.Ident:
			if i, ok := paramOf(n); ok {
				f.paramUse[n] = i
			} else if types.Universe.Lookup(n.Name) != nil && !seen[n.Name] {
				seen[n.Name] = true
				f.universe = append(f.universe, n.Name)
			}
		}
		return true
	}
	ast.Inspect(expr, visit)
	if f.top != nil {
		f.firstArg = make([]int, len(f.top.Args))
		for i, a := range f.top.Args {
			f.firstArg[i] = f.firstParam(a)
		}
	}
	return f
}

// text is the recipe's source from pos to end.
func (f *form) text(pos, end token.Pos) string {
	tf := f.fset.File(pos)
	return string(f.src[tf.Offset(pos):tf.Offset(end)])
}

// recvPart is the expression of the form that the receiver of the top
// call's method is (bridge.NotifierOf(m) in bridge.NotifierOf(m).Notify(…)),
// when it uses the receiver parameter and no other; else the receiver
// parameter's own identifier, or nil if the form does not use it.
func (f *form) recvPart() ast.Expr {
	if f.top != nil {
		if sel, ok := f.top.Fun.(*ast.SelectorExpr); ok {
			uses := f.paramsIn(sel.X)
			if len(uses) == 1 && uses[0] == 0 {
				return sel.X
			}
		}
	}
	for id, i := range f.paramUse {
		if i == 0 {
			return id
		}
	}
	return nil
}

// paramsIn returns the parameters used inside n, in source order.
func (f *form) paramsIn(n ast.Node) []int {
	var out []int
	ast.Inspect(n, func(m ast.Node) bool {
		if id, ok := m.(*ast.Ident); ok {
			if i, ok := f.paramUse[id]; ok {
				out = append(out, i)
			}
		}
		return true
	})
	return out
}

// firstParam is the first parameter used inside n, or -1.
func (f *form) firstParam(n ast.Node) int {
	if ps := f.paramsIn(n); len(ps) > 0 {
		return ps[0]
	}
	return -1
}

// binding is what a parameter of a form stands for at a site: the source
// of the argument, with the comments that sat around it.
type binding struct {
	text        string
	lead, trail []string
}

// callLayout is the line layout of a legacy call's argument list.
type callLayout struct {
	// gapNL tells, by parameter index, whether a newline stood before the
	// argument of that parameter (for the first argument: after the "(").
	gapNL   []bool
	closeNL bool     // a newline before the ")"
	open    []string // the comments on the line of the "(", after it
}

// multiline reports whether the call had a newline among its arguments.
func (l *callLayout) multiline() bool {
	if l == nil {
		return false
	}
	for i, nl := range l.gapNL {
		if nl && i > 1 {
			return true
		}
	}
	return false
}

// formRender renders a form at one site, as text: the form's own source
// for everything but its parameters (their bindings), its package
// qualifiers (the file's names for them) and, in direct mode, the calls
// that reach the facade through a legacy value that the step retypes
// (bridge.NotifierOf(m) is then m). Argument lists and composite literals
// are laid out after the legacy call, comments carried with their
// argument.
type formRender struct {
	f      *form
	bind   []binding
	qual   func(pkgRef) string
	over   map[ast.Node]string // nodes written as the given text
	direct bool
	unwrap func(pkgRef, string) bool // reports whether pkg.name(x) is x once x is retyped
	layout *callLayout

	commented []bool // by parameter: its comments are written
}

// piece is a rendered node: its text, and the comments of its first and
// last parameter that go before and after it.
type piece struct {
	text        string
	lead, trail []string
}

func isLineComment(c string) bool { return strings.HasPrefix(c, "//") }

// leading is comments written before a node: a line comment ends its
// line.
func leading(comments []string) string {
	var b strings.Builder
	for _, c := range comments {
		b.WriteString(c)
		if isLineComment(c) {
			b.WriteString("\n")
		} else {
			b.WriteString(" ")
		}
	}
	return b.String()
}

// render returns the text of the form's expression at the site, with the
// comments that travel to its ends.
func (r *formRender) render() string {
	p := r.expr(r.f.expr)
	if len(p.lead) == 0 && len(p.trail) == 0 {
		return p.text
	}
	var b strings.Builder
	b.WriteString(leading(p.lead))
	b.WriteString(p.text)
	for _, c := range p.trail {
		// A line comment after the whole rewrite ends the line; the
		// statement's own newline follows.
		b.WriteString(" " + c)
		if isLineComment(c) {
			b.WriteString("\n")
		}
	}
	return b.String()
}

func (r *formRender) expr(e ast.Expr) piece {
	if t, ok := r.over[e]; ok {
		return piece{text: t}
	}
	switch e := e.(type) {
	case *ast.Ident:
		if i, ok := r.f.paramUse[e]; ok {
			// A parameter the form uses several times (a pure one) carries
			// its comments once.
			b := r.bind[i]
			if r.commented == nil {
				r.commented = make([]bool, len(r.bind))
			}
			if r.commented[i] {
				return piece{text: b.text}
			}
			r.commented[i] = true
			return piece(b)
		}
		return piece{text: e.Name}
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			if p, ok := r.f.qualUse[x]; ok {
				return piece{text: r.qual(p) + "." + e.Sel.Name}
			}
		}
		p := r.expr(e.X)
		p.text += "." + e.Sel.Name
		return p
	case *ast.CallExpr:
		if r.direct && r.unwraps(e) {
			return r.expr(e.Args[0])
		}
		fun := r.expr(e.Fun)
		return r.list(fun, e.Args, "(", ")", e.Ellipsis.IsValid(), e == r.f.top, false)
	case *ast.CompositeLit:
		var typ piece
		if e.Type != nil {
			typ = r.expr(e.Type)
		}
		return r.list(typ, e.Elts, "{", "}", false, false, r.expanded(e))
	case *ast.KeyValueExpr:
		k, v := r.expr(e.Key), r.expr(e.Value)
		return piece{text: k.text + ": " + v.text, lead: append(k.lead, v.lead...), trail: append(k.trail, v.trail...)}
	}
	return r.generic(e)
}

// unwraps reports whether call is pkg.F(x) of the receiver parameter x
// with F a function that is x itself once x is retyped.
func (r *formRender) unwraps(call *ast.CallExpr) bool {
	if len(call.Args) != 1 || r.unwrap == nil {
		return false
	}
	id, ok := call.Args[0].(*ast.Ident)
	if !ok || r.f.paramUse[id] != 0 {
		return false
	}
	if _, ok := r.f.paramUse[id]; !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	if !ok {
		return false
	}
	p, ok := r.f.qualUse[x]
	return ok && r.unwrap(p, sel.Sel.Name)
}

// expanded reports whether the composite literal lit is laid out one
// element per line: it is an argument of the top call of a multi-line
// legacy call.
func (r *formRender) expanded(lit *ast.CompositeLit) bool {
	if r.f.top == nil || !r.layout.multiline() {
		return false
	}
	for _, a := range r.f.top.Args {
		if a == lit {
			return true
		}
	}
	return false
}

// list renders head, open, the elements, close. The top call keeps the
// legacy call's line layout; an expanded literal has one element per
// line; a line comment always ends its line. The comments of the first
// and last element of a call travel out of it (facade.ToUser("u1") /* the
// owner */), those of a literal's elements stay with the element.
func (r *formRender) list(head piece, elems []ast.Expr, open, close string, ellipsis, top, expand bool) piece {
	out := piece{lead: head.lead}
	lit := open == "{"
	ps := make([]piece, len(elems))
	size := len(head.text) + len(open) + len(close) + 2*len(elems) + 4
	for i, e := range elems {
		ps[i] = r.expr(e)
		size += len(ps[i].text)
	}
	var b strings.Builder
	b.Grow(size) // the text, when no comment travels with it
	b.WriteString(head.text)
	b.WriteString(open)
	// A literal whose elements carry a line comment is laid out one
	// element per line too, rather than broken after the comment.
	if lit && !expand {
		for _, p := range ps {
			for _, c := range append(append([]string(nil), p.lead...), p.trail...) {
				expand = expand || isLineComment(c)
			}
		}
	}
	nlBefore := func(j int) bool {
		if expand {
			return true
		}
		if !top || r.layout == nil {
			return false
		}
		// The newline before the first argument the element holds; an
		// element that holds none (facade.ToAll()) follows the next one.
		for k := j; k < len(elems) && k < len(r.f.firstArg); k++ {
			if i := r.f.firstArg[k]; i > 0 && i < len(r.layout.gapNL) {
				return r.layout.gapNL[i]
			}
		}
		return false
	}
	openNL := false
	if top && r.layout != nil {
		for _, c := range r.layout.open {
			b.WriteString(" " + c)
			openNL = openNL || isLineComment(c)
		}
	}
	var pendingLine []string // line comments of the previous element, after its comma
	for j, p := range ps {
		if j > 0 {
			b.WriteString(",")
			for _, c := range pendingLine {
				b.WriteString(" " + c)
			}
			if len(pendingLine) > 0 || nlBefore(j) {
				b.WriteString("\n")
			} else {
				b.WriteString(" ")
			}
			pendingLine = nil
		} else if openNL || nlBefore(0) {
			b.WriteString("\n")
		}
		lead, trail := p.lead, p.trail
		if !top && !lit && j == 0 {
			out.lead, lead = append(out.lead, lead...), nil
		}
		if !top && !lit && j == len(ps)-1 {
			out.trail, trail = append(out.trail, trail...), nil
		}
		b.WriteString(leading(lead))
		b.WriteString(p.text)
		if ellipsis && j == len(ps)-1 {
			b.WriteString("...")
		}
		for _, c := range trail {
			if isLineComment(c) {
				pendingLine = append(pendingLine, c)
			} else {
				b.WriteString(" " + c)
			}
		}
	}
	closeNL := expand && len(ps) > 0
	if top && r.layout != nil && len(ps) > 0 {
		closeNL = closeNL || r.layout.closeNL
	}
	if len(pendingLine) > 0 || closeNL {
		b.WriteString(",")
		for _, c := range pendingLine {
			b.WriteString(" " + c)
		}
		b.WriteString("\n")
	}
	b.WriteString(close)
	out.text = b.String()
	out.trail = append(out.trail, head.trail...)
	return out
}

// generic renders e as the form's source with the nodes inside it that
// render differently (parameters, qualifiers, calls, literals) replaced.
func (r *formRender) generic(e ast.Expr) piece {
	var out piece
	var b strings.Builder
	at := e.Pos()
	ast.Inspect(e, func(n ast.Node) bool {
		x, ok := n.(ast.Expr)
		if !ok || n == e {
			return true
		}
		if !r.special(x) {
			return true
		}
		b.WriteString(r.f.text(at, x.Pos()))
		p := r.expr(x)
		b.WriteString(p.text)
		out.lead = append(out.lead, p.lead...)
		out.trail = append(out.trail, p.trail...)
		at = x.End()
		return false
	})
	b.WriteString(r.f.text(at, e.End()))
	out.text = b.String()
	return out
}

// special reports whether x renders other than as its source.
func (r *formRender) special(x ast.Expr) bool {
	if _, ok := r.over[x]; ok {
		return true
	}
	switch x := x.(type) {
	case *ast.Ident:
		_, ok := r.f.paramUse[x]
		return ok
	case *ast.SelectorExpr:
		if id, ok := x.X.(*ast.Ident); ok {
			_, ok := r.f.qualUse[id]
			return ok
		}
		return r.special(x.X)
	case *ast.CallExpr, *ast.CompositeLit:
		return true
	}
	return false
}
