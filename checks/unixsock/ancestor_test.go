package unixsock

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
	"golang.org/x/sys/unix"
)

// asUser runs argv with p's credentials; nil when it succeeded.
func asUser(t *testing.T, p Principal, argv ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: p.UID, Gid: p.GIDs[0], Groups: p.GIDs}}
	return cmd.Run()
}

// renamesAny is the oracle for a directory above the socket's: mv run
// with p's credentials moves one of names away (then root puts it back).
func renamesAny(t *testing.T, p Principal, names ...string) bool {
	t.Helper()
	for _, n := range names {
		if asUser(t, p, "mv", "-T", n, n+".moved") == nil {
			must(t, os.Rename(n+".moved", n))
			return true
		}
	}
	return false
}

// The socket's directory is the server's and closed; the directory above
// it holds that directory and a symlink to it, and the server binds
// through the symlink. Each row sets that upper directory's owner, mode
// or ACL, or the symlink's owner, for real; every identity then tries to
// rename the directory or the link, and the identities outside the
// allowed set that can must be exactly those the findings about the
// upper directory name.
func TestAncestorReplacersMatchRealRenames(t *testing.T) {
	testenv.RequireRoot(t)
	setfacl := testenv.RequireTool(t, "setfacl")
	base, passwd, group := userWorld(t)
	db, err := readDB(passwd, group)
	must(t, err)
	allowed := Allowed{UIDs: map[uint32]bool{redisID: true}, GIDs: map[uint32]bool{redisID: true}}
	up := filepath.Join(base, "up")
	run, link := filepath.Join(up, "run"), filepath.Join(up, "link")
	must(t, os.Mkdir(up, 0o755))
	must(t, os.Mkdir(run, 0o750))
	must(t, os.Chown(run, redisID, redisID))
	must(t, os.Symlink("run", link))
	pid, sock := startServer(t, link, "700")

	set := func(uid, gid int, mode os.FileMode, acl string, linkUID int) func(t *testing.T) {
		return func(t *testing.T) {
			must(t, exec.Command(setfacl, "-b", up).Run())
			must(t, os.Chown(up, uid, gid))
			must(t, os.Chmod(up, mode))
			must(t, os.Lchown(link, linkUID, linkUID))
			if acl != "" {
				if out, err := exec.Command(setfacl, "-m", acl, up).CombinedOutput(); err != nil {
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
		{"root 0755", set(0, 0, 0o755, "", 0), result.OK},
		{"root 0777", set(0, 0, 0o777, "", 0), result.Warning},
		{"root 1777", set(0, 0, 0o777|os.ModeSticky, "", 0), result.OK},
		{"root 1777, link carol's", set(0, 0, 0o777|os.ModeSticky, "", 61003), result.Warning},
		{"carol 0755", set(61003, 61003, 0o755, "", 0), result.Warning},
		{"redis sockers 0775", set(redisID, sockersID, 0o775, "", 0), result.Warning},
		{"ACL user bob wx", set(0, 0, 0o755, "u:61002:wx", 0), result.Warning},
		{"ACL user bob w only", set(0, 0, 0o755, "u:61002:w,o::r-x", 0), result.OK},
	}
	outcomes := map[bool]int{}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			r.setup(t)
			ch, _, err := walk(sock, statUnder("/"))
			must(t, err)
			var reach []Reach
			for _, x := range Replacers(ch, db, allowed) {
				if x.Dir == up {
					reach = append(reach, x)
				}
			}
			for _, w := range testPrincipals(db) {
				if allowed.has(w.p) {
					continue
				}
				want := renamesAny(t, w.p, run, link)
				outcomes[want]++
				if got := covered(reach, db, w); got != want {
					t.Errorf("%s: renames the way to the socket %v, but the findings %v", w.name, want, reach)
				}
			}
			in := Gather(t.Context(), &Options{ProcRoot: "/proc", PasswdFile: passwd, GroupFile: group})
			in.Processes, in.Sockets = onlyPID(in, pid)
			res := Judge(Options{}, in)
			if res.State != r.state {
				t.Errorf("state %v, want %v: %s", res.State, r.state, text(res))
			}
		})
	}
	if outcomes[true] == 0 || outcomes[false] == 0 {
		t.Errorf("outsider renames: %v; a matrix where nobody or everybody succeeds proves nothing", outcomes)
	}
}

// The whole attack, for real: with the directory above the socket's open
// to everyone, carol moves the server's directory away, makes her own in
// its place and listens there. A client dialing the path the server bound
// reaches carol's process, and the check warns before it happens.
func TestAncestorTakeover(t *testing.T) {
	testenv.RequireRoot(t)
	base, passwd, group := userWorld(t)
	up := filepath.Join(base, "up")
	run := filepath.Join(up, "run")
	must(t, os.Mkdir(up, 0o777))
	must(t, os.Chmod(up, 0o777)) // past the umask
	must(t, os.Mkdir(run, 0o750))
	must(t, os.Chown(run, redisID, redisID))
	pid, sock := startServer(t, run, "700")

	in := Gather(t.Context(), &Options{ProcRoot: "/proc", PasswdFile: passwd, GroupFile: group})
	in.Processes, in.Sockets = onlyPID(in, pid)
	res := Judge(Options{}, in)
	want := "every local user can replace the socket (" + up + " is 0777"
	if res.State != result.Warning || !strings.Contains(text(res), want) || !strings.Contains(text(res), "chmod o-w "+up) {
		t.Errorf("want WARNING with %q and chmod o-w, got\n%s", want, text(res))
	}

	carol := Principal{UID: 61003, GIDs: []uint32{61003}}
	if err := asUser(t, carol, "mv", "-T", run, run+".old"); err != nil {
		t.Fatalf("carol cannot move %s: %v", run, err)
	}
	t.Cleanup(func() {
		os.RemoveAll(run)
		os.Rename(run+".old", run)
	})
	if err := asUser(t, carol, "mkdir", "-m", "0755", run); err != nil {
		t.Fatalf("carol cannot make %s: %v", run, err)
	}
	work := filepath.Join(run, "work")
	must(t, asUser(t, carol, "mkdir", work))
	ctx, cancel := context.WithCancel(t.Context())
	cmd := exec.CommandContext(ctx, redistest.Binary(t), "--port", "0", "--unixsocket", sock, "--unixsocketperm", "777",
		"--save", "", "--appendonly", "no", "--dir", work, "--daemonize", "no")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: carol.UID, Gid: carol.GIDs[0], Groups: carol.GIDs}}
	must(t, cmd.Start())
	t.Cleanup(func() { cancel(); cmd.Wait() })
	for i := 0; ; i++ {
		c, err := net.Dial("unix", sock)
		if err == nil {
			uc := c.(*net.UnixConn)
			raw, _ := uc.SyscallConn()
			var cred *unix.Ucred
			must(t, raw.Control(func(fd uintptr) { cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }))
			c.Close()
			must(t, err)
			if cred.Uid != carol.UID {
				t.Fatalf("the client reached uid %d, not carol", cred.Uid)
			}
			return
		}
		if i == 200 {
			t.Fatalf("carol's server did not listen at %s: %v", sock, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
