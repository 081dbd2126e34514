package unixsock

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// statUnder returns a statFunc that looks paths up under root ("/" or a
// process's /proc/PID/root, the view of its mount namespace).
func statUnder(root string) statFunc {
	return func(p string) (fileInfo, error) {
		full := filepath.Join(root, p)
		var st unix.Stat_t
		lstat := unix.Lstat
		if p == "/" {
			lstat = unix.Stat // /proc/PID/root is a link to follow
		}
		if err := lstat(full, &st); err != nil {
			return fileInfo{}, &os.PathError{Op: "lstat", Path: p, Err: err}
		}
		fi := fileInfo{Mode: st.Mode, UID: st.Uid, GID: st.Gid, Dev: st.Dev, Ino: st.Ino}
		if st.Mode&sIFMT == sIFLNK {
			t, err := os.Readlink(full)
			if err != nil {
				return fileInfo{}, err
			}
			fi.Symlink = t
			return fi, nil
		}
		fi.ACL, fi.ACLErr = readACL(full)
		return fi, nil
	}
}

// readACL reads the access ACL; a file system without ACLs, or a file
// without one, has none.
func readACL(p string) (ACL, error) {
	buf := make([]byte, 8+8*maxACLEntries)
	n, err := unix.Lgetxattr(p, "system.posix_acl_access", buf)
	switch {
	case errors.Is(err, unix.ENODATA), errors.Is(err, unix.EOPNOTSUPP):
		return nil, nil
	case err != nil:
		return nil, &os.PathError{Op: "getxattr system.posix_acl_access", Path: p, Err: err}
	}
	return ParseACL(buf[:n])
}
