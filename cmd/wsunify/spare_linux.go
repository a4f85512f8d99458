package main

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// exchange swaps the files at names a and b in one step: renameat2 with
// RENAME_EXCHANGE. It returns an error wrapping errors.ErrUnsupported
// where the kernel or the file system cannot, and errOtherDevice for
// names on two file systems.
func exchange(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	switch err {
	case nil:
		return nil
	case unix.EINVAL, unix.ENOSYS, unix.EOPNOTSUPP:
		err = fmt.Errorf("%w (%w)", errors.ErrUnsupported, err)
	case unix.EXDEV:
		err = fmt.Errorf("%w (%w)", errOtherDevice, err)
	}
	return &os.LinkError{Op: "exchange", Old: a, New: b, Err: err}
}

// refill makes the content, with mode, the content of the spare file
// name, if its inode is one to write (see [replacer]); errNotReusable if
// not. It writes over the old content and cuts what is left of it: a file
// cut to nothing first is written back to disk when it is closed (ext4's
// auto_da_alloc), which costs more than all the rest. If like is not "",
// the spare then gets exactly the extended attributes of the file like
// (see [matchAttrs]).
func refill(name string, content []byte, mode os.FileMode, like string) error {
	fd, err := unix.Open(name, unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	switch {
	case err == unix.EACCES || err == unix.ELOOP:
		return fmt.Errorf("%w: %s: %w", errNotReusable, name, err)
	case err != nil:
		return &os.PathError{Op: "open", Path: name, Err: err}
	}
	err = fill(fd, content, mode)
	if err != nil && !errors.Is(err, errNotReusable) {
		err = &os.PathError{Op: "write", Path: name, Err: err}
	}
	if err == nil && like != "" {
		err = matchAttrs(fd, like) // its errors name like, not the spare
	}
	if cerr := unix.Close(fd); err == nil && cerr != nil {
		err = &os.PathError{Op: "close", Path: name, Err: cerr}
	}
	return err
}

// fill writes the content over the open file fd and sets its mode, unless
// the file is not one to write.
func fill(fd int, content []byte, mode os.FileMode) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 || st.Uid != uint32(os.Geteuid()) {
		return errNotReusable
	}
	for off := 0; off < len(content); {
		n, err := unix.Pwrite(fd, content[off:], int64(off))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		off += n
	}
	if st.Size > int64(len(content)) {
		if err := unix.Ftruncate(fd, int64(len(content))); err != nil {
			return err
		}
	}
	if st.Mode&0o7777 != uint32(mode) { // setuid, setgid and sticky bits go too
		return unix.Fchmod(fd, uint32(mode))
	}
	return nil
}
