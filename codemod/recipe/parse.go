package recipe

import (
	"errors"
	"fmt"
	"go/ast"
	goparser "go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"os"
	"regexp"
	"slices"
	"strings"
)

// Parse parses and type-checks the recipe file filename, whose content is
// src (if src is nil, Parse reads the file). imp resolves its imports: the engine passes one that returns the
// very *types.Package objects of the program it migrates, so that the
// rules' types are identical to the program's.
//
// A recipe with problems is refused: the error is an [ErrorList] of every
// problem found, each with its position.
func Parse(fset *token.FileSet, filename string, src []byte, imp types.Importer) (*Recipe, error) {
	p := &parser{fset: fset}
	if src == nil {
		b, err := os.ReadFile(filename)
		if err != nil {
			return nil, fmt.Errorf("recipe: %w", err)
		}
		src = b
	}
	f, err := goparser.ParseFile(fset, filename, src, goparser.ParseComments|goparser.AllErrors|goparser.SkipObjectResolution)
	if err != nil {
		var list scanner.ErrorList
		if !errors.As(err, &list) {
			return nil, ErrorList{{Pos: token.Position{Filename: filename}, Msg: err.Error()}}
		}
		for _, e := range list {
			p.errs = append(p.errs, &Error{Pos: e.Pos, Msg: e.Msg})
		}
		return nil, p.errs
	}
	pairs := p.pairs(f)

	info := &types.Info{
		Types:      map[ast.Expr]types.TypeAndValue{},
		Defs:       map[*ast.Ident]types.Object{},
		Uses:       map[*ast.Ident]types.Object{},
		Selections: map[*ast.SelectorExpr]*types.Selection{},
	}
	typeErrors := 0
	conf := types.Config{
		Importer: imp,
		Error: func(err error) {
			typeErrors++
			var te types.Error
			if errors.As(err, &te) {
				p.errs = append(p.errs, &Error{Pos: fset.Position(te.Pos), Msg: te.Msg})
				return
			}
			p.errs = append(p.errs, &Error{Pos: fset.Position(f.Package), Msg: err.Error()})
		},
	}
	pkg, _ := conf.Check(f.Name.Name, fset, []*ast.File{f}, info)
	r := &Recipe{Fset: fset, File: f, Src: src, Pkg: pkg, Info: info}
	p.r = r
	if typeErrors == 0 {
		for _, pr := range pairs {
			if rule := p.check(pr); rule != nil {
				r.Rules = append(r.Rules, rule)
			}
		}
	}
	if len(p.errs) == 0 && len(r.Rules) == 0 {
		p.errorf(f.Name.Pos(), "the recipe has no rules: pairs xBefore/xAfter")
	}
	if len(p.errs) > 0 {
		p.errs.sort()
		return nil, p.errs
	}
	r.Legacy = p.legacyPaths()
	return r, nil
}

// parser holds the state of one Parse.
type parser struct {
	fset *token.FileSet
	r    *Recipe
	errs ErrorList
}

func (p *parser) errorf(pos token.Pos, format string, args ...any) {
	p.errs = append(p.errs, &Error{Pos: p.fset.Position(pos), Msg: fmt.Sprintf(format, args...)})
}

// A half is one side of a pair: a function or an alias spec.
type half struct {
	name  *ast.Ident
	fn    *ast.FuncDecl
	ts    *ast.TypeSpec
	doc   *ast.CommentGroup
	isFn  bool
	after bool
}

// pair is a Before and an After with the same stem, and what their doc
// comment says.
type pair struct {
	stem          string
	before, after *half
	id, doc       string
	retype        bool
	pure          []string
	dirPos        token.Pos
}

// The suffixes of the two sides of a pair.
const (
	suffixBefore = "Before"
	suffixAfter  = "After"
)

// pairs finds the pairs of f and checks what needs no types: that each
// side has the other, the doc comments, the IDs.
func (p *parser) pairs(f *ast.File) []*pair {
	var halves []*half
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			switch {
			case d.Recv != nil:
				p.errorf(d.Name.Pos(), "%s is a method; a recipe holds only pairs of functions (xBefore, xAfter) and of type aliases", d.Name.Name)
			case !isHalf(d.Name.Name):
				p.errorf(d.Name.Pos(), "%s is not part of a pair: a recipe holds only pairs xBefore/xAfter", d.Name.Name)
			case d.Type.TypeParams != nil:
				p.errorf(d.Name.Pos(), "%s has type parameters; a rule's functions have none", d.Name.Name)
			default:
				halves = append(halves, &half{name: d.Name, fn: d, doc: d.Doc, isFn: true, after: strings.HasSuffix(d.Name.Name, suffixAfter)})
			}
		case *ast.GenDecl:
			switch d.Tok {
			case token.IMPORT:
			case token.TYPE:
				for _, s := range d.Specs {
					ts := s.(*ast.TypeSpec)
					doc := ts.Doc
					if doc == nil && !d.Lparen.IsValid() {
						doc = d.Doc
					}
					switch {
					case !isHalf(ts.Name.Name):
						p.errorf(ts.Name.Pos(), "%s is not part of a pair: a recipe holds only pairs xBefore/xAfter", ts.Name.Name)
					case !ts.Assign.IsValid():
						p.errorf(ts.Name.Pos(), "%s must be an alias: type %s = T", ts.Name.Name, ts.Name.Name)
					case ts.TypeParams != nil:
						p.errorf(ts.Name.Pos(), "%s has type parameters; a rule's aliases have none", ts.Name.Name)
					default:
						halves = append(halves, &half{name: ts.Name, ts: ts, doc: doc, after: strings.HasSuffix(ts.Name.Name, suffixAfter)})
					}
				}
			default:
				p.errorf(d.Pos(), "a recipe holds only imports and rule pairs, not %s declarations", d.Tok)
			}
		}
	}

	byStem := map[string]*pair{}
	var pairs []*pair
	for _, h := range halves {
		stem := strings.TrimSuffix(h.name.Name, suffixBefore)
		if h.after {
			stem = strings.TrimSuffix(h.name.Name, suffixAfter)
		}
		pr := byStem[stem]
		if pr == nil {
			pr = &pair{stem: stem}
			byStem[stem] = pr
			pairs = append(pairs, pr)
		}
		side := &pr.before
		if h.after {
			side = &pr.after
		}
		if *side == nil { // a second one is a redeclaration, which the type checker reports
			*side = h
		}
	}

	var complete []*pair
	for _, pr := range pairs {
		b, a := pr.before, pr.after
		switch {
		case a == nil:
			p.errorf(b.name.Pos(), "%s has no %s", b.name.Name, pr.stem+suffixAfter)
			continue
		case b == nil:
			p.errorf(a.name.Pos(), "%s has no %s", a.name.Name, pr.stem+suffixBefore)
			continue
		case b.isFn != a.isFn:
			p.errorf(a.name.Pos(), "%s is %s and %s %s: a pair is two functions or two aliases", b.name.Name, what(b), a.name.Name, what(a))
			continue
		}
		ok := p.docComment(pr)
		p.noDirectives(a)
		if ok {
			complete = append(complete, pr)
		}
	}
	slices.SortStableFunc(complete, func(x, y *pair) int { return int(x.before.name.Pos() - y.before.name.Pos()) })

	// IDs are unique, except that pairs of the retype step may share one.
	first := map[string]*pair{}
	for _, pr := range complete {
		o := first[pr.id]
		if o == nil {
			first[pr.id] = pr
			continue
		}
		if !o.retype || !pr.retype {
			p.errorf(pr.before.doc.Pos(), "duplicate rule ID %s: only //wsunify:retype pairs may share an ID", pr.id)
			e := p.errs[len(p.errs)-1]
			e.Related = append(e.Related, Related{Pos: p.fset.Position(o.before.doc.Pos()), Msg: o.before.name.Name + " has the ID " + pr.id})
		}
	}
	return complete
}

// IsRecipeFile reports whether f has the shape of a recipe: imports and
// at least one xBefore or xAfter function or type alias, nothing else. A
// program built only with the ignore tag (go run gen.go) has not.
func IsRecipeFile(f *ast.File) bool {
	halves := 0
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv != nil || !isHalf(d.Name.Name) {
				return false
			}
			halves++
		case *ast.GenDecl:
			switch d.Tok {
			case token.IMPORT:
			case token.TYPE:
				for _, s := range d.Specs {
					if !isHalf(s.(*ast.TypeSpec).Name.Name) {
						return false
					}
					halves++
				}
			default:
				return false
			}
		}
	}
	return halves > 0
}

func isHalf(name string) bool {
	for _, s := range []string{suffixBefore, suffixAfter} {
		if stem, ok := strings.CutSuffix(name, s); ok && stem != "" {
			return true
		}
	}
	return false
}

func what(h *half) string {
	if h.isFn {
		return "a function"
	}
	return "a type"
}

// ruleID is the form of a rule ID: lower-case words joined by hyphens.
var ruleID = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// docComment reads the ID, the doc line and the directives of a pair from
// its Before's doc comment, and reports whether they are well-formed.
func (p *parser) docComment(pr *pair) bool {
	b := pr.before
	const want = "`// rule-id: what it does, in one line.`"
	if b.doc == nil {
		p.errorf(b.name.Pos(), "%s has no doc comment; it must be %s", b.name.Name, want)
		return false
	}
	ok := true
	var lines []string
	for _, c := range b.doc.List {
		if d, isDirective := strings.CutPrefix(c.Text, "//wsunify:"); isDirective {
			ok = p.directive(pr, c, d) && ok
			continue
		}
		if isToolDirective(c.Text) {
			continue
		}
		for l := range strings.SplitSeq(commentText(c.Text), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
	}
	if len(lines) != 1 {
		p.errorf(b.doc.Pos(), "the doc comment of %s must be one line, %s; it has %d", b.name.Name, want, len(lines))
		return false
	}
	id, doc, found := strings.Cut(lines[0], ":")
	doc = strings.TrimSpace(doc)
	if !found || !ruleID.MatchString(id) || doc == "" {
		p.errorf(b.doc.Pos(), "the doc comment of %s must be %s (an ID of lower-case words joined by hyphens), not %q", b.name.Name, want, lines[0])
		return false
	}
	pr.id, pr.doc = id, doc
	if !b.isFn && (pr.retype || pr.pure != nil) {
		p.errorf(pr.dirPos, "%s is a type alias; //wsunify: directives are for pairs of functions", b.name.Name)
		return false
	}
	return ok
}

// directive reads one //wsunify: directive of pr's Before.
func (p *parser) directive(pr *pair, c *ast.Comment, d string) bool {
	name, args, _ := strings.Cut(d, " ")
	switch args = strings.TrimSpace(args); {
	case name == "retype" && args == "":
		pr.retype = true
		if pr.dirPos == token.NoPos {
			pr.dirPos = c.Pos()
		}
		return true
	case name == "pure" && args != "":
		pr.pure = append(pr.pure, strings.Fields(args)...)
		if pr.dirPos == token.NoPos {
			pr.dirPos = c.Pos()
		}
		return true
	}
	p.errorf(c.Pos(), "unknown directive %s: want //wsunify:retype or //wsunify:pure PARAM...", c.Text)
	return false
}

// noDirectives refuses //wsunify: directives on an After, where they
// would be ignored.
func (p *parser) noDirectives(a *half) {
	if a.doc == nil {
		return
	}
	for _, c := range a.doc.List {
		if strings.HasPrefix(c.Text, "//wsunify:") {
			p.errorf(c.Pos(), "%s: //wsunify: directives belong on the Before of a pair", a.name.Name)
		}
	}
}

// isToolDirective reports whether a line comment is a directive such as
// //go:build or //lint:ignore, which is not doc text.
func isToolDirective(text string) bool {
	t, ok := strings.CutPrefix(text, "//")
	if !ok || t == "" || t[0] == ' ' {
		return false
	}
	colon := strings.IndexByte(t, ':')
	if colon <= 0 {
		return false
	}
	for _, r := range t[:colon] {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

// commentText is the text of one comment without its markers.
func commentText(text string) string {
	if t, ok := strings.CutPrefix(text, "//"); ok {
		return t
	}
	return strings.TrimSuffix(strings.TrimPrefix(text, "/*"), "*/")
}
