package recipe

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"sort"
	"strings"
)

// A Recipe is a parsed and type-checked recipe file.
//
// A Recipe is read-only once Parse returns it, and safe for concurrent use.
type Recipe struct {
	Fset *token.FileSet
	File *ast.File
	Src  []byte
	Pkg  *types.Package
	Info *types.Info
	// Legacy lists, sorted, the import paths of the packages whose
	// functions, methods and types the Before bodies use: the legacy
	// packages of the migration.
	Legacy []string
	// Rules are the rules in the order of their Before in the file.
	Rules []*Rule
}

// Kind is the kind of a rule.
type Kind int

// The kinds of rules.
const (
	// Method: Before calls a method of a legacy type on its first
	// parameter (or, in the retype step, on a value a legacy function
	// builds from its first parameters).
	Method Kind = 1 + iota
	// Func: Before calls a package-level function of a legacy package.
	Func
	// Type: a pair of aliases; every use of the Before type name becomes
	// the After type, which is identical to it.
	Type
	// Retype: a //wsunify:retype pair whose results differ: a
	// declaration of the legacy type gets the target type, and a value
	// built as Before says is obtained as After says.
	Retype
)

// String returns the name of k.
func (k Kind) String() string {
	switch k {
	case Method:
		return "method"
	case Func:
		return "func"
	case Type:
		return "type"
	case Retype:
		return "retype"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// The steps of a migration: call sites first, then the retype step, which
// starts from what the first step left.
const (
	StepCallSite = 1
	StepRetype   = 2
)

// A Rule is one pair of a recipe.
type Rule struct {
	// ID names the rule in findings, in -rule flags and in bridge's
	// deprecation warnings. Pairs of the retype step may share an ID:
	// they are then one rule, selected together.
	ID string
	// Doc is the one line for humans that follows the ID in the doc
	// comment, without its final period.
	Doc  string
	Kind Kind
	// Step is StepCallSite, or StepRetype for a //wsunify:retype pair.
	Step int

	// Before and After are the pair's functions; nil for a Type rule.
	Before, After *ast.FuncDecl
	// BeforeType and AfterType are the pair's alias specs of a Type rule.
	BeforeType, AfterType *ast.TypeSpec

	// BeforeExpr is the expression of Before's one statement (the call,
	// or for a retype pair of "any value of the type", the parameter).
	// AfterExpr is After's: the migrated form. For a Type rule they are
	// the aliases' type expressions.
	BeforeExpr, AfterExpr ast.Expr
	// Call is BeforeExpr as a call; nil when it is not one.
	Call *ast.CallExpr

	// Params are the pair's parameters, in signature order.
	Params []*Param
	// Order lists the indexes of the parameters in the order After first
	// uses them in the source; see [Param.Cond] for uses evaluated later.
	Order []int

	// Legacy is what Before uses: the *types.Func of a method or a
	// function, or for a retype pair of "any value of the type", the
	// *types.TypeName of the legacy type. For a Type rule, the
	// *types.TypeName Before aliases.
	Legacy types.Object
	// Recv is the type of the method's receiver in Before (Method rules
	// and retype pairs built by a method call); nil otherwise.
	Recv types.Type
	// Via is the legacy function that builds the receiver in Before, as
	// in bridge.NewWebSocketManager(h).IsConnectionActive(userID); nil
	// when the receiver is the first parameter.
	Via *types.Func
	// Sig is Before's signature; nil for a Type rule.
	Sig *types.Signature
	// Target is, for a Retype rule, the type After gives where Before
	// gives the legacy type (After's result number TargetIndex).
	Target      types.Type
	TargetIndex int

	// Form is the migrated form as source text, on one line, for humans:
	// After's expression as the recipe spells it.
	Form string
}

// A Param is a parameter of a pair.
type Param struct {
	Name string
	// Var is Before's parameter.
	Var *types.Var
	// Pure is set by //wsunify:pure: After may use the parameter any
	// number of times, and the rule applies only where the argument can
	// be evaluated any number of times without effect.
	Pure bool
	// InBefore is the one use of the parameter in Before.
	InBefore *ast.Ident
	// InAfter are its uses in After, in source order.
	InAfter []*ast.Ident
	// Cond says that a use in After is evaluated only on some paths, or
	// later than the others: in a function literal, or on the right of
	// && or ||. Where the argument has effects, the rewrite changes when
	// (or whether) they happen.
	Cond bool
}

// Rule returns the first rule with the given ID, or nil.
func (r *Recipe) Rule(id string) *Rule {
	for _, x := range r.Rules {
		if x.ID == id {
			return x
		}
	}
	return nil
}

// ByID returns the rules with the given ID, in file order: one, or for a
// rule of the retype step, perhaps several.
func (r *Recipe) ByID(id string) []*Rule {
	var out []*Rule
	for _, x := range r.Rules {
		if x.ID == id {
			out = append(out, x)
		}
	}
	return out
}

// IDs returns the distinct rule IDs, in file order.
func (r *Recipe) IDs() []string {
	var ids []string
	seen := map[string]bool{}
	for _, x := range r.Rules {
		if !seen[x.ID] {
			seen[x.ID] = true
			ids = append(ids, x.ID)
		}
	}
	return ids
}

// An Error is one problem of a recipe file. Msg holds no position: Pos
// and Related do.
type Error struct {
	Pos token.Position
	Msg string
	// Related are other places the problem involves, as the first
	// declaration of a duplicate ID.
	Related []Related
}

// Related is a place an Error involves.
type Related struct {
	Pos token.Position
	Msg string
}

// Error prints "file:line:col: message", each related place on a line of
// its own below, indented.
func (e *Error) Error() string {
	s := e.Msg
	if e.Pos.IsValid() {
		s = e.Pos.String() + ": " + e.Msg
	}
	for _, r := range e.Related {
		s += "\n\t" + r.Pos.String() + ": " + r.Msg
	}
	return s
}

// An ErrorList is every problem Parse found, in file order. Parse returns
// one as its error; find it with errors.As.
type ErrorList []*Error

func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

func (l ErrorList) sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// LegacyName names what Before uses, qualified by q: "pkg.F" for a
// function or a type, "pkg.T.M" for a method of T. A nil q qualifies by
// import path, as in "github.com/wsunify/wsunify/bridge.WebSocketManager.SendToUser".
func (r *Rule) LegacyName(q types.Qualifier) string {
	if q == nil {
		q = func(p *types.Package) string { return p.Path() }
	}
	if fn, ok := r.Legacy.(*types.Func); ok {
		if recv := fn.Signature().Recv(); recv != nil {
			t := recv.Type()
			if p, ok := t.(*types.Pointer); ok {
				t = p.Elem()
			}
			return types.TypeString(t, q) + "." + fn.Name()
		}
	}
	if s := q(r.Legacy.Pkg()); s != "" {
		return s + "." + r.Legacy.Name()
	}
	return r.Legacy.Name()
}
