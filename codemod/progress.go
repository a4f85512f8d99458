package codemod

import "sync/atomic"

// Progress is told the stages of a long run as they go: the stage
// ("loading", "type-checking", "rewriting", "verifying"), and how many of
// its total units (packages, or files for rewriting and verifying) are
// done; total is 0 when it is not known yet. It may be called from several
// goroutines at once, and must return quickly.
type Progress func(stage string, done, total int)

// Stage names, as Progress receives them.
const (
	StageLoading      = "loading"
	StageTypeChecking = "type-checking"
	StageRewriting    = "rewriting"
	StageVerifying    = "verifying"
)

// stageCounter reports the units done of one stage; safe for concurrent use.
type stageCounter struct {
	progress Progress
	stage    string
	total    int
	done     atomic.Int64
}

// counter starts a stage of total units.
func (p *Program) counter(stage string, total int) *stageCounter {
	c := &stageCounter{progress: p.progress, stage: stage, total: total}
	if c.progress != nil {
		c.progress(stage, 0, total)
	}
	return c
}

// add reports n more units done.
func (c *stageCounter) add(n int) {
	if c.progress != nil {
		c.progress(c.stage, int(c.done.Add(int64(n))), c.total)
	}
}

// filesOf counts the files of the packages of p that keep says to.
func (p *Program) filesOf(keep func(*Package) bool) int {
	n := 0
	for _, pkg := range p.Packages {
		if keep(pkg) {
			n += len(pkg.Files)
		}
	}
	return n
}
