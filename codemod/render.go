package codemod

import (
	"bytes"
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
	at := pos
	for _, t := range r.targets {
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

// sep is the source between two nodes: a comma and spacing, when the
// unit has no comments.
func (r *renderer) sep(a, b ast.Node) string {
	return string(r.src[r.tf.Offset(a.End()):r.tf.Offset(b.Pos())])
}

// facade is the qualifier of package facade.
func (r *renderer) facade(name string) string {
	r.e.needFacade = true
	return r.e.facadeName + "." + name
}

// bridge is bridge.fn(arg).
func (r *renderer) bridge(fn, arg string) string {
	r.e.usesAddedText = true
	return r.e.bridgeName + "." + fn + "(" + arg + ")"
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
	call := u.call
	f := u.rule.form
	recv := r.of(u.sel.X)
	for _, name := range receiverPath(r.e.pkg, u) {
		recv += "." + name
	}
	if addressed(r.e.pkg, u) {
		recv = "&" + recv
	}
	binds := make([]binding, len(f.params))
	binds[0] = binding{text: recv}
	for i, a := range call.Args {
		binds[i+1].text = r.of(a)
	}
	layout := &callLayout{gapNL: make([]bool, len(f.params))}
	lead := r.argComments(u, binds, layout)
	fr := &formRender{f: f, bind: binds, qual: r.qual(u.sel.Pos()), direct: r.e.direct[u.sel], unwrap: unwrapsOnRetype, layout: layout}
	return lead + fr.render()
}

// unwrapsOnRetype reports whether pkg.name(x) is x itself once x has the
// facade type the retype step gives it.
func unwrapsOnRetype(p pkgRef, name string) bool {
	return p.path == BridgePath && (name == "NotifierOf" || name == "EmitterOf")
}

// argComments binds the comments of the argument list of the call u to
// the arguments they annotate, and records the list's line layout. A
// comment before an argument's comma, or after it on the same line, trails
// the argument; one on a line of its own leads the next argument.
// It returns the comments between the method name and "(", which go
// before the rewrite.
func (r *renderer) argComments(u use, binds []binding, layout *callLayout) string {
	call := u.call
	args := call.Args
	var head []string
	for _, c := range r.e.commentsIn(u.sel.X.End(), call.Lparen) {
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
				nl = nl || (isLineComment(comments[i].Text))
			}
		}
		if k < len(args) && k+1 < len(layout.gapNL) {
			layout.gapNL[k+1] = nl
		} else if k == len(args) {
			layout.closeNL = nl
		}
		for _, c := range comments {
			switch {
			case k == 0 && r.sameLine(r.tf.Offset(call.Lparen), r.tf.Offset(c.Pos())):
				layout.open = append(layout.open, c.Text)
			case k == 0:
				binds[1].lead = append(binds[1].lead, c.Text)
			case k == len(args) || comma < 0 || r.tf.Offset(c.End()) <= comma || r.sameLine(comma, r.tf.Offset(c.Pos())):
				binds[k].trail = append(binds[k].trail, c.Text)
			default:
				binds[k+1].lead = append(binds[k+1].lead, c.Text)
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

// convertText is a value assigned to a retyped declaration, converted.
func (r *renderer) convertText(v ast.Expr, k valueKind, d *decl, scoped bool) string {
	switch k {
	case valueNil, valueAsIs:
		return r.plain(v)
	case valueScope:
		call := ast.Unparen(v).(*ast.CallExpr)
		return r.span(v.Pos(), call.Fun.Pos(), v) + r.facade("NewScope") + r.span(call.Fun.End(), v.End(), v)
	case valueScopeLit:
		x := r.plain(v)
		return r.facade("Scope") + "{UserID: " + x + ".UserID, ThreadID: " + x + ".ThreadID, RunID: " + x + ".RunID}"
	case valueHub:
		return r.of(ast.Unparen(v).(*ast.CallExpr).Args[0])
	case valueEmitter:
		call := ast.Unparen(v).(*ast.CallExpr)
		n, uc := call.Args[0], call.Args[1]
		if scoped {
			return r.span(v.Pos(), call.Fun.Pos(), v) + r.facade("NewEmitter") + r.span(call.Fun.End(), v.End(), v)
		}
		ucText := r.of(uc)
		scope := r.facade("Scope") + "{UserID: " + ucText + ".UserID, ThreadID: " + ucText + ".ThreadID, RunID: " + ucText + ".RunID}"
		tail := string(r.src[r.tf.Offset(uc.End()):r.tf.Offset(call.Rparen)]) + ")"
		return r.facade("NewEmitter") + "(" + r.of(n) + r.sep(n, uc) + scope + tail
	}
	fn := "NotifierOf"
	if d.to == toEmitter {
		fn = "EmitterOf"
	}
	return r.bridge(fn, r.plain(v))
}

// facadeTypeText is the type expression of t, the target the recipe's
// retype rules give.
func (r *renderer) facadeTypeText(t newType) string {
	target := r.e.targets[t]
	if target == nil {
		return r.facade(string(t))
	}
	return types.TypeString(target, func(p *types.Package) string {
		return r.qual(token.NoPos)(pkgRef{path: p.Path(), name: p.Name()})
	})
}
