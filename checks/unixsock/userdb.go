package unixsock

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// User is one /etc/passwd entry.
type User struct {
	Name string
	UID  uint32
	GID  uint32 // primary group
}

// Group is one /etc/group entry.
type Group struct {
	Name    string
	GID     uint32
	Members []string
}

// UserDB is the local user and group database. Users and groups that only
// a directory service (LDAP, SSSD) knows are not in it; the classes
// "members of group G" and "every other user" cover them.
type UserDB struct {
	Users  []User
	Groups []Group
}

// maxDBSize caps each database file.
const maxDBSize = 16 << 20

// ErrDB means a database file that is too large.
var ErrDB = errors.New("user database too large")

// readDB reads passwd and group files.
func readDB(passwdPath, groupPath string) (*UserDB, error) {
	db := &UserDB{}
	err := readColon(passwdPath, func(f []string) {
		if len(f) < 4 {
			return
		}
		uid, e1 := strconv.ParseUint(f[2], 10, 32)
		gid, e2 := strconv.ParseUint(f[3], 10, 32)
		if e1 == nil && e2 == nil {
			db.Users = append(db.Users, User{Name: f[0], UID: uint32(uid), GID: uint32(gid)})
		}
	})
	if err != nil {
		return nil, err
	}
	err = readColon(groupPath, func(f []string) {
		if len(f) < 4 {
			return
		}
		gid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			return
		}
		g := Group{Name: f[0], GID: uint32(gid)}
		for _, m := range strings.Split(f[3], ",") {
			if m = strings.TrimSpace(m); m != "" {
				g.Members = append(g.Members, m)
			}
		}
		db.Groups = append(db.Groups, g)
	})
	if err != nil {
		return nil, err
	}
	return db, nil
}

func readColon(path string, each func([]string)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	lr := &io.LimitedReader{R: f, N: maxDBSize + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "+") || strings.HasPrefix(line, "-") {
			continue // NIS compat lines name no local entry
		}
		each(strings.Split(line, ":"))
	}
	if lr.N <= 0 {
		return fmt.Errorf("%s: %w", path, ErrDB)
	}
	return sc.Err()
}

// Principal returns the user with every group it is in: its primary group
// and each group listing it as a member.
func (db *UserDB) Principal(u User) Principal {
	p := Principal{UID: u.UID, GIDs: []uint32{u.GID}}
	for _, g := range db.Groups {
		for _, m := range g.Members {
			if m == u.Name && g.GID != u.GID {
				p.GIDs = append(p.GIDs, g.GID)
			}
		}
	}
	return p
}

// UserName is the name of uid, or "uid N".
func (db *UserDB) UserName(uid uint32) string {
	for _, u := range db.Users {
		if u.UID == uid {
			return u.Name
		}
	}
	return fmt.Sprintf("uid %d", uid)
}

// GroupName is the name of gid, or "gid N".
func (db *UserDB) GroupName(gid uint32) string {
	for _, g := range db.Groups {
		if g.GID == gid {
			return g.Name
		}
	}
	return fmt.Sprintf("gid %d", gid)
}

// LookupUser resolves a user name or number.
func (db *UserDB) LookupUser(s string) (uint32, bool) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return uint32(n), true
	}
	for _, u := range db.Users {
		if u.Name == s {
			return u.UID, true
		}
	}
	return 0, false
}

// LookupGroup resolves a group name or number.
func (db *UserDB) LookupGroup(s string) (uint32, bool) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return uint32(n), true
	}
	for _, g := range db.Groups {
		if g.Name == s {
			return g.GID, true
		}
	}
	return 0, false
}

// MemberNames lists the users in gid: listed members and users whose
// primary group it is.
func (db *UserDB) MemberNames(gid uint32) []string {
	set := map[string]bool{}
	for _, g := range db.Groups {
		if g.GID == gid {
			for _, m := range g.Members {
				set[m] = true
			}
		}
	}
	for _, u := range db.Users {
		if u.GID == gid {
			set[u.Name] = true
		}
	}
	out := make([]string, 0, len(set))
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}
