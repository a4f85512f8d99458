package codemod

import (
	"context"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"go/types"
	"maps"
	"runtime"
	"sync"

	"github.com/wsunify/wsunify/internal/gosrc"
)

// A stepCheck type-checks the new sources of one step of [Migrate] while
// the step still rewrites: a package is checked as soon as its own rewrite
// is done and the source packages it imports are checked. The packages
// checked again are those whose files changed and those that import one
// of them, directly or not, as [Verify] says.
//
// Checking each package as its rewrite ends, rather than once every file
// is rewritten, is what bounds the memory of a step: the new syntax of a
// package that no longer depends on a legacy path is dropped once it is
// checked (nothing reads it again; it is parsed again from Src if a later
// step checks the package), so the new syntax of the whole program is
// never held at once beside the old program. On the 5,000-file corpus of
// BenchmarkMigrate that takes a third off the heap at its peak, and so off
// the memory the process touches, which on a virtual machine costs as much
// as the collections.
type stepCheck struct {
	ctx     context.Context
	cancel  context.CancelFunc
	prog    *Program
	release bool // see verify
	byPath  map[string]*pkgCheck
	order   []*pkgCheck
	sem     chan struct{}
	wg      sync.WaitGroup

	mu      sync.Mutex
	over    bool // the rewrite is over: no more changes, and the old syntax is no longer read
	failed  bool // the rewrite failed: nothing is checked
	changed int  // the files changed
}

// pkgCheck is one package of a step.
type pkgCheck struct {
	old      *Package
	index    int  // in the program's dependency order
	oldReach bool // whether old depends on a legacy path

	fed     bool          // changes is set (under stepCheck.mu)
	changed chan struct{} // closed once changes is set
	changes map[string]FileChange

	done     chan struct{} // closed once the fields below are set
	affected bool          // checked again: its files changed, or a package it imports was checked again
	np       *Package      // the package in the next program, when affected
	reach    bool          // whether the package in the next program depends on a legacy path
	checked  bool          // np is checked (under stepCheck.mu)
}

// startCheck starts a stepCheck of prog; with release, the syntax and
// types of the packages checked again are dropped from prog once the
// rewrite is over, and the new syntax of the packages that no longer
// depend on a legacy path once they are checked.
func startCheck(ctx context.Context, prog *Program, release bool) *stepCheck {
	ctx, cancel := context.WithCancel(ctx)
	sc := &stepCheck{ctx: ctx, cancel: cancel, prog: prog, release: release,
		byPath: map[string]*pkgCheck{}, sem: make(chan struct{}, runtime.GOMAXPROCS(0))}
	reaches := prog.reaches(typesImportPaths)
	for i, pkg := range prog.Packages {
		pc := &pkgCheck{old: pkg, index: i, oldReach: prog.reach == nil || reaches(pkg),
			changed: make(chan struct{}), done: make(chan struct{})}
		sc.byPath[pkg.Path] = pc
		sc.order = append(sc.order, pc)
	}
	for _, pc := range sc.order {
		sc.wg.Go(func() { sc.run(pc) })
	}
	return sc
}

// add gives the changes of pkg, whose rewrite is done. It is called at
// most once per package, before rewriteOver; a package it is not called
// for has no changes.
func (sc *stepCheck) add(pkg *Package, changes []FileChange) {
	pc := sc.byPath[pkg.Path]
	if pc == nil {
		return
	}
	m := make(map[string]FileChange, len(changes))
	for _, c := range changes {
		m[c.Name] = c
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	pc.changes, pc.fed = m, true
	sc.changed += len(changes)
	close(pc.changed)
}

// wait waits until pkg is resolved (checked, if it is checked again), or
// the check is given up. It does not wait for a package later in the
// dependency order than those given to add.
func (sc *stepCheck) wait(pkg *Package) {
	if pc := sc.byPath[pkg.Path]; pc != nil {
		select {
		case <-pc.done:
		case <-sc.ctx.Done():
		}
	}
}

// rewriteOver says that the rewrite is over, ok or not: the packages not
// given changes have none, and the old syntax of the packages checked
// again may go.
func (sc *stepCheck) rewriteOver(ok bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.over, sc.failed = true, !ok
	if !ok {
		sc.cancel()
	}
	for _, pc := range sc.order {
		if !pc.fed {
			pc.fed = true
			close(pc.changed)
		}
		if pc.checked {
			sc.releaseOld(pc)
		}
	}
}

// stop gives up the check and waits for its goroutines.
func (sc *stepCheck) stop() {
	sc.rewriteOver(false)
	sc.wg.Wait()
}

// run resolves one package: once its changes are known and the source
// packages it imports are resolved, whether it is checked again, and then
// its check.
func (sc *stepCheck) run(pc *pkgCheck) {
	defer close(pc.done)
	select {
	case <-pc.changed:
	case <-sc.ctx.Done():
		return
	}
	// The new sources may import packages the old ones did not: facade
	// and bridge are waited for too, when they are source packages that
	// come first in the dependency order.
	imports := maps.Clone(pc.old.imports)
	imports[FacadePath], imports[BridgePath] = FacadePath, BridgePath
	waited := map[string]*pkgCheck{}
	for _, path := range imports {
		if d := sc.byPath[path]; d != nil && d.index < pc.index {
			waited[path] = d
		}
	}
	for _, d := range waited {
		select {
		case <-d.done:
		case <-sc.ctx.Done():
			return
		}
		pc.affected = pc.affected || d.affected
	}
	pc.affected = pc.affected || len(pc.changes) > 0
	if !pc.affected {
		pc.reach = pc.oldReach
		return
	}
	pkg := pc.old
	np := &Package{
		Path: pkg.Path, Name: pkg.Name, Dir: pkg.Dir, Selected: pkg.Selected,
		imports: imports, Errors: pkg.Errors, fset: pkg.fset,
	}
	for _, f := range pkg.Files {
		// An unchanged file keeps its syntax tree.
		nf := &File{Name: f.Name, Src: f.Src, AST: f.AST, parseErr: f.parseErr}
		if c, ok := pc.changes[f.Name]; ok {
			nf.Src, nf.AST, nf.parseErr = c.New, c.ast, nil
		}
		np.Files = append(np.Files, nf)
	}
	pc.changes = nil // their syntax is np's now
	// A package that no longer reaches a legacy path has nothing left for
	// a rule: it is checked without recording what the rules read.
	pc.reach = sc.reachOf(np, waited)
	np.noInfo = !pc.reach
	select {
	case sc.sem <- struct{}{}:
	case <-sc.ctx.Done():
		return
	}
	sc.prog.checkOne(np, func(path string) *Package {
		if d := waited[path]; d != nil {
			if d.np != nil {
				return d.np
			}
			return d.old
		}
		// Not waited for: as it was loaded (its types stay until the
		// check is over).
		return sc.prog.byPath[path]
	})
	<-sc.sem
	if np.noInfo && sc.release {
		for _, f := range np.Files {
			f.AST = nil
		}
	}
	pc.np = np
	sc.mu.Lock()
	defer sc.mu.Unlock()
	pc.checked = true
	if sc.over {
		sc.releaseOld(pc)
	}
}

// releaseOld drops the syntax and the rules' information of pc's old
// package, with release, once the rewrite is over (it reads them) and the
// package is checked again (its unchanged files' syntax went over to the
// new package). Its types stay until the check is over: a package the new
// sources import without waiting for it is seen as it was loaded. Called
// with sc.mu held.
func (sc *stepCheck) releaseOld(pc *pkgCheck) {
	if !sc.release || sc.failed || pc.old.released {
		return
	}
	pc.old.Info, pc.old.released = nil, true
	for _, f := range pc.old.Files {
		f.AST, f.parseErr = nil, nil
	}
}

// reachOf reports whether np, the new version of a package, depends on a
// legacy path, as [Program.mayUseLegacy] will say once it is checked, from
// the import declarations of its files; waited are the source packages
// resolved before it.
func (sc *stepCheck) reachOf(np *Package, waited map[string]*pkgCheck) bool {
	p := sc.prog
	if p.reach == nil {
		return true
	}
	for _, f := range np.Files {
		af := f.AST
		if af == nil {
			var err error
			af, err = parser.ParseFile(token.NewFileSet(), f.Name, f.Src, parser.ImportsOnly)
			if err != nil {
				return true
			}
		}
		for _, spec := range af.Imports {
			path := gosrc.ImportPath(spec)
			if real, ok := np.imports[path]; ok {
				path = real
			}
			var r bool
			if d := waited[path]; d != nil {
				r = d.reach
			} else if d := sc.byPath[path]; d != nil {
				r = d.oldReach
			} else if known, ok := p.reach[path]; ok {
				r = known
			} else {
				r = path != "unsafe"
			}
			if r || p.legacyPaths[path] {
				return true
			}
		}
	}
	return false
}

// finish waits for the checks once the rewrite is over and returns the
// program as it is after the changes, or a [verifyError] with the type
// errors of the packages checked again.
func (sc *stepCheck) finish() (*Program, error) {
	prog := sc.prog
	prog.counter(StageVerifying, sc.changed)
	sc.wg.Wait()
	defer sc.cancel()
	if err := sc.ctx.Err(); err != nil {
		return nil, fmt.Errorf("codemod: type-check: %w", err)
	}
	next := &Program{
		Fset: prog.Fset, Module: prog.Module, byPath: map[string]*Package{},
		ext: prog.ext, legacyPaths: prog.legacyPaths, reach: prog.reach,
		config: prog.config, unchecked: prog.unchecked, source: prog.source, progress: prog.progress,
		mods: prog.mods, selected: prog.selected,
	}
	ve := &verifyError{files: map[string]bool{}, pkgs: map[string]bool{}}
	for _, pc := range sc.order {
		pkg := pc.old
		if pc.affected {
			pkg = pc.np
			if pc.old.released {
				pc.old.Types = nil
			}
		}
		next.Packages = append(next.Packages, pkg)
		next.byPath[pkg.Path] = pkg
		if !pc.affected {
			continue
		}
		for _, e := range pkg.Errors {
			ve.pkgs[pkg.Path] = true
			ve.errs = append(ve.errs, fmt.Errorf("%s: %w", pkg.Path, e))
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
