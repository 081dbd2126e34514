package unixsock

import (
	"fmt"
	"strings"
)

// Permission bits as in a mode's triplets.
const (
	permW = 2
	permX = 1
)

// Component is one step of the path to a socket: a directory that must be
// searchable or the socket file that must be writable.
type Component struct {
	Path string // as the user spells it (inside the server's root)
	Need uint16 // permX for directories, permW for the socket
	Mode uint32 // permission bits (0o7777)
	UID  uint32
	GID  uint32
	ACL  ACL    // nil without an extended access ACL
	Via  string // "reached through symlink A -> B", when one was followed
	// Entries are the names looked up in a directory on the way (a
	// directory, a symlink or the socket) with their owners: in a sticky
	// directory only they (and the directory's owner) may rename them.
	Entries []Entry
}

// Entry is a name looked up in a directory of the chain.
type Entry struct {
	Name string // full path
	UID  uint32
}

// Principal is a would-be client: a uid and its groups. Unnamed marks a
// class member whose uid matches no owner and no ACL entry.
type Principal struct {
	UID     uint32
	GIDs    []uint32
	Unnamed bool
}

func (p Principal) inGroup(g uint32) bool {
	for _, x := range p.GIDs {
		if x == g {
			return true
		}
	}
	return false
}

// grant is why a component lets a principal through, or why not.
type grant struct {
	ok     bool
	source string // "owner", "group", "other", "ACL user:N", "ACL group:N", "root"
}

// allows applies the kernel's permission check (generic_permission with
// posix_acl_permission) to one component. Root bypasses it: CAP_DAC_OVERRIDE
// covers write and search alike.
func (c Component) allows(p Principal) grant {
	if !p.Unnamed && p.UID == 0 {
		return grant{true, "root"}
	}
	want := c.Need
	if c.ACL == nil || !c.ACL.extended() {
		switch {
		case !p.Unnamed && p.UID == c.UID:
			return grant{uint16(c.Mode>>6)&want != 0, "owner"}
		case p.inGroup(c.GID):
			return grant{uint16(c.Mode>>3)&want != 0, "group"}
		}
		return grant{uint16(c.Mode)&want != 0, "other"}
	}
	if !p.Unnamed && p.UID == c.UID {
		e, _ := c.ACL.find(aclUserObj)
		return grant{e.Perm&want != 0, "owner"}
	}
	mask := uint16(7)
	if m, ok := c.ACL.find(aclMask); ok {
		mask = m.Perm
	}
	if !p.Unnamed {
		for _, e := range c.ACL {
			if e.Tag == aclUser && e.ID == p.UID {
				return grant{e.Perm&mask&want != 0, fmt.Sprintf("ACL user:%d", e.ID)}
			}
		}
	}
	// Any matching group entry that grants is enough; matching entries
	// that all refuse deny, without falling through to other.
	matched := ""
	for _, e := range c.ACL {
		var src string
		switch {
		case e.Tag == aclGroupObj && p.inGroup(c.GID):
			src = "group"
		case e.Tag == aclGroup && p.inGroup(e.ID):
			src = fmt.Sprintf("ACL group:%d", e.ID)
		default:
			continue
		}
		if e.Perm&mask&want != 0 {
			return grant{true, src}
		}
		if matched == "" {
			matched = src
		}
	}
	if matched != "" {
		return grant{false, matched}
	}
	e, _ := c.ACL.find(aclOther)
	return grant{e.Perm&want != 0, "other"}
}

// Chain is the whole path to one socket, root first, the socket last.
type Chain []Component

// CanConnect reports whether p passes every component.
func (ch Chain) CanConnect(p Principal) bool {
	if len(ch) == 0 {
		return false
	}
	for _, c := range ch {
		if !c.allows(p).ok {
			return false
		}
	}
	return true
}

// Socket is the last component.
func (ch Chain) Socket() Component { return ch[len(ch)-1] }

// explain names the components that let p through and how, the socket's
// directory and the socket always, other directories when they grant by
// more than "other" (ACL, group) or when they are not world-searchable
// system directories.
func (ch Chain) explain(p Principal) string {
	var parts []string
	n := len(ch)
	for i, c := range ch {
		g := c.allows(p)
		if i < n-2 && g.source == "other" {
			continue // "/" and "/run" are open to all by design
		}
		s := fmt.Sprintf("%s is %04o", c.Path, c.Mode&0o7777)
		if strings.HasPrefix(g.source, "ACL") {
			s += " with " + g.source + " granting " + needWord(c.Need)
		}
		if c.Via != "" {
			s += " (" + c.Via + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " and ")
}

func needWord(n uint16) string {
	if n == permW {
		return "write"
	}
	return "search"
}
