package codemod

import (
	"context"
	"fmt"
	"go/ast"
	"go/importer"
	"go/token"
	"go/types"
	"maps"
	"slices"
	"strings"

	"github.com/wsunify/wsunify/codemod/recipe"
	"github.com/wsunify/wsunify/codemod/recipe/builtin"
)

// Step orders the rules: every rule of a step type-checks on its own, and a
// step only starts on what the previous ones left.
type Step int

// The steps of a migration.
const (
	// StepCallSite rewrites calls of legacy methods, reaching the facade
	// through bridge.NotifierOf and bridge.EmitterOf.
	StepCallSite Step = recipe.StepCallSite
	// StepRetype gives declarations of a legacy type a facade type and
	// simplifies their uses.
	StepRetype Step = recipe.StepRetype
)

// String names the step for humans.
func (s Step) String() string {
	switch s {
	case StepCallSite:
		return "call sites"
	case StepRetype:
		return "retype"
	}
	return fmt.Sprintf("Step(%d)", int(s))
}

// Rule is one rule of a recipe, as the engine runs it. The rules of the
// retype step that share an ID are one Rule.
type Rule struct {
	ID string
	// Legacy is the fully qualified legacy name the rule rewrites.
	Legacy string
	// Form is the migrated form, for humans.
	Form string
	// Doc is the recipe's line for humans.
	Doc  string
	Step Step

	kind   recipe.Kind
	src    *recipe.Rule
	form   *form           // the migrated form (After's expression)
	method *types.Func     // Method rules: the legacy method
	recv   *types.TypeName // Method rules: the legacy type that declares it
	// hubMethod is, for a method rule of the retype step whose receiver a
	// legacy function builds (bridge.NewWebSocketManager(h).X(u)), the
	// method After calls on what it was built from (h.Connected(u)).
	hubMethod string
}

// The rule IDs that are not the recipe's.
const (
	// RuleRetype is the ID of the retype step's rules in the built-in
	// recipe.
	RuleRetype = "retype"
	// RuleBridgeRef counts the remaining references to a legacy package
	// that no rule rewrites: they are reported for a human.
	RuleBridgeRef = "bridge-ref"
)

// rulesOf returns the engine's rules of rc, in the recipe's order: one per
// ID.
func rulesOf(rc *recipe.Recipe) []*Rule {
	var out []*Rule
	byID := map[string]*Rule{}
	for _, rr := range rc.Rules {
		if r := byID[rr.ID]; r != nil {
			// Another pair of a retype rule.
			r.Legacy += ", " + legacyName(rr)
			r.Form += "; " + rr.Form
			continue
		}
		r := &Rule{ID: rr.ID, Doc: rr.Doc, Step: Step(rr.Step), kind: rr.Kind, src: rr,
			Legacy: legacyName(rr), Form: rr.Form}
		if rr.Kind == recipe.Retype {
			r.Legacy = "declarations of " + r.Legacy
		}
		r.form = formOf(rc, rr)
		if fn, ok := rr.Legacy.(*types.Func); ok && rr.Kind == recipe.Method {
			r.method = fn
			r.recv = namedOf(fn.Signature().Recv().Type())
			if rr.Via != nil {
				if call, ok := rr.AfterExpr.(*ast.CallExpr); ok {
					if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
						r.hubMethod = sel.Sel.Name
					}
				}
			}
		}
		byID[rr.ID] = r
		out = append(out, r)
	}
	return out
}

// namedOf returns the type name of t, a named type or a pointer to one.
func namedOf(t types.Type) *types.TypeName {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		return n.Origin().Obj()
	}
	return nil
}

// legacyName is what rr rewrites, fully qualified, for humans.
func legacyName(rr *recipe.Rule) string {
	if rr.Legacy == nil {
		return rr.ID
	}
	return rr.LegacyName(nil)
}

// formOf is the form of rr's After expression.
func formOf(rc *recipe.Recipe, rr *recipe.Rule) *form {
	if rr.AfterExpr == nil {
		return nil
	}
	params := make([]string, len(rr.Params))
	uses := map[*ast.Ident]int{}
	for i, p := range rr.Params {
		params[i] = p.Name
		for _, id := range p.InAfter {
			uses[id] = i
		}
	}
	return newForm(rc.Fset, rc.Src, rr.AfterExpr, params,
		func(id *ast.Ident) (int, bool) { i, ok := uses[id]; return i, ok },
		func(id *ast.Ident) (pkgRef, bool) {
			if pn, ok := rc.Info.Uses[id].(*types.PkgName); ok {
				return pkgRef{path: pn.Imported().Path(), name: pn.Imported().Name()}, true
			}
			return pkgRef{}, false
		})
}

// RuleSet is a selection of rules; the zero value selects all of them.
type RuleSet map[string]bool

// ParseRuleSet parses a comma-separated list of rule IDs; [RuleSet.Check]
// holds it to the rules of a recipe.
func ParseRuleSet(list string) (RuleSet, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	set := RuleSet{}
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			return nil, fmt.Errorf("codemod: empty rule ID in %q", list)
		}
		set[id] = true
	}
	return set, nil
}

// Check reports an ID of s that none of rules has.
func (s RuleSet) Check(rules []*Rule) error {
	var ids []string
	for _, r := range rules {
		ids = append(ids, r.ID)
	}
	for _, id := range slices.Sorted(maps.Keys(s)) {
		if !slices.Contains(ids, id) {
			return fmt.Errorf("codemod: unknown rule %q (rules: %s)", id, strings.Join(ids, ", "))
		}
	}
	return nil
}

// Has reports whether the set selects the rule.
func (s RuleSet) Has(id string) bool { return len(s) == 0 || s[id] }

// recipeOf returns the recipe of opts (the built-in one when opts.Recipe
// is nil) type-checked against the packages of p itself, so that its types
// are the program's. It returns nil, nil when p has not loaded the
// built-in recipe's legacy package: nothing of p is legacy then.
func (p *Program) recipeOf(opts *Options) (*recipe.Recipe, error) {
	name, src := builtin.Filename, builtin.Source
	if opts != nil && opts.Recipe != nil {
		name, src = opts.Recipe.Fset.Position(opts.Recipe.File.Package).Filename, opts.Recipe.Src
	} else if p.lookupTypes(BridgePath) == nil {
		return nil, nil
	}
	imp := importerFunc(func(path string) (*types.Package, error) {
		if pkg := p.lookupTypes(path); pkg != nil {
			return pkg, nil
		}
		if isStdPath(path) {
			return stdImporter.Import(path)
		}
		return nil, fmt.Errorf("%s is not a dependency of the packages loaded", path)
	})
	return recipe.Parse(token.NewFileSet(), name, src, imp)
}

// stdImporter imports the packages of the standard library a recipe names
// that the program does not depend on.
var stdImporter = importer.Default()

// lookupTypes returns the types of the package of p with the given path,
// from source or export data, or nil.
func (p *Program) lookupTypes(path string) *types.Package {
	pkg, _ := p.loadTypes(path)
	return pkg
}

// loadTypes is [Program.lookupTypes] with the reason a package has no
// types.
func (p *Program) loadTypes(path string) (*types.Package, error) {
	if pkg := p.byPath[path]; pkg != nil && pkg.Types != nil {
		return pkg.Types, nil
	}
	if p.ext == nil {
		return nil, fmt.Errorf("no export data for %s", path)
	}
	return p.ext.load(path)
}

// Rules returns the rules of the recipe of opts (the built-in one when
// opts.Recipe is nil) as they apply to prog, in the recipe's order.
func Rules(prog *Program, opts *Options) ([]*Rule, error) {
	rc, err := prog.recipeOf(opts)
	if err != nil {
		return nil, err
	}
	if rc == nil {
		return nil, nil
	}
	return rulesOf(rc), nil
}

// bridgeRefRule stands for the references to a legacy package no rule
// rewrites.
var bridgeRefRule = &Rule{ID: RuleBridgeRef, Legacy: "other references to a legacy package", Form: "none: rewritten by hand",
	Doc: "a reference to a legacy package that no rule rewrites: port it by hand (MIGRATION.md)."}

// BuiltinRules returns the rules of the built-in recipe, its imports
// loaded by the go command in dir.
func BuiltinRules(ctx context.Context, dir string) ([]*Rule, error) {
	fset := token.NewFileSet()
	pkgs, err := recipe.LoadImports(ctx, dir, fset, builtin.Filename, builtin.Source, recipe.LoadMode)
	if err != nil {
		return nil, err
	}
	rc, err := recipe.Parse(fset, builtin.Filename, builtin.Source, recipe.ImporterOf(pkgs))
	if err != nil {
		return nil, err
	}
	return rulesOf(rc), nil
}
