package unixsock

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// fileInfo is what the walk needs to know about one name.
type fileInfo struct {
	Mode    uint32 // full st_mode
	UID     uint32
	GID     uint32
	Dev     uint64
	Ino     uint64
	Symlink string // target, for a symlink
	ACL     ACL
	ACLErr  error // the ACL attribute exists but could not be read or parsed
}

const (
	sIFMT   = 0o170000
	sIFDIR  = 0o040000
	sIFLNK  = 0o120000
	sIFSOCK = 0o140000
)

// statFunc looks up one absolute path (never following a final symlink).
type statFunc func(p string) (fileInfo, error)

// maxSymlinks is the kernel's limit (MAXSYMLINKS) on links in one lookup.
const maxSymlinks = 40

// ErrWalk means the path could not be followed to a socket.
var ErrWalk = errors.New("cannot follow the socket path")

// walk resolves an absolute path as the kernel's lookup does and returns
// every directory searched on the way and the socket file at the end. A
// symlink costs nothing itself, but the directories of its target must be
// searchable too.
func walk(p string, stat statFunc) (Chain, fileInfo, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, fileInfo{}, fmt.Errorf("%w: %q is not absolute", ErrWalk, p)
	}
	var chain Chain
	seen := map[string]int{} // component path -> index in chain
	addDir := func(dir, via string) error {
		if _, ok := seen[dir]; ok {
			return nil
		}
		fi, err := stat(dir)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrWalk, dir, err)
		}
		if fi.Mode&sIFMT != sIFDIR {
			return fmt.Errorf("%w: %s is not a directory", ErrWalk, dir)
		}
		if fi.ACLErr != nil {
			return fmt.Errorf("%w: %s: %v", ErrWalk, dir, fi.ACLErr)
		}
		seen[dir] = len(chain)
		chain = append(chain, Component{Path: dir, Need: permX, Mode: fi.Mode & 0o7777, UID: fi.UID, GID: fi.GID, ACL: fi.ACL, Via: via})
		return nil
	}
	rest := splitPath(p)
	cur := "/"
	links := 0
	via := ""
	for len(rest) > 0 {
		name := rest[0]
		rest = rest[1:]
		switch name {
		case ".":
			continue
		case "..":
			// The directory being left was searched to get here; its
			// parent must be searched again, which addDir records.
			cur = path.Dir(cur)
			continue
		}
		if err := addDir(cur, via); err != nil {
			return nil, fileInfo{}, err
		}
		next := path.Join(cur, name)
		fi, err := stat(next)
		if err != nil {
			return nil, fileInfo{}, fmt.Errorf("%w: %s: %v", ErrWalk, next, err)
		}
		// Whoever can rename this name in cur redirects the lookup.
		chain[seen[cur]].addEntry(Entry{Name: next, UID: fi.UID})
		if fi.Mode&sIFMT == sIFLNK {
			if links++; links > maxSymlinks {
				return nil, fileInfo{}, fmt.Errorf("%w: too many symlinks", ErrWalk)
			}
			via = "reached through symlink " + next + " -> " + fi.Symlink
			t := splitPath(fi.Symlink)
			if strings.HasPrefix(fi.Symlink, "/") {
				cur = "/"
			}
			rest = append(t, rest...)
			continue
		}
		if len(rest) == 0 {
			if fi.Mode&sIFMT != sIFSOCK {
				return nil, fileInfo{}, fmt.Errorf("%w: %s is not a socket", ErrWalk, next)
			}
			if fi.ACLErr != nil {
				return nil, fileInfo{}, fmt.Errorf("%w: %s: %v", ErrWalk, next, fi.ACLErr)
			}
			chain = append(chain, Component{Path: next, Need: permW, Mode: fi.Mode & 0o7777, UID: fi.UID, GID: fi.GID, ACL: fi.ACL, Via: via})
			return chain, fi, nil
		}
		cur = next
	}
	return nil, fileInfo{}, fmt.Errorf("%w: %s names a directory", ErrWalk, p)
}

func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (c *Component) addEntry(e Entry) {
	for _, x := range c.Entries {
		if x.Name == e.Name {
			return
		}
	}
	c.Entries = append(c.Entries, e)
}
