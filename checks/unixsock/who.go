package unixsock

import (
	"fmt"
	"sort"
	"strings"
)

// Allowed says who the operator lets connect: these users, members of
// these groups, and root (which the kernel lets through anyway).
type Allowed struct {
	UIDs map[uint32]bool
	GIDs map[uint32]bool
}

func (a Allowed) has(p Principal) bool {
	if !p.Unnamed && (p.UID == 0 || a.UIDs[p.UID]) {
		return true
	}
	for _, g := range p.GIDs {
		if a.GIDs[g] {
			return true
		}
	}
	return false
}

// Reach is one class of clients, beyond the allowed ones, that can connect.
type Reach struct {
	Who     string // "every local user", "members of group staff (alice, bob)", "user mallory"
	Explain string // the components that let them through
	Fix     string
	Dir     string // for Replacers: the directory whose entry they can rename
}

// Who computes the clients outside allowed that can connect through chain:
// every user without a name in the chain ("other"), each group of the
// chain as a class of its own, and each user of the database and each
// user named in the chain with all its groups.
func Who(ch Chain, db *UserDB, allowed Allowed) []Reach {
	var out []Reach
	other := Principal{Unnamed: true}
	if ch.CanConnect(other) {
		return []Reach{{Who: "every local user", Explain: ch.explain(other), Fix: ch.fix(other, allowed)}}
	}
	groups, users := map[uint32]bool{}, map[uint32]bool{}
	for _, c := range ch {
		groups[c.GID], users[c.UID] = true, true
		for _, e := range c.ACL {
			switch e.Tag {
			case aclGroup:
				groups[e.ID] = true
			case aclUser:
				users[e.ID] = true
			}
		}
	}
	covered := map[uint32]bool{} // groups already reported: their members need no line each
	for _, g := range sortedKeys(groups) {
		p := Principal{Unnamed: true, GIDs: []uint32{g}}
		if allowed.has(p) || !ch.CanConnect(p) {
			continue
		}
		covered[g] = true
		who := "members of group " + db.GroupName(g)
		if ms := db.MemberNames(g); len(ms) > 0 {
			who += " (" + strings.Join(capList(ms, 8), ", ") + ")"
		}
		out = append(out, Reach{Who: who, Explain: ch.explain(p), Fix: ch.fix(p, allowed)})
	}
	seen := map[uint32]bool{}
	try := func(p Principal, name string) {
		if seen[p.UID] || allowed.has(p) || !ch.CanConnect(p) {
			return
		}
		seen[p.UID] = true
		for _, g := range p.GIDs {
			if covered[g] {
				// Reported with its group unless the user is named in the
				// chain for itself.
				if !users[p.UID] {
					return
				}
			}
		}
		out = append(out, Reach{Who: "user " + name, Explain: ch.explain(p), Fix: ch.fix(p, allowed)})
	}
	for _, u := range db.Users {
		try(db.Principal(u), u.Name)
	}
	for _, uid := range sortedKeys(users) {
		if !seen[uid] {
			try(Principal{UID: uid}, db.UserName(uid))
		}
	}
	return out
}

// fix says what to change so that p no longer passes: the socket's own
// permissions where they let p through, else the socket's directory.
func (ch Chain) fix(p Principal, allowed Allowed) string {
	s := ch.Socket()
	g := s.allows(p)
	switch {
	case strings.HasPrefix(g.source, "ACL"):
		return fmt.Sprintf("remove the entry (setfacl -x %s %s)", aclSpec(g.source), s.Path)
	case g.source == "other" && allowed.GIDs[s.GID]:
		return "set unixsocketperm 770"
	case g.source == "other" || g.source == "group":
		return "set unixsocketperm 700"
	case g.source == "owner":
		return fmt.Sprintf("run redis-server as an allowed user, or allow %s with --socket-allow-user", "its owner")
	}
	return "restrict the socket's permissions"
}

// aclSpec turns "ACL user:N" into setfacl's "u:N".
func aclSpec(source string) string {
	s := strings.TrimPrefix(source, "ACL ")
	if t, ok := strings.CutPrefix(s, "user:"); ok {
		return "u:" + t
	}
	return "g:" + strings.TrimPrefix(s, "group:")
}

func sortedKeys(m map[uint32]bool) []uint32 {
	out := make([]uint32, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func capList(xs []string, n int) []string {
	if len(xs) <= n {
		return xs
	}
	return append(xs[:n:n], fmt.Sprintf("and %d more", len(xs)-n))
}
