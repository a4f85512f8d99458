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
	changes, err := throughLinks(changes)
	if err != nil {
		return err
	}
	temps := make([]string, 0, len(changes))
	for _, c := range changes {
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
	for i, c := range changes {
		if err := os.Rename(temps[i], c.Name); err != nil {
			removeAll(temps[i:])
			return fmt.Errorf("%w (%d of %d files written)", err, i, len(changes))
		}
	}
	return nil
}

// throughLinks returns changes named by the files they reach through
// symbolic links, each file once.
func throughLinks(changes []codemod.FileChange) ([]codemod.FileChange, error) {
	out := make([]codemod.FileChange, 0, len(changes))
	by := map[string]int{} // the file reached → its index in out
	for _, c := range changes {
		if real, err := filepath.EvalSymlinks(c.Name); err == nil {
			c.Name = real
		}
		if i, ok := by[c.Name]; ok {
			if !bytes.Equal(out[i].New, c.New) {
				return nil, fmt.Errorf("%s is reached through two links that would get different contents; nothing written", c.Name)
			}
			continue
		}
		by[c.Name] = len(out)
		out = append(out, c)
	}
	return out, nil
}

// removeAll removes the named files.
func removeAll(names []string) {
	for _, name := range names {
		os.Remove(name)
	}
}

// writeTemp writes the new content of c to a temporary file beside it,
// with its mode (0644 for a new file), and returns the temporary file's name.
func writeTemp(c codemod.FileChange) (string, error) {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(c.Name); err == nil {
		mode = fi.Mode().Perm()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	f, err := os.CreateTemp(filepath.Dir(c.Name), "."+filepath.Base(c.Name)+".wsunify-*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(c.New)
	if err == nil {
		err = f.Chmod(mode)
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
