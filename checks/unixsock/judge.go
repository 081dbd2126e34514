package unixsock

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Judge decides the state from the options and the gathered facts. It
// does no I/O.
func Judge(o Options, in Facts) result.Result {
	var r result.Result
	if in.ProcErr != "" {
		r.State, r.Summary = result.Unknown, "cannot list processes: "+in.ProcErr
		return r
	}
	if in.DBErr != "" {
		r.Add(result.Warning, "user database: %s; group members and user names are not known", in.DBErr)
	}
	if in.FileErr != "" {
		r.Add(result.Warning, "config file: %s", in.FileErr)
	}
	if len(in.Processes) == 0 {
		r.State = result.Unknown
		r.Summary = "no redis-server or valkey-server process is visible on this host (not running, or hidden by hidepid or another PID namespace)"
		return r
	}
	listening := map[string]bool{}
	for _, p := range in.Processes {
		who := fmt.Sprintf("%s pid %d (user %s, group %s)", p.Comm, p.PID, in.DB.UserName(p.UID), in.DB.GroupName(p.GID))
		n := 0
		for _, s := range in.Sockets {
			if s.Proc.PID == p.PID {
				n++
			}
		}
		switch {
		case in.TableErr[p.PID] != "":
			r.Add(result.Unknown, "%s: its UNIX socket table cannot be read: %s", who, in.TableErr[p.PID])
		case p.FDErr != nil:
			r.Add(result.Unknown, "%s: its descriptors cannot be read (run the check as root or as the server's user): sockets it may listen on besides the config file's are not known", who)
		case n == 0:
			r.Add(result.OK, "%s listens on no UNIX socket", who)
		}
		if p.OtherMountNS || p.OtherNetNS {
			r.Add(result.OK, "%s runs in other namespaces (a container): its sockets are judged as seen inside them", who)
		}
	}
	for _, s := range in.Sockets {
		judgeSocket(&r, o, in, s)
		listening[s.Path] = true
		listening[s.Listener.Name] = true
	}
	for _, d := range in.Declared {
		if !listening[d.Path] {
			r.Add(result.Warning, "%s: unixsocket %s, but no Redis server listens there: the running servers do not use this config, or a restart will create it", d.Where, d.Path)
		}
	}
	r.Finalize()
	switch r.State {
	case result.OK:
		if len(in.Sockets) == 0 {
			r.Summary = "no Redis server listens on a UNIX socket"
		} else {
			r.Summary = "only the allowed users can connect to the Redis UNIX sockets"
		}
		r.Add(result.OK, "root and holders of CAP_DAC_OVERRIDE can connect to any socket")
	}
	return r
}

// passwordState is the state of a socket that others can reach: CRITICAL
// unless the server proved it needs a password.
func passwordState(s SocketFacts) (result.State, string) {
	if s.ProbeErr == "" && s.Probe == resp.NoAuth {
		return result.Warning, "the server needs a password"
	}
	if s.ProbeErr == "" && s.Probe == resp.Pong {
		return result.Critical, "no password needed"
	}
	if s.ProbeErr == "" {
		return result.Critical, "PING without a password got " + s.Probe.String()
	}
	return result.Critical, "whether it needs a password is unknown: " + s.ProbeErr
}

func judgeSocket(r *result.Result, o Options, in Facts, s SocketFacts) {
	p := s.Proc
	// The server's own user is always allowed (it owns the socket); its
	// group only by default.
	allowed := Allowed{UIDs: map[uint32]bool{p.UID: true}, GIDs: map[uint32]bool{}}
	// nil lists mean the default: each server's own user and group.
	if o.allowUIDs == nil && o.allowGIDs == nil {
		allowed.GIDs[p.GID] = true
	}
	for _, u := range o.allowUIDs {
		allowed.UIDs[u] = true
	}
	for _, g := range o.allowGIDs {
		allowed.GIDs[g] = true
	}
	st, pw := passwordState(s)
	if s.Listener.Abstract() {
		r.Add(st, "%s pid %d listens on the abstract socket %s, which has no permissions: every process in its network namespace can connect (%s); use a socket path (unixsocket /run/redis/redis.sock)",
			p.Comm, p.PID, s.Listener.Name, pw)
		return
	}
	if s.Path == "" {
		r.Add(result.Unknown, "%s pid %d listens on an unnamed UNIX socket (inode %d)", p.Comm, p.PID, s.Listener.Inode)
		return
	}
	if s.WalkErr != "" {
		r.Add(result.Unknown, "%s: who can connect is not known: %s", s.Path, s.WalkErr)
		return
	}
	if p.OtherMountNS {
		r.Add(result.Unknown, "%s is inside the mount namespace of pid %d: judged there; paths to it through bind mounts elsewhere were not examined", s.Path, p.PID)
	}
	if s.Stale {
		r.Add(result.Warning, "%s no longer leads to the socket pid %d listens on (replaced or removed): clients reach another file there; restart the server", s.Path, p.PID)
	}
	reach := Who(s.Chain, in.DB, allowed)
	for _, x := range reach {
		r.Add(st, "%s: %s can connect (%s); %s", x.Explain, x.Who, pw, x.Fix)
	}
	for _, x := range Replacers(s.Chain, in.DB, allowed) {
		r.Add(result.Warning, "%s: %s can replace the socket (%s): clients would connect to whatever they put there, and hand it their passwords; %s",
			s.Path, x.Who, x.Explain, x.Fix)
	}
	sock := s.Chain.Socket()
	if len(reach) == 0 {
		r.Add(result.OK, "%s (owner %s, group %s, mode %04o%s): only %s can connect", s.Path,
			in.DB.UserName(sock.UID), in.DB.GroupName(sock.GID), sock.Mode, aclWord(sock.ACL), allowedWords(in.DB, allowed))
	}
	if l := s.Live; l != nil {
		if perm, err := strconv.ParseUint(l.Perm, 8, 32); err == nil && perm != 0 && uint32(perm) != sock.Mode&0o777 {
			r.Add(result.Warning, "%s is %04o but unixsocketperm is %s: it was changed after the server started, and a restart sets it back", s.Path, sock.Mode, l.Perm)
		}
		if l.Group != "" {
			r.Add(result.OK, "unixsocketgroup is %s", l.Group)
		}
		if l.Perm == "0" {
			r.Add(result.OK, "unixsocketperm is 0: the socket's mode came from the server's umask")
		}
	}
}

func aclWord(a ACL) string {
	if a.extended() {
		return ", with an ACL"
	}
	return ""
}

func allowedWords(db *UserDB, a Allowed) string {
	var ws []string
	ws = append(ws, "root")
	for _, u := range sortedKeys(a.UIDs) {
		if u != 0 {
			ws = append(ws, "user "+db.UserName(u))
		}
	}
	for _, g := range sortedKeys(a.GIDs) {
		ws = append(ws, "group "+db.GroupName(g))
	}
	return strings.Join(ws, ", ")
}
