package codemod

// retyper plans the retype step over a whole program.
type retyper struct{}

func newRetyper(prog *Program, l *legacy, opts *Options) *retyper { return &retyper{} }

func (rt *retyper) editsIn(f *File) []func(*fileEditor) { return nil }

func (rt *retyper) covers(u use) bool { return false }

func (rt *retyper) findings() []Finding { return nil }
