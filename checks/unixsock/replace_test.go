package unixsock

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// renames is the oracle of Replacers: mv run with p's credentials moves the
// socket out of its name (then root puts it back).
func renames(t *testing.T, sock string, p Principal) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	moved := sock + ".moved"
	cmd := exec.CommandContext(ctx, "mv", "-T", sock, moved)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: p.UID, Gid: p.GIDs[0], Groups: p.GIDs}}
	if cmd.Run() != nil {
		return false
	}
	must(t, os.Rename(moved, sock))
	return true
}

// Each row sets the socket directory's owner, mode or ACL for real; every
// identity then tries to move the socket away, and the identities outside
// the allowed set that can must be exactly those the findings name. The
// socket itself stays 0700: nobody outside connects, yet whoever takes its
// name receives every client and its AUTH.
func TestReplacersMatchRealRenames(t *testing.T) {
	testenv.RequireRoot(t)
	setfacl := testenv.RequireTool(t, "setfacl")
	base, passwd, group := userWorld(t)
	db, err := readDB(passwd, group)
	must(t, err)
	allowed := Allowed{UIDs: map[uint32]bool{redisID: true}, GIDs: map[uint32]bool{redisID: true}}
	dir := filepath.Join(base, "run")
	must(t, os.Mkdir(dir, 0o755))
	must(t, os.Chown(dir, redisID, redisID))
	pid, sock := startServer(t, dir, "700")

	set := func(uid, gid int, mode os.FileMode, acl string) func(t *testing.T) {
		return func(t *testing.T) {
			must(t, exec.Command(setfacl, "-b", dir).Run())
			must(t, os.Chown(dir, uid, gid))
			must(t, os.Chmod(dir, mode))
			if acl != "" {
				if out, err := exec.Command(setfacl, "-m", acl, dir).CombinedOutput(); err != nil {
					t.Fatalf("setfacl: %v: %s", err, out)
				}
			}
		}
	}
	rows := []struct {
		name  string
		setup func(t *testing.T)
		state result.State
	}{
		{"redis 0755", set(redisID, redisID, 0o755, ""), result.OK},
		{"redis 0775", set(redisID, redisID, 0o775, ""), result.OK},
		{"root 0777", set(0, 0, 0o777, ""), result.Warning},
		{"root 1777", set(0, 0, 0o777|os.ModeSticky, ""), result.OK},
		{"redis sockers 0775", set(redisID, sockersID, 0o775, ""), result.Warning},
		{"redis sockers 1775", set(redisID, sockersID, 0o775|os.ModeSticky, ""), result.OK},
		{"carol 0755", set(61003, 61003, 0o755, ""), result.Warning},
		{"carol 1777", set(61003, 61003, 0o777|os.ModeSticky, ""), result.Warning},
		{"ACL user bob wx", set(redisID, redisID, 0o755, "u:61002:wx"), result.Warning},
		{"ACL user bob w only", set(redisID, redisID, 0o755, "u:61002:w,o::---"), result.OK},
	}
	outcomes := map[bool]int{}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			r.setup(t)
			ch, _, err := walk(sock, statUnder("/"))
			must(t, err)
			reach := Replacers(ch, db, allowed)
			for _, w := range testPrincipals(db) {
				if allowed.has(w.p) {
					continue
				}
				want := renames(t, sock, w.p)
				outcomes[want]++
				if got := covered(reach, db, w); got != want {
					t.Errorf("%s: moves the socket %v, but the findings %v", w.name, want, reach)
				}
			}
			in := Gather(t.Context(), &Options{ProcRoot: "/proc", PasswdFile: passwd, GroupFile: group})
			in.Processes, in.Sockets = onlyPID(in, pid)
			res := Judge(Options{}, in)
			if res.State != r.state {
				t.Errorf("state %v, want %v: %s %v", res.State, r.state, res.Summary, res.Findings)
			}
		})
	}
	if outcomes[true] == 0 || outcomes[false] == 0 {
		t.Errorf("outsider renames: %v; a matrix where nobody or everybody succeeds proves nothing", outcomes)
	}
}
