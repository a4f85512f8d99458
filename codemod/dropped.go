package codemod

import (
	"errors"
	"fmt"
	"go/types"
)

// droppedWhy is why a retype whose step did not type-check keeps its
// legacy type: the first error, at its place in the file as it is on
// disk, without the package path and the "type error" mark:
//
//	retyping it does not type-check: /abs/ws/assert.go:10:24: cannot use …
//
// (the file name is absolute as a finding's position is; the command
// prints both relative to its directory).
// changes are the step's, whose sources the error is positioned in;
// moved are the earlier steps' (Old on disk).
func droppedWhy(err error, changes []FileChange, moved map[string]FileChange) string {
	const why = "retyping it does not type-check: "
	var te types.Error
	if !errors.As(err, &te) {
		return why + err.Error()
	}
	p := te.Fset.Position(te.Pos)
	var c *FileChange
	if m, ok := moved[p.Filename]; ok {
		c = &m
	}
	for _, ch := range changes {
		if ch.Name == p.Filename {
			disk := ch.Old
			if c != nil {
				disk = c.Old
			}
			c = &FileChange{Name: ch.Name, Old: disk, New: ch.New}
		}
	}
	if c != nil {
		p.Line, p.Column, _ = newLineMap(*c).old(p.Line, p.Column)
	}
	return fmt.Sprintf("%s%s:%d:%d: %s", why, p.Filename, p.Line, p.Column, te.Msg)
}
