package codemod

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"maps"

	"github.com/wsunify/wsunify/internal/gosrc"
)

// ErrWouldBreak is returned when rewritten sources do not type-check.
var ErrWouldBreak = errors.New("codemod: the rewrite does not type-check")

// Verify type-checks the packages of prog that changes touch, and the
// source packages that import them, from the new sources. It returns the
// program as it is after the changes, or [ErrWouldBreak] with the type
// errors. prog itself is not modified.
func Verify(ctx context.Context, prog *Program, changes []FileChange) (*Program, error) {
	return verify(ctx, prog, changes, false)
}

// verify is [Verify]; with release, it first drops the syntax and types of
// the packages it checks again from prog, which halves the memory the
// check needs. [Program.restore] brings them back if prog is needed again.
func verify(ctx context.Context, prog *Program, changes []FileChange, release bool) (*Program, error) {
	prog.counter(StageVerifying, len(changes))
	newSrc := map[string]FileChange{}
	for _, c := range changes {
		newSrc[c.Name] = c
	}
	affected := map[string]bool{}
	for _, pkg := range prog.Packages {
		touched := false
		for _, f := range pkg.Files {
			if _, ok := newSrc[f.Name]; ok {
				touched = true
			}
		}
		for _, path := range pkg.imports {
			touched = touched || affected[path]
		}
		if touched {
			affected[pkg.Path] = true
		}
	}
	next := &Program{
		Fset: prog.Fset, Module: prog.Module, byPath: maps.Clone(prog.byPath),
		ext: prog.ext, legacyPaths: prog.legacyPaths, reach: prog.reach,
		config: prog.config, unchecked: prog.unchecked, source: prog.source, progress: prog.progress,
		mods: prog.mods, selected: prog.selected,
	}
	var recheck []*Package
	for _, pkg := range prog.Packages {
		if !affected[pkg.Path] {
			next.Packages = append(next.Packages, pkg)
			continue
		}
		np := &Package{
			Path: pkg.Path, Name: pkg.Name, Dir: pkg.Dir, Selected: pkg.Selected,
			imports: pkg.imports, Errors: pkg.Errors, fset: pkg.fset,
		}
		for _, f := range pkg.Files {
			// An unchanged file keeps its syntax tree.
			nf := &File{Name: f.Name, Src: f.Src, AST: f.AST, parseErr: f.parseErr}
			if c, ok := newSrc[f.Name]; ok {
				nf.Src, nf.AST, nf.parseErr = c.New, c.ast, nil
			}
			np.Files = append(np.Files, nf)
		}
		next.Packages = append(next.Packages, np)
		next.byPath[np.Path] = np
		recheck = append(recheck, np)
		if release {
			pkg.release()
		}
	}
	// The new sources may import packages the old ones did not.
	for _, np := range recheck {
		np.imports = maps.Clone(np.imports)
		np.imports[FacadePath] = FacadePath
		np.imports[BridgePath] = BridgePath
	}
	// A package that no longer reaches a legacy path has nothing left for
	// a rule: it is checked without recording what the rules read.
	needInfo := next.mayUseLegacyByImports(recheck)
	for _, np := range recheck {
		np.noInfo = !needInfo(np)
	}
	if err := next.check(ctx, recheck); err != nil {
		return nil, err
	}
	ve := &verifyError{files: map[string]bool{}, pkgs: map[string]bool{}}
	for _, np := range recheck {
		for _, e := range np.Errors {
			ve.pkgs[np.Path] = true
			ve.errs = append(ve.errs, fmt.Errorf("%s: %w", np.Path, e))
			var te types.Error
			if errors.As(e, &te) {
				ve.files[te.Fset.Position(te.Pos).Filename] = true
			}
		}
	}
	if len(ve.errs) > 0 {
		return nil, ve
	}
	return next, nil
}

// mayUseLegacyByImports is [Program.mayUseLegacy] before pkgs are checked:
// their imports are read from the import declarations of their files.
func (p *Program) mayUseLegacyByImports(pkgs []*Package) func(*Package) bool {
	if p.reach == nil {
		return func(*Package) bool { return true }
	}
	imports := map[string][]string{}
	for _, pkg := range pkgs {
		seen := map[string]bool{}
		for _, f := range pkg.Files {
			af := f.AST
			if af == nil {
				var err error
				af, err = parser.ParseFile(token.NewFileSet(), f.Name, f.Src, parser.ImportsOnly)
				if err != nil {
					return func(*Package) bool { return true }
				}
			}
			for _, spec := range af.Imports {
				path := gosrc.ImportPath(spec)
				if real, ok := pkg.imports[path]; ok {
					path = real
				}
				if !seen[path] {
					seen[path] = true
					imports[pkg.Path] = append(imports[pkg.Path], path)
				}
			}
		}
	}
	return p.reaches(func(pkg *Package) ([]string, bool) {
		if imps, ok := imports[pkg.Path]; ok {
			return imps, true
		}
		return typesImportPaths(pkg)
	})
}

// release drops the syntax trees and the types of pkg; Src stays.
func (pkg *Package) release() {
	pkg.Types, pkg.Info, pkg.released = nil, nil, true
	for _, f := range pkg.Files {
		f.AST, f.parseErr = nil, nil
	}
}

// restore parses and type-checks again the packages of p that verify
// released.
func (p *Program) restore(ctx context.Context) error {
	var pkgs []*Package
	for _, pkg := range p.Packages {
		if pkg.released {
			pkg.released = false
			pkgs = append(pkgs, pkg)
		}
	}
	return p.check(ctx, pkgs)
}

// verifyError lists the type errors of rewritten sources.
type verifyError struct {
	errs  []error
	files map[string]bool // the files with errors
	pkgs  map[string]bool // the packages with errors
}

func (e *verifyError) Error() string {
	return fmt.Sprintf("%v:\n%v", ErrWouldBreak, errors.Join(e.errs...))
}

func (e *verifyError) Is(target error) bool { return target == ErrWouldBreak }

// maxSteps bounds the rounds of [Migrate]: call sites, then declarations,
// then the declarations that the previous retype made retypable.
const maxSteps = 6

// Migrate rewrites prog, in each of its build configurations, step by step
// until no rule has work left, verifying
// that each step type-checks, and returns the accumulated changes (Old is
// the content on disk, New the final one), the findings left at the end and
// the migrated program. It writes nothing. Migrate uses prog up: to bound
// memory, the packages it rewrites give their syntax and types over to the
// returned program.
func Migrate(ctx context.Context, prog *Program, opts *Options) (*Result, *Program, error) {
	if len(prog.others) > 0 {
		return migrateConfigs(ctx, prog, opts)
	}
	res, next, err := migrateOne(ctx, prog, opts, nil)
	if err != nil {
		return nil, nil, err
	}
	res.Findings = append(res.Findings, prog.uncheckedFindings(opts)...)
	sortResult(res)
	return res, next, nil
}

// migrateOne is [Migrate] in one build configuration, keeping the
// declarations of keep (by stable key).
func migrateOne(ctx context.Context, prog *Program, opts *Options, keep map[string]kept) (*Result, *Program, error) {
	total := &Result{Rewritten: map[string]int{}, sites: map[string]map[string]int{}, retypedKeys: map[string]map[string]bool{}}
	orig := map[string][]byte{}
	final := map[string]FileChange{}
	skip := map[string]string{}
	st := &steer{skip: skip, keep: keep, moved: final}
	for step := 0; ; step++ {
		pkgOf := map[string]string{} // file → package path
		for _, pkg := range prog.Packages {
			for _, f := range pkg.Files {
				pkgOf[f.Name] = pkg.Path
			}
		}
		res, err := rewrite(prog, opts, st)
		if err != nil {
			return nil, nil, err
		}
		total.Findings, total.keptKeys = res.Findings, res.keptKeys
		if len(res.Changes) == 0 || step == maxSteps {
			break
		}
		next, err := verify(ctx, prog, res.Changes, true)
		var ve *verifyError
		if errors.As(err, &ve) {
			if err := prog.restore(ctx); err != nil {
				return nil, nil, err
			}
			// Keep the declarations whose retype broke a file, and redo
			// the step without them.
			// First the retypes that edited a file with errors; if there are
			// none, those that edited a package with errors.
			retry := false
			for _, broken := range []func(file string) bool{
				func(f string) bool { return ve.files[f] },
				func(f string) bool { return ve.pkgs[pkgOf[f]] },
			} {
				for key, files := range res.retyped {
					for f := range files {
						if broken(f) && skip[key] == "" {
							skip[key] = droppedWhy(ve.errs[0], res.Changes, final)
							retry = true
						}
					}
				}
				if retry {
					break
				}
			}
			if retry {
				step--
				continue
			}
		}
		if err != nil {
			return nil, nil, err
		}
		for _, c := range res.Changes {
			if _, ok := orig[c.Name]; !ok {
				orig[c.Name] = c.Old
			}
			c.Old, c.ast = orig[c.Name], nil
			final[c.Name] = c
		}
		for k, v := range res.Rewritten {
			total.Rewritten[k] += v
		}
		for f, m := range res.sites {
			if total.sites[f] == nil {
				total.sites[f] = map[string]int{}
			}
			for k, v := range m {
				total.sites[f][k] += v
			}
		}
		for k, files := range res.retypedKeys {
			if total.retypedKeys[k] == nil {
				total.retypedKeys[k] = map[string]bool{}
			}
			maps.Copy(total.retypedKeys[k], files)
		}
		st.lines = nil // the files moved
		prog = next
	}
	for _, c := range final {
		if !bytes.Equal(c.Old, c.New) { // a later step may undo an earlier one
			total.Changes = append(total.Changes, c)
		}
	}
	sortResult(total)
	return total, prog, nil
}

// steer is what a step of [Migrate] is told about the declarations to
// keep: by position in the step's program (skip), or by a key that holds
// across steps and configurations (keep).
type steer struct {
	skip  map[string]string     // declKey → why it keeps its type
	keep  map[string]kept       // stable key → why it keeps its type
	moved map[string]FileChange // a file → its change so far (Old on disk)
	lines map[string]*lineMap
}

// kept is why a declaration keeps its legacy type, with the places the
// reason names.
type kept struct {
	why     string
	related []Related
}

// kept returns why the declaration id keeps its type, if it does.
func (st *steer) kept(fset *token.FileSet, id *ast.Ident) (kept, bool) {
	if st == nil {
		return kept{}, false
	}
	if why, ok := st.skip[declKey(fset, id)]; ok {
		return kept{why: why}, true
	}
	k, ok := st.keep[st.key(fset, id)]
	return k, ok
}

// key identifies the declaration id across steps and build
// configurations: its file, its name and its line on disk.
func (st *steer) key(fset *token.FileSet, id *ast.Ident) string {
	p := fset.Position(id.Pos())
	line := p.Line
	if st != nil {
		if c, ok := st.moved[p.Filename]; ok {
			if st.lines == nil {
				st.lines = map[string]*lineMap{}
			}
			m := st.lines[p.Filename]
			if m == nil {
				m = newLineMap(c)
				st.lines[p.Filename] = m
			}
			line, _, _ = m.old(p.Line, p.Column)
		}
	}
	return fmt.Sprintf("%s:%s:%d", p.Filename, id.Name, line)
}
