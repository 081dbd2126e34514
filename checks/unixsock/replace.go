package unixsock

import (
	"fmt"
	"strings"
)

// Replacers computes the users outside allowed that can take the socket's
// name: rename or unlink it in its directory, or rename any name on the
// way to it (a directory or symlink) in its own directory, then put their
// own socket at the path, so that clients connect to them and hand them
// their passwords. Renaming takes write and search permission on the
// directory (and search on the way to it); with the sticky bit set, only
// the owners of the directory and of the entry may do it. The owner of a
// directory can always grant itself the permission. Root can do anything
// and is not reported.
func Replacers(ch Chain, db *UserDB, allowed Allowed) []Reach {
	if len(ch) < 2 {
		return nil
	}
	var out []Reach
	for i := range ch[:len(ch)-1] {
		out = append(out, dirReplacers(ch, i, db, allowed)...)
	}
	return out
}

// dirReplacers is Replacers for the names looked up in directory ch[i].
func dirReplacers(ch Chain, i int, db *UserDB, allowed Allowed) []Reach {
	dir := ch[i]
	last := i == len(ch)-2
	entries := dir.Entries
	if len(entries) == 0 && last {
		entries = []Entry{{Name: ch.Socket().Path, UID: ch.Socket().UID}}
	}
	sticky := dir.Mode&0o1000 != 0
	// The way to the directory: its ancestors, all in the chain since the
	// walk descends from "/" through real directories.
	var way Chain
	for _, c := range ch {
		if c.Need == permX && c.Path != dir.Path && isAncestor(c.Path, dir.Path) {
			way = append(way, c)
		}
	}
	w := append(append(Chain{}, way...), dir)
	w = append(w, Component{Path: dir.Path, Need: permW, Mode: dir.Mode, UID: dir.UID, GID: dir.GID, ACL: dir.ACL})

	explain := fmt.Sprintf("%s is %04o, owner %s, group %s", dir.Path, dir.Mode&0o7777, db.UserName(dir.UID), db.GroupName(dir.GID))
	if !last {
		var ns []string
		for _, e := range entries {
			ns = append(ns, e.Name)
		}
		explain += fmt.Sprintf(", on the way to the socket: moving %s away and putting their own in its place takes the path", strings.Join(ns, ", "))
	}
	var out []Reach
	named := map[string]bool{}
	add := func(who, why, fix string) {
		if !named[who] {
			named[who] = true
			out = append(out, Reach{Who: who, Explain: explain + why, Fix: fix, Dir: dir.Path})
		}
	}
	if dir.UID != 0 && !allowed.UIDs[dir.UID] && passes(way, principalOf(db, dir.UID)) {
		add("user "+db.UserName(dir.UID), "", replaceFix(ch, dir, last, ""))
	}
	if sticky {
		for _, e := range entries {
			if e.UID != 0 && !allowed.UIDs[e.UID] && passes(w, principalOf(db, e.UID)) {
				add("user "+db.UserName(e.UID), fmt.Sprintf(", sticky, but they own %s", e.Name), replaceFix(ch, dir, last, e.Name))
			}
		}
		return out
	}
	for _, x := range Who(w, db, allowed) {
		add(x.Who, "", replaceFix(ch, dir, last, ""))
	}
	return out
}

// replaceFix says what to change on dir; entry is set when the sticky bit
// is there and the entry's owner is the one who can rename it.
func replaceFix(ch Chain, dir Component, last bool, entry string) string {
	move := "keep the socket under a root-owned directory (unixsocket /run/redis/redis.sock, /run/redis owned by redis:redis with mode 0750, under root-owned /run)"
	if last {
		return fmt.Sprintf("keep the socket in a directory only the server's user can write (unixsocket /run/redis/redis.sock), or set the sticky bit on %s (chmod +t)", dir.Path)
	}
	if entry != "" {
		return fmt.Sprintf("give %s to root (chown -h root %s), or %s", entry, entry, move)
	}
	var fs []string
	if dir.UID != 0 {
		fs = append(fs, "chown root "+dir.Path)
	}
	if dir.Mode&0o002 != 0 {
		fs = append(fs, "chmod o-w "+dir.Path)
	}
	if dir.Mode&0o020 != 0 {
		fs = append(fs, "chmod g-w "+dir.Path)
	}
	if dir.ACL.extended() {
		fs = append(fs, "setfacl -b "+dir.Path)
	}
	if dir.Mode&0o1000 == 0 {
		fs = append(fs, "or set the sticky bit (chmod +t "+dir.Path+")")
	}
	return strings.Join(fs, ", ") + ", or " + move
}

// principalOf is uid with its groups from the database.
func principalOf(db *UserDB, uid uint32) Principal {
	for _, u := range db.Users {
		if u.UID == uid {
			return db.Principal(u)
		}
	}
	return Principal{UID: uid}
}

// passes is CanConnect for a way that may be empty (the root directory's).
func passes(ch Chain, p Principal) bool {
	for _, c := range ch {
		if !c.allows(p).ok {
			return false
		}
	}
	return true
}

func isAncestor(a, b string) bool {
	return a == "/" || strings.HasPrefix(b, a+"/")
}
