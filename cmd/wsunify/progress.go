package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/wsunify/wsunify/codemod"
)

// The values of the -progress flag.
const (
	progressAuto   = "auto"   // on when stderr is a terminal
	progressAlways = "always" // for tests, and terminals the check misses
	progressNever  = "never"
)

// progressFlag is the -progress flag.
type progressFlag string

func (f *progressFlag) String() string { return string(*f) }

func (f *progressFlag) Set(v string) error {
	switch v {
	case progressAuto, progressAlways, progressNever:
		*f = progressFlag(v)
		return nil
	}
	return fmt.Errorf("want %s, %s or %s", progressAuto, progressAlways, progressNever)
}

// progressLine shows the stage of a long run as one line of stderr, drawn
// again in place as the run goes ("\r", erase the line, the new text),
// and erased before anything else is written to stdout or stderr. It
// draws nothing unless it is on: by default, when stderr is a terminal.
// Its methods may be called from several goroutines at once.
type progressLine struct {
	w  io.Writer
	on bool

	mu    sync.Mutex
	shown bool      // a line is on the screen
	drawn time.Time // when it was last drawn
}

// redrawEvery bounds how often a stage's counts are drawn again.
const redrawEvery = 50 * time.Millisecond

func newProgress(stderr io.Writer, mode progressFlag) *progressLine {
	on := mode == progressAlways
	if mode == progressAuto || mode == "" {
		f, ok := stderr.(interface{ Fd() uintptr })
		on = ok && term.IsTerminal(int(f.Fd()))
	}
	return &progressLine{w: stderr, on: on}
}

// printf draws the line.
func (p *progressLine) printf(format string, args ...any) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw(fmt.Sprintf(format, args...))
}

func (p *progressLine) draw(s string) {
	fmt.Fprintf(p.w, "\r\x1b[Kwsunify: %s…", s)
	p.shown = true
	p.drawn = time.Now()
}

// stage is a [codemod.Progress]: it draws the stages of codemod.
func (p *progressLine) stage(stage string, done, total int) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if done > 0 && done < total && time.Since(p.drawn) < redrawEvery {
		return
	}
	switch {
	case stage == codemod.StageLoading:
		p.draw("loading packages")
	case stage == codemod.StageVerifying:
		p.draw(fmt.Sprintf("verifying %d files", total))
	case stage == codemod.StageRewriting:
		p.draw(fmt.Sprintf("rewriting %d of %d files", done, total))
	case total > 0:
		p.draw(fmt.Sprintf("%s %d of %d packages", stage, done, total))
	default:
		p.draw(stage)
	}
}

// clear erases the line, if one is shown.
func (p *progressLine) clear() {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// before returns w, which erases the line before each write: what a
// command prints never lands after a stage line.
func (p *progressLine) before(w io.Writer) io.Writer {
	if !p.on {
		return w
	}
	return writerFunc(func(b []byte) (int, error) {
		p.clear()
		return w.Write(b)
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
