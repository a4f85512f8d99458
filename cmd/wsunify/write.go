package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/wsunify/wsunify/codemod"
)

// writeAll writes every change atomically: each file goes to a temporary
// file beside it, and only when all are written are they renamed over the
// originals, so a failure to write leaves every file as it was. Cancelling
// ctx while the temporary files are written has the same effect.
//
// The files are written one at a time. Writing them from 2 or 8
// goroutines did not make apply faster on this project's machines (ext4
// without a journal): allocating the inodes is most of the cost, and
// creators in one block group contend for it, which doubled the system
// time when many files had been deleted in the minute before (the kernel
// then skips recently deleted inodes one by one).
//
// A file that is a symbolic link is written where it points, and stays a
// link; two changes that reach one file give it one content, or nothing
// is written.
func writeAll(ctx context.Context, changes []codemod.FileChange) error {
	targets, err := throughLinks(changes)
	if err != nil {
		return err
	}
	temps := make([]string, 0, len(targets))
	for _, c := range targets {
		err := ctx.Err()
		var t string
		if err == nil {
			t, err = writeTemp(c)
		}
		if err != nil {
			removeAll(temps)
			return err
		}
		temps = append(temps, t)
	}
	for i, c := range targets {
		if err := os.Rename(temps[i], c.Name); err != nil {
			removeAll(temps[i:])
			return fmt.Errorf("%w (%d of %d files written)", err, i, len(targets))
		}
	}
	return nil
}

// target is a change named by the file it reaches, with that file's
// permissions (0644 for a new file).
type target struct {
	codemod.FileChange
	mode os.FileMode
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
		mode, err := reach(&c.Name, dirs)
		if err != nil {
			return nil, err
		}
		if i, ok := by[c.Name]; ok {
			if !bytes.Equal(out[i].New, c.New) {
				return nil, fmt.Errorf("%s is reached through two links that would get different contents; nothing written", c.Name)
			}
			continue
		}
		by[c.Name] = len(out)
		out = append(out, target{c, mode})
	}
	return out, nil
}

// reach sets *name to the file it reaches through symbolic links, as
// filepath.EvalSymlinks does, with dirs holding the directories resolved
// so far, and returns the file's permissions. A name that reaches no file
// (a new file, a dangling link) stays as given, with 0644.
func reach(name *string, dirs map[string]string) (os.FileMode, error) {
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
			return fi.Mode().Perm(), nil
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
		return fi.Mode().Perm(), nil
	case errors.Is(err, fs.ErrNotExist):
		return 0o644, nil
	}
	return 0, err
}

// removeAll removes the named files.
func removeAll(names []string) {
	for _, name := range names {
		os.Remove(name)
	}
}

// writeTemp writes the new content of c to a temporary file beside it,
// with its mode, and returns the temporary file's name.
func writeTemp(c target) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(c.Name), "."+filepath.Base(c.Name)+".wsunify-*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(c.New)
	if err == nil {
		err = f.Chmod(c.mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
