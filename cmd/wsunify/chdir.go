package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// chdirFlag is the -C flag of every command: the directory to run in, as
// the go command's -C. Given before the command ("wsunify -C dir plan")
// it comes first; a relative -C given again after the command is taken
// from there, as a second cd would.
type chdirFlag string

func (d *chdirFlag) String() string { return string(*d) }

func (d *chdirFlag) Set(v string) error {
	if *d != "" && !filepath.IsAbs(v) {
		v = filepath.Join(string(*d), v)
	}
	*d = chdirFlag(v)
	return nil
}

// check reports a -C directory that does not exist as the go command
// does ("chdir dir: no such file or directory"), instead of the failure
// to start the go command in it that would follow.
func (d chdirFlag) check() error {
	if d == "" {
		return nil
	}
	fi, err := os.Stat(string(d))
	if err == nil && !fi.IsDir() {
		err = fmt.Errorf("%s: not a directory", d)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if err != nil {
		return fmt.Errorf("chdir %s: %w", d, err)
	}
	return nil
}

// leadingChdir splits a -C flag given before the command off args, as
// "go -C dir vet" takes it, and returns the directory ("" if none).
func leadingChdir(args []string) (dir string, rest []string, err error) {
	if len(args) == 0 {
		return "", args, nil
	}
	name, value, hasValue := strings.Cut(strings.TrimPrefix(args[0], "-"), "=")
	switch {
	case !strings.HasPrefix(args[0], "-") || name != "-C" && name != "C":
		return "", args, nil
	case hasValue:
		return value, args[1:], nil
	case len(args) < 2:
		return "", nil, errors.New("flag needs an argument: -C")
	}
	return args[1], args[2:], nil
}
