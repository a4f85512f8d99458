package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/wsunify/wsunify/codemod"
)

// writeAll writes every change atomically: each file goes to a temporary
// file beside it, and only when all are written are they renamed over the
// originals, so a failure to write leaves every file as it was. Cancelling
// ctx while the temporary files are written has the same effect.
//
// Both passes run on several goroutines: creating a file and renaming one
// over another wait on the file system (an inode to allocate, the old
// file's blocks to free) longer than they use the CPU, so one goroutine
// per core would leave the cores idle.
func writeAll(ctx context.Context, changes []codemod.FileChange) error {
	temps := make([]string, len(changes))
	err := forEach(len(changes), func(i int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		t, err := writeTemp(changes[i])
		temps[i] = t
		return err
	})
	if err != nil {
		removeAll(temps)
		return err
	}
	// A rename that fails stops the others that have not started; the
	// temporary files left are removed.
	err = forEach(len(changes), func(i int) error {
		if err := os.Rename(temps[i], changes[i].Name); err != nil {
			return err
		}
		temps[i] = ""
		return nil
	})
	if err != nil {
		removeAll(temps)
	}
	return err
}

// writers is how many files writeAll creates or renames at once.
var writers = 4 * runtime.GOMAXPROCS(0)

// forEach calls fn for 0 ≤ i < n on [writers] goroutines and returns the
// errors it returned. After the first error, no new call starts.
func forEach(n int, fn func(i int) error) error {
	var (
		next   atomic.Int64
		failed atomic.Bool
		mu     sync.Mutex
		errs   []error
		wg     sync.WaitGroup
	)
	for range min(writers, n) {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					failed.Store(true)
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// removeAll removes the named files, skipping empty names.
func removeAll(names []string) {
	for _, name := range names {
		if name != "" {
			os.Remove(name)
		}
	}
}

// writeTemp writes the new content of c to a temporary file beside it,
// with its mode, and returns the temporary file's name.
func writeTemp(c codemod.FileChange) (string, error) {
	fi, err := os.Stat(c.Name)
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(filepath.Dir(c.Name), "."+filepath.Base(c.Name)+".wsunify-*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(c.New)
	if err == nil {
		err = f.Chmod(fi.Mode().Perm())
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
