package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// replacer replaces files whole, one at a time, through a spare file.
//
// A file's new content goes into the spare, and an exchange (renameat2's
// RENAME_EXCHANGE) swaps the two names: the file's name then reaches the
// new content, at once, and the spare's name the old content, whose inode
// takes the next file's. A run of any size creates one file and removes
// one, where a temporary file beside each file creates and removes one per
// file. That is most of the cost of writing on ext4 without a journal: to
// create a file it steps, one at a time, over every inode of the block
// group freed in the last minute (five, while the inode table is dirty),
// so writing 5,000 files a minute after as many were deleted (a fresh
// checkout, the benchmark's corpus) took 1.4 s with temporary files and
// takes 0.2 s through the spare (BenchmarkWriteAll).
//
// The spare's inode is written only when it is a regular file of this
// process's user with no other link: a file linked elsewhere keeps its
// content, and a file of another user does not hand its owner to the next
// one; such a spare is removed and a new one made beside the next file. A
// new file, a system or a file system that cannot exchange, get the spare
// renamed over the file, as a temporary file would be.
//
// A replaced file keeps its extended attributes (its access control list,
// its security label): its new inode gets exactly those of the old one,
// never those the spare's inode had as another file ([matchAttrs]; on
// Linux, the one system here with an exchange). A new file gets a new
// inode, as any new file would, with what its directory gives.
//
// A reader that opened a file before it was replaced and reads it after
// the next was written can see that one's content, where a temporary file
// would have left it the old one: what a go command or an editor does, to
// read a whole file at once, does not.
type replacer struct {
	spare      string // the spare's name, or "" until one is made
	held       bool   // the spare's inode was a file replaced before
	noExchange bool   // a file system refused an exchange: rename from then on
}

// errNotReusable is refill's answer for a spare whose inode it must not
// write: linked elsewhere, another user's, or not a regular file.
var errNotReusable = errors.New("the spare cannot be written")

// errOtherDevice is exchange's answer for two names on different file
// systems.
var errOtherDevice = errors.New("the spare is on another file system")

// replace gives the file name the content, with mode. existed says
// whether the file exists; if it does not, it is created.
func (r *replacer) replace(name string, content []byte, mode os.FileMode, existed bool) error {
	err := r.try(name, content, mode, existed)
	if errors.Is(err, errNotReusable) || errors.Is(err, errOtherDevice) {
		// A new spare beside the file can take it.
		if err = r.drop(); err == nil {
			err = r.try(name, content, mode, existed)
		}
	}
	return err
}

// try gives the file name the content through the spare, making one
// beside the file if there is none.
func (r *replacer) try(name string, content []byte, mode os.FileMode, existed bool) error {
	if !existed && r.spare != "" && (r.held || filepath.Dir(r.spare) != filepath.Dir(name)) {
		// A new file gets a new inode made beside it, as any new file:
		// not one that was another file.
		if err := r.drop(); err != nil {
			return err
		}
	}
	if r.spare == "" {
		f, err := os.CreateTemp(filepath.Dir(name), ".wsunify-spare-*")
		if err != nil {
			return err
		}
		r.spare = f.Name()
		if err := f.Close(); err != nil {
			return err
		}
	}
	like := ""
	if existed {
		like = name
	}
	if err := refill(r.spare, content, mode, like); err != nil {
		return err
	}
	if existed && !r.noExchange {
		err := exchange(r.spare, name)
		if err == nil {
			r.held = true
		}
		if !errors.Is(err, errors.ErrUnsupported) {
			return err
		}
		r.noExchange = true
	}
	if err := os.Rename(r.spare, name); err != nil {
		return err
	}
	r.spare, r.held = "", false
	return nil
}

// drop removes the spare, which holds nothing anyone needs: the old
// content of the last file replaced, or nothing.
func (r *replacer) drop() error {
	if r.spare == "" {
		return nil
	}
	err := os.Remove(r.spare)
	r.spare, r.held = "", false
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
