package codemod

import (
	"bytes"
	"cmp"
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"sort"
	"strings"
)

// Rendering. Every rewrite is written as text: a legacy use becomes its
// rule's form (form.go) rendered with the source of the use's own parts,
// and an edit inside another one is rendered into it. The rest of the file
// stays byte for byte, and the whole file is formatted once (finish).
// dst, which keeps comments by decorating the syntax, costs about 100µs per
// rewritten call, which doubled the time of a large migration; the
// renderer keeps the comments itself (argComments).

// renderer writes the text of nodes with the edits inside them applied.
type renderer struct {
	e       *fileEditor
	tf      *token.File
	src     []byte
	edits   map[ast.Node]*edit
	targets []ast.Node // sorted by position, outer before inner
	copied  [][2]int   // the source ranges that made it into the output
}

func newRenderer(e *fileEditor) *renderer {
	r := &renderer{e: e, tf: e.pkg.fileOf(e.f), src: e.f.Src, edits: map[ast.Node]*edit{}}
	for i := range e.pending {
		ed := &e.pending[i]
		if _, dup := r.edits[ed.target]; !dup {
			r.edits[ed.target] = ed
			r.targets = append(r.targets, ed.target)
		}
	}
	slices.SortFunc(r.targets, func(a, b ast.Node) int {
		if a.Pos() != b.Pos() {
			return int(a.Pos() - b.Pos())
		}
		return int(b.End() - a.End())
	})
	return r
}

// of is the text of n: its edit's, or its own with the edits inside.
func (r *renderer) of(n ast.Node) string {
	if ed := r.edits[n]; ed != nil {
		return ed.text(r)
	}
	return r.plain(n)
}

// plain is the source of n with the outermost edits strictly inside it
// applied.
func (r *renderer) plain(n ast.Node) string {
	return r.span(n.Pos(), n.End(), n)
}

// span is the source from pos to end with the outermost edits inside it
// (other than on self) applied.
func (r *renderer) span(pos, end token.Pos, self ast.Node) string {
	var b strings.Builder
	b.Grow(r.tf.Offset(end) - r.tf.Offset(pos)) // the text, if no edit inside lengthens it
	at := pos
	// The targets are sorted by position: those inside start from the
	// first at or after pos.
	i, _ := slices.BinarySearchFunc(r.targets, pos, func(t ast.Node, p token.Pos) int { return cmp.Compare(t.Pos(), p) })
	for _, t := range r.targets[i:] {
		if t.Pos() >= end {
			break
		}
		if t == self || t.Pos() < at || t.End() > end {
			continue
		}
		r.copy(&b, at, t.Pos())
		b.WriteString(r.of(t))
		at = t.End()
	}
	r.copy(&b, at, end)
	return b.String()
}

func (r *renderer) copy(b *strings.Builder, from, to token.Pos) {
	if from >= to {
		return
	}
	s, e := r.tf.Offset(from), r.tf.Offset(to)
	b.Write(r.src[s:e])
	r.copied = append(r.copied, [2]int{s, e})
}

// facade is the qualifier of package facade.
func (r *renderer) facade(name string) string {
	r.e.needFacade = true
	return r.e.facadeName + "." + name
}

// qual returns the qualifier of a package a form names, at pos.
func (r *renderer) qual(pos token.Pos) func(pkgRef) string {
	return func(p pkgRef) string {
		switch p.path {
		case FacadePath:
			r.e.needFacade = true
			return r.e.facadeName
		case BridgePath:
			r.e.usesAddedText = true
			return r.e.bridgeName
		}
		return r.e.importName(types.NewPackage(p.path, p.name), pos)
	}
}

// callText is the rewrite of the legacy call u: its rule's form with the
// call's receiver and arguments, their comments and its line layout.
func (r *renderer) callText(u use) string {
	recv := r.of(u.sel.X)
	for _, name := range receiverPath(r.e.pkg, u) {
		recv += "." + name
	}
	if addressed(r.e.pkg, u) {
		recv = "&" + recv
	}
	return r.formCall(u.rule.form, &recv, u.sel.X.End(), u.call, r.e.direct[u.sel], nil)
}

// formCall renders the form f for call, a call of a legacy method (whose
// receiver, when recv is not nil, is f's first parameter) or function:
// each parameter bound to its argument, with the argument's comments and
// the call's line layout. fun is where the callee ends; over are nodes of
// f written as given text.
func (r *renderer) formCall(f *form, recv *string, fun token.Pos, call *ast.CallExpr, direct bool, over map[ast.Node]string) string {
	binds := make([]binding, len(f.params))
	off := 0
	if recv != nil {
		binds[0], off = binding{text: *recv}, 1
	}
	for i, a := range call.Args {
		if i+off < len(binds) {
			binds[i+off].text = r.of(a)
		}
	}
	layout := &callLayout{gapNL: make([]bool, len(f.params)+1)}
	lead := r.argComments(fun, call, binds[off:], layout.gapNL[off:], layout)
	fr := &formRender{f: f, bind: binds, qual: r.qual(call.Pos()), direct: direct, unwrap: r.e.l.unwrapsOnRetype, layout: layout, over: over}
	return lead + fr.render()
}

// unwrapsOnRetype reports whether pkg.name(x) is x itself once x has the
// type the retype step gives it: the function of a recipe's retype pair
// of any value (bridge.NotifierOf and bridge.EmitterOf in the built-in
// recipe).
func (l *legacy) unwrapsOnRetype(p pkgRef, name string) bool {
	if l == nil {
		return false
	}
	is := func(o types.Object) bool {
		return o != nil && o.Pkg() != nil && o.Pkg().Path() == p.path && o.Name() == name
	}
	if is(l.emitterOf) {
		return true
	}
	for _, ts := range l.ifaceTargets {
		for _, t := range ts {
			if is(t.of) {
				return true
			}
		}
	}
	return false
}

// argComments binds the comments of the argument list of call to the
// arguments they annotate (binds[i] is argument i's), and records the
// list's line layout: gapNL[i] whether a newline stands before argument
// i, layout.closeNL and layout.open. A comment before an argument's comma,
// or after it on the same line, trails the argument; one on a line of its
// own leads the next argument. It returns the comments between the callee
// (ending at fun) and "(", which go before the rewrite.
func (r *renderer) argComments(fun token.Pos, call *ast.CallExpr, binds []binding, gapNL []bool, layout *callLayout) string {
	args := call.Args
	if len(args) > len(binds) {
		args = args[:len(binds)]
	}
	var head []string
	for _, c := range r.e.commentsIn(fun, call.Lparen) {
		head = append(head, c.Text)
	}
	for k := 0; k <= len(args); k++ {
		from, to := call.Lparen+1, call.Rparen
		if k > 0 {
			from = args[k-1].End()
		}
		if k < len(args) {
			to = args[k].Pos()
		}
		comments := r.e.commentsIn(from, to)
		nl := false
		comma := -1
		at := r.tf.Offset(from)
		for i := 0; i <= len(comments); i++ {
			end := r.tf.Offset(to)
			if i < len(comments) {
				end = r.tf.Offset(comments[i].Pos())
			}
			gap := r.src[at:end]
			nl = nl || bytes.IndexByte(gap, '\n') >= 0
			if j := bytes.IndexByte(gap, ','); j >= 0 && comma < 0 {
				comma = at + j
			}
			if i < len(comments) {
				at = r.tf.Offset(comments[i].End())
				nl = nl || isLineComment(comments[i].Text)
			}
		}
		if k < len(args) && k < len(gapNL) {
			gapNL[k] = nl
		} else if k == len(args) {
			layout.closeNL = nl
		}
		for _, c := range comments {
			switch {
			case len(args) == 0:
				head = append(head, c.Text)
			case k == 0 && r.sameLine(r.tf.Offset(call.Lparen), r.tf.Offset(c.Pos())):
				layout.open = append(layout.open, c.Text)
			case k == 0:
				binds[0].lead = append(binds[0].lead, c.Text)
			case k == len(args) || comma < 0 || r.tf.Offset(c.End()) <= comma || r.sameLine(comma, r.tf.Offset(c.Pos())):
				binds[k-1].trail = append(binds[k-1].trail, c.Text)
			default:
				binds[k].lead = append(binds[k].lead, c.Text)
			}
		}
	}
	return leading(head)
}

// sameLine reports whether the offsets a < b of the file are on one line.
func (r *renderer) sameLine(a, b int) bool {
	return bytes.IndexByte(r.src[a:b], '\n') < 0
}

// commentsIn returns the comments of the file that lie inside [from, to).
func (e *fileEditor) commentsIn(from, to token.Pos) []*ast.Comment {
	groups := e.f.AST.Comments
	i := sort.Search(len(groups), func(i int) bool { return groups[i].End() > from })
	var out []*ast.Comment
	for ; i < len(groups) && groups[i].Pos() < to; i++ {
		for _, c := range groups[i].List {
			if c.Pos() >= from && c.End() <= to {
				out = append(out, c)
			}
		}
	}
	return out
}

// convertText is a value assigned to a retyped declaration, converted as
// the recipe's retype pair for it says. scoped says that the context a
// bridge is built from becomes a facade.Scope in the same step: the
// conversion of it inside the pair's form is then the context itself.
func (r *renderer) convertText(v ast.Expr, k valueKind, d *decl, scoped bool) string {
	l := r.e.l
	switch k {
	case valueNil, valueAsIs:
		return r.plain(v)
	case valueWrap, valueScopeLit:
		// Any value of the type: the pair's one parameter is the value.
		rr := l.anyValue[d.shape]
		if d.target != nil {
			rr = d.target.rule
		}
		fr := &formRender{f: l.forms[rr], bind: []binding{{text: r.plain(v)}}, qual: r.qual(v.Pos())}
		return fr.render()
	}
	// A value built by a legacy constructor: the pair's parameters are
	// the constructor's arguments.
	call := ast.Unparen(v).(*ast.CallExpr)
	rr := l.ctors[calleeOf(r.e.pkg.Info, call)]
	var over map[ast.Node]string
	if scoped {
		ctx := l.anyValue[l.scopeShape]
		for i := range rr.Params {
			if conv := rr.Conversion(i, ctx); conv != nil {
				over = map[ast.Node]string{conv: r.of(call.Args[i])}
			}
		}
	}
	fun := call.Fun.End()
	return r.span(v.Pos(), call.Pos(), v) + r.formCall(l.forms[rr], nil, fun, call, false, over) + r.span(call.End(), v.End(), v)
}

// facadeTypeText is the type expression of t, the target the recipe's
// retype rules give.
func (r *renderer) facadeTypeText(t newType) string {
	target := r.e.l.targets[t]
	if target == nil {
		return r.facade(string(t))
	}
	return types.TypeString(target, func(p *types.Package) string {
		return r.qual(token.NoPos)(pkgRef{path: p.Path(), name: p.Name()})
	})
}
