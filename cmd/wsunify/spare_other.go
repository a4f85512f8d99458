//go:build !linux

package main

import (
	"errors"
	"os"
)

// exchange says that this system cannot swap two files in one step:
// every file is replaced by a rename of the spare (see [replacer]).
func exchange(a, b string) error {
	return &os.LinkError{Op: "exchange", Old: a, New: b, Err: errors.ErrUnsupported}
}

// refill makes the content, with mode, the content of the spare file
// name. Without exchange a spare is only ever new: nothing else can reach
// its inode. The extended attributes of the file like are not carried
// over here: the file gets a new inode's, as from any temporary file.
func refill(name string, content []byte, mode os.FileMode, like string) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.Write(content)
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
