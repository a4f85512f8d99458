package main

import (
	"bytes"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"
)

// matchAttrs gives the open file fd exactly the extended attributes of
// the file like: each of like's, with its value, and none other. A file
// replaced through the spare thus keeps its own — its access control
// list, its security label, its user.* attributes — as it would if it
// were written in place, and never gets those of the file whose inode the
// spare held before (see [replacer]). When the two have none, as on most
// trees, it costs two system calls. An attribute that cannot be set or
// removed (a label this user may not give) is an error naming it, and the
// run puts every file back.
func matchAttrs(fd int, like string) error {
	want, err := attrNames(func(b []byte) (int, error) { return unix.Llistxattr(like, b) })
	if err != nil {
		return fmt.Errorf("%s: listing its extended attributes: %w", like, err)
	}
	have, err := attrNames(func(b []byte) (int, error) { return unix.Flistxattr(fd, b) })
	if err != nil {
		return fmt.Errorf("%s: listing the extended attributes of its replacement: %w", like, err)
	}
	for _, name := range have {
		if !slices.Contains(want, name) {
			if err := unix.Fremovexattr(fd, name); err != nil {
				return fmt.Errorf("%s: its replacement cannot lose the extended attribute %s: %w", like, name, err)
			}
		}
	}
	for _, name := range want {
		v, err := attrRead(func(b []byte) (int, error) { return unix.Lgetxattr(like, name, b) })
		if err != nil {
			return fmt.Errorf("%s: reading its extended attribute %s: %w", like, name, err)
		}
		if slices.Contains(have, name) {
			cur, err := attrRead(func(b []byte) (int, error) { return unix.Fgetxattr(fd, name, b) })
			if err == nil && bytes.Equal(cur, v) {
				continue
			}
		}
		if err := unix.Fsetxattr(fd, name, v, 0); err != nil {
			return fmt.Errorf("%s: its replacement cannot get the extended attribute %s: %w", like, name, err)
		}
	}
	return nil
}

// attrNames returns the names a listxattr call gives, none where the file
// system has no extended attributes.
func attrNames(list func([]byte) (int, error)) ([]string, error) {
	b, err := attrRead(list)
	if err == unix.ENOTSUP {
		return nil, nil
	}
	if err != nil || len(b) == 0 {
		return nil, err
	}
	var names []string
	for n := range bytes.SplitSeq(bytes.TrimSuffix(b, []byte{0}), []byte{0}) {
		names = append(names, string(n))
	}
	return names, nil
}

// attrRead runs a listxattr or getxattr call: first for the size, then
// for the bytes, again if they grew in between.
func attrRead(call func([]byte) (int, error)) ([]byte, error) {
	for {
		n, err := call(nil)
		if err != nil || n == 0 {
			return nil, err
		}
		b := make([]byte, n)
		n, err = call(b)
		if err == unix.ERANGE {
			continue
		}
		if err != nil {
			return nil, err
		}
		return b[:n], nil
	}
}
