package codemod

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/token"
	"maps"
)

// ErrWouldBreak is returned when rewritten sources do not type-check.
var ErrWouldBreak = errors.New("codemod: the rewrite does not type-check")

// Verify type-checks the packages of prog that changes touch, and the
// source packages that import them, from the new sources. It returns the
// program as it is after the changes, or [ErrWouldBreak] with the type
// errors. prog itself is not modified.
func Verify(ctx context.Context, prog *Program, changes []FileChange) (*Program, error) {
	byName := map[string]FileChange{}
	for _, c := range changes {
		byName[c.Name] = c
	}
	sc := startCheck(ctx, prog, false)
	for _, pkg := range prog.Packages {
		var cs []FileChange
		for _, f := range pkg.Files {
			if c, ok := byName[f.Name]; ok {
				cs = append(cs, c)
			}
		}
		sc.add(pkg, cs)
	}
	sc.rewriteOver(true)
	return sc.finish()
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
	res.Exported = exportedChanges(res.exported)
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
		// The new sources are checked as they come (see stepCheck).
		sc := startCheck(ctx, prog, true)
		res, err := rewrite(prog, opts, st, sc)
		if err != nil {
			sc.stop()
			return nil, nil, err
		}
		total.Findings, total.keptKeys = res.Findings, res.keptKeys
		if len(res.Changes) == 0 || step == maxSteps {
			sc.stop()
			break
		}
		sc.rewriteOver(true)
		next, err := sc.finish()
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
		total.exported = addExported(total.exported, res.exported)
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
	p := st.pos(fset, id)
	return fmt.Sprintf("%s:%s:%d", p.Filename, id.Name, p.Line)
}

// pos is the position of id on disk, before the steps: its file, line
// and column.
func (st *steer) pos(fset *token.FileSet, id *ast.Ident) token.Position {
	p := fset.Position(id.Pos())
	line, col := p.Line, p.Column
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
			line, col, _ = m.old(p.Line, p.Column)
		}
	}
	return token.Position{Filename: p.Filename, Line: line, Column: col}
}
