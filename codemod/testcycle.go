package codemod

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"
)

// A package's test variant (its files and its _test.go files of the same
// package) stands for it in the source set (chooseVariants), which leaves
// an import cycle where two packages' tests import each other's package:
// the tests of internal/impl import internal/testprotos, whose own tests
// import internal/impl (google.golang.org/protobuf). The go command builds
// each test against the plain other package; the codemod checks one
// variant of each, one package after those it imports, and waited forever
// there. breakTestCycles makes a package of each such cycle plain: its
// files without its tests. Its _test.go files, and its external test
// package's, which may need what they declare, are then checked no
// further: reported unchecked with the cycle (testCycleFiles), and the
// declarations they name keep their type, as for any unchecked file.

// breakTestCycles makes the source set acyclic, replacing by its plain
// variant a package whose tests close a cycle — of those that can, the one
// with the fewest test files — and records the reason in l.cycles.
func (l *loader) breakTestCycles() {
	for {
		cycle := l.sourceCycle()
		if cycle == nil {
			return
		}
		// Of the packages of the cycle whose plain variant cuts it, the one
		// with the fewest test files is made plain: the check leaves out
		// fewest (the first in the cycle's order on a tie).
		cut, cost := -1, 0
		for i, path := range cycle[:len(cycle)-1] {
			cur, plain := l.graph[path], l.plain[path]
			if plain == nil || cur == plain || importsPath(plain, cycle[i+1]) {
				continue
			}
			n := len(cur.GoFiles) - len(plain.GoFiles)
			if ext := l.graph[path+"_test"]; ext != nil && l.inSource[path+"_test"] {
				n += len(ext.GoFiles)
			}
			if cut < 0 || n < cost {
				cut, cost = i, n
			}
		}
		demoted := cut >= 0
		if demoted {
			path, next := cycle[cut], cycle[cut+1]
			if l.cycles == nil {
				l.cycles, l.testVariant = map[string]string{}, map[string]*packages.Package{}
			}
			l.graph[path], l.testVariant[path] = l.plain[path], l.graph[path]
			l.cycles[path] = fmt.Sprintf("the tests of %s import %s, which imports %s back: an import cycle through tests, which go test builds and one variant of each package cannot hold", path, next, path)
			if ext := path + "_test"; l.inSource[ext] {
				delete(l.inSource, ext)
				l.cycles[ext] = l.cycles[path]
			}
		}
		if !demoted {
			// Not reached: the go command cuts an import cycle of plain
			// packages itself and reports it ("import cycle not allowed",
			// then "could not import"), so each cycle left has an edge
			// that only a test variant makes.
			return
		}
	}
}

// sourceCycle returns a cycle of the source set's imports, first path
// repeated last, or nil.
func (l *loader) sourceCycle() []string {
	const (
		unseen = iota
		onStack
		done
	)
	state := map[string]int{}
	var stack []string
	var found []string
	var visit func(path string) bool
	visit = func(path string) bool {
		state[path] = onStack
		stack = append(stack, path)
		for _, imp := range sortedImports(l.graph[path]) {
			next := l.chosen(imp).PkgPath
			if !l.inSource[next] {
				continue
			}
			switch state[next] {
			case onStack:
				found = append(slices.Clone(stack[slices.Index(stack, next):]), next)
				return true
			case unseen:
				if visit(next) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[path] = done
		return false
	}
	for _, path := range slices.Sorted(maps.Keys(l.inSource)) {
		if state[path] == unseen && visit(path) {
			return found
		}
	}
	return nil
}

// importsPath reports whether p imports the package path.
func importsPath(p *packages.Package, path string) bool {
	for _, imp := range p.Imports {
		if imp.PkgPath == path {
			return true
		}
	}
	return false
}

// testCycleFiles returns the test files that breakTestCycles left out of
// the check, reported unchecked with the cycle: a plain package's own
// _test.go files, and its external test package's.
func (l *loader) testCycleFiles(prog *Program) []*uncheckedFile {
	var out []*uncheckedFile
	for _, path := range slices.Sorted(maps.Keys(l.cycles)) {
		var names []string
		if tv := l.testVariant[path]; tv != nil {
			for _, name := range tv.GoFiles {
				if !slices.Contains(l.graph[path].GoFiles, name) {
					names = append(names, name)
				}
			}
		} else if ext := l.graph[path]; ext != nil {
			names = ext.GoFiles // an external test package
		}
		for _, name := range names {
			if u := prog.relevant(name, strings.TrimSuffix(path, "_test"), l.isLegacy); u != nil {
				u.cycle, u.why = l.cycles[path], "which is not checked: "+l.cycles[path]
				out = append(out, u)
			}
		}
	}
	return out
}
