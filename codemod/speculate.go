package codemod

import (
	"context"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/wsunify/wsunify/internal/gosrc"
)

// A speculation does, while the go command lists the packages (about half
// a second for 5,000 files, on one core), the work that would otherwise
// wait for the list: it reads the Go files under the directories the
// patterns name, parses those that import a legacy path, and loads the
// export data they most likely need. [Load] takes what matches the list and
// does the rest as before, so a wrong guess costs time, never correctness.
//
// Only file-system patterns ("./...", ".", "../x", an absolute directory)
// are looked at; with any other pattern there is no speculation.
type speculation struct {
	cancel context.CancelFunc
	stop   chan struct{} // closed: parse no further
	done   chan struct{} // closed when the reading and parsing have stopped

	// Set by the goroutine that reads and parses, read after done.
	files map[string]*File // absolute path → Src, and AST once parsed

	// The export data, loaded for guess once the files are read.
	guess      map[string]bool
	exportDone chan struct{} // closed when ext and extErr are set; nil if never started
	ext        *exportData
	extErr     error
}

// speculate starts a speculation for the patterns, parsing into fset. It
// returns nil when the patterns are not all file-system patterns.
func speculate(ctx context.Context, cfg *LoadConfig, fset *token.FileSet, legacy []string, patterns []string) *speculation {
	var roots []walkRoot
	for _, p := range patterns {
		r, ok := fsPattern(cfg.Dir, p)
		if !ok {
			return nil
		}
		roots = append(roots, r)
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &speculation{cancel: cancel, stop: make(chan struct{}), done: make(chan struct{}), files: map[string]*File{}}
	go s.run(ctx, cfg, fset, legacy, roots)
	return s
}

// walkRoot is a directory to read, with its subdirectories when all.
type walkRoot struct {
	dir string
	all bool
}

// fsPattern returns the directory a file-system pattern names.
func fsPattern(base, p string) (walkRoot, bool) {
	dir, all := p, false
	if d, ok := strings.CutSuffix(p, "/..."); ok {
		dir, all = d, true
	}
	if !filepath.IsAbs(dir) && dir != "." && dir != ".." &&
		!strings.HasPrefix(dir, "./") && !strings.HasPrefix(dir, "../") {
		return walkRoot{}, false // an import path
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(base, dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil || strings.Contains(dir, "...") {
		return walkRoot{}, false
	}
	return walkRoot{dir: abs, all: all}, true
}

// run reads the Go files under roots, starts the export data of their
// imports loading, then parses the files that import a legacy path, until
// stopped.
func (s *speculation) run(ctx context.Context, cfg *LoadConfig, fset *token.FileSet, legacy []string, roots []walkRoot) {
	defer close(s.done)
	isLegacy := map[string]bool{}
	for _, l := range legacy {
		isLegacy[l] = true
	}
	var parse []*File
	guess := map[string]bool{FacadePath: true, BridgePath: true, "context": true, "time": true, facadetestPath: true}
	for _, l := range legacy {
		guess[l] = true
	}
	module := gosrc.ModulePath(roots[0].dir)
	for _, r := range roots {
		err := filepath.WalkDir(r.dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || s.stopped(ctx) {
				return filepath.SkipAll
			}
			name := d.Name()
			if d.IsDir() {
				if path == r.dir {
					return nil
				}
				if !r.all || name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
					return filepath.SkipDir
				}
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // another module
				}
				return nil
			}
			if !strings.HasSuffix(name, ".go") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
				(cfg.NoTests && strings.HasSuffix(name, "_test.go")) || s.files[path] != nil {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			imports, ok := fileImports(src)
			if !ok || !slicesAnyIn(imports, isLegacy) {
				return nil // most likely not loaded from source: not kept
			}
			f := &File{Name: path, Src: src}
			s.files[path] = f
			parse = append(parse, f)
			for _, imp := range imports {
				if imp == "C" || imp == "unsafe" || (module != "" && (imp == module || strings.HasPrefix(imp, module+"/"))) {
					continue
				}
				if module == "" && strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
					continue
				}
				guess[imp] = true
			}
			return nil
		})
		if err != nil {
			return
		}
	}
	if s.stopped(ctx) {
		return
	}
	s.guess = guess
	s.exportDone = make(chan struct{})
	go func() {
		defer close(s.exportDone)
		s.ext, s.extErr = loadExportData(ctx, cfg, fset, guess)
	}()
	for _, f := range parse {
		if s.stopped(ctx) {
			return
		}
		f.AST, f.parseErr = parser.ParseFile(fset, f.Name, f.Src, parser.ParseComments|parser.SkipObjectResolution)
	}
}

func slicesAnyIn(xs []string, set map[string]bool) bool {
	for _, x := range xs {
		if set[x] {
			return true
		}
	}
	return false
}

func (s *speculation) stopped(ctx context.Context) bool {
	select {
	case <-s.stop:
		return true
	case <-ctx.Done():
		return true
	default:
		return false
	}
}

// halt stops the reading and parsing and waits until they have stopped;
// s.files is then Load's.
func (s *speculation) halt() {
	close(s.stop)
	<-s.done
}

// exportFor returns the speculative export data if it was loaded for a
// superset of paths, waiting for it if it is on its way, or nil.
func (s *speculation) exportFor(ctx context.Context, paths map[string]bool) (*exportData, error) {
	if s.exportDone == nil {
		return nil, nil
	}
	for p := range paths {
		if !s.guess[p] {
			return nil, nil
		}
	}
	select {
	case <-s.exportDone:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.ext, s.extErr
}

// close cancels what is still running and waits for it.
func (s *speculation) close() {
	s.cancel()
	<-s.done
	if s.exportDone != nil {
		<-s.exportDone
	}
}

// fileImports returns the import paths of a Go source file, read from its
// import declarations only.
func fileImports(src []byte) ([]string, bool) {
	af, err := parser.ParseFile(token.NewFileSet(), "", src, parser.ImportsOnly|parser.SkipObjectResolution)
	if err != nil {
		return nil, false
	}
	return gosrc.ImportPaths(af), true
}
