package unixsock

import (
	"context"
	"fmt"
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
)

// Test identities: numeric ids far from any distribution's, described by a
// passwd and group file of the test's own, so the host's databases stay
// untouched. alice is in the server's group, bob in sockers by the group
// file, dave by his primary group, carol in nothing, 61999 in no database.
const (
	redisID   = 61000
	sockersID = 61100
	strayID   = 61999
)

const testPasswd = `redis:x:61000:61000::/nonexistent:/usr/sbin/nologin
alice:x:61001:61001::/nonexistent:/usr/sbin/nologin
bob:x:61002:61002::/nonexistent:/usr/sbin/nologin
carol:x:61003:61003::/nonexistent:/usr/sbin/nologin
dave:x:61004:61100::/nonexistent:/usr/sbin/nologin
`

const testGroup = `redis:x:61000:alice
alice:x:61001:
bob:x:61002:
carol:x:61003:
sockers:x:61100:bob
`

type who struct {
	name string
	p    Principal
}

func testPrincipals(db *UserDB) []who {
	var out []who
	for _, u := range db.Users {
		out = append(out, who{u.Name, db.Principal(u)})
	}
	return append(out, who{"uid 61999", Principal{UID: strayID, GIDs: []uint32{strayID}}})
}

// connects is the oracle: redis-cli run with p's credentials gets PONG.
func connects(t *testing.T, cli, path string, p Principal) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, "-s", path, "PING")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: p.UID, Gid: p.GIDs[0], Groups: p.GIDs}}
	out, _ := cmd.Output()
	return strings.TrimSpace(string(out)) == "PONG"
}

// startServer runs redis-server as the redis test user with its socket in
// dir, and waits for the socket to answer.
func startServer(t *testing.T, dir, perm string, extra ...string) (int, string) {
	t.Helper()
	return startBinary(t, redistest.Binary(t), dir, perm, extra...)
}

// startBinary is startServer with a given redis-server.
func startBinary(t *testing.T, bin, dir, perm string, extra ...string) (int, string) {
	t.Helper()
	work, err := os.MkdirTemp(filepath.Dir(dir), "work")
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.Chown(work, redisID, redisID))
	sock := filepath.Join(dir, "redis.sock")
	args := append([]string{"--port", "0", "--unixsocket", sock, "--unixsocketperm", perm,
		"--save", "", "--appendonly", "no", "--dir", work, "--logfile", filepath.Join(work, "log"), "--daemonize", "no"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: redisID, Gid: redisID, Groups: []uint32{}}}
	must(t, cmd.Start())
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	})
	for i := 0; i < 200; i++ {
		if c, _ := probe(t.Context(), sock, &Options{}); c.IsRedis() {
			return cmd.Process.Pid, sock
		}
		select {
		case <-done:
			b, _ := os.ReadFile(filepath.Join(work, "log"))
			t.Fatalf("redis-server exited:\n%s", b)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatal("redis-server's socket did not answer within 10s")
	return 0, ""
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// covered reports whether one of the findings names w.
func covered(reach []Reach, db *UserDB, w who) bool {
	for _, r := range reach {
		switch {
		case r.Who == "every local user", r.Who == "user "+w.name:
			return true
		case strings.HasPrefix(r.Who, "members of group "):
			for _, g := range w.p.GIDs {
				if strings.HasPrefix(r.Who, "members of group "+db.GroupName(g)) {
					return true
				}
			}
		}
	}
	return false
}

// Every row: socket mode, directory mode, symlinks and ACLs set up for
// real; then each identity tries to connect, and the computed answer must
// match, both the per-identity predicate and the findings the check would
// print (every identity outside the allowed set that connects is named by
// one, and none is named that does not connect).
func TestWhoMatchesRealConnections(t *testing.T) {
	testenv.RequireRoot(t)
	cli := testenv.RequireTool(t, "redis-cli")
	setfacl := testenv.RequireTool(t, "setfacl")
	base, passwd, group := userWorld(t)
	db, err := readDB(passwd, group)
	must(t, err)
	allowed := Allowed{UIDs: map[uint32]bool{redisID: true}, GIDs: map[uint32]bool{redisID: true}}
	principals := testPrincipals(db)

	type row struct {
		name  string
		path  string
		setup func(t *testing.T)
	}
	var rows []row
	servers := map[string]string{} // socket perm -> socket dir
	pids := map[string]int{}
	for _, perm := range []string{"700", "770", "777"} {
		dir := filepath.Join(base, "s"+perm)
		must(t, os.Mkdir(dir, 0o755))
		must(t, os.Chown(dir, redisID, redisID))
		pid, sock := startServer(t, dir, perm)
		servers[perm], pids[perm] = dir, pid
		for _, dm := range []os.FileMode{0o700, 0o711, 0o750, 0o755} {
			rows = append(rows, row{fmt.Sprintf("sock %s dir %04o", perm, dm), sock, func(t *testing.T) { must(t, os.Chmod(dir, dm)) }})
		}
	}
	// Symlinks: a public link to the 777 socket's directory, and the same
	// link inside a directory only root may search.
	pub, priv := filepath.Join(base, "pub"), filepath.Join(base, "priv")
	must(t, os.Mkdir(pub, 0o755))
	must(t, os.Mkdir(priv, 0o700))
	must(t, os.Symlink("../s777", filepath.Join(pub, "link")))
	must(t, os.Symlink(servers["777"], filepath.Join(priv, "link")))
	open777 := func(t *testing.T) { must(t, os.Chmod(servers["777"], 0o711)) }
	rows = append(rows,
		row{"relative symlink", filepath.Join(pub, "link", "redis.sock"), open777},
		row{"symlink in a closed directory", filepath.Join(priv, "link", "redis.sock"), open777})
	// ACLs on the 770 server: a named user, a named group, then a mask that
	// takes both back.
	s770 := servers["770"]
	sock770 := filepath.Join(s770, "redis.sock")
	acl := func(args ...string) func(t *testing.T) {
		return func(t *testing.T) {
			must(t, os.Chmod(s770, 0o710))
			for _, a := range args {
				f := strings.Fields(a)
				if out, err := exec.Command(setfacl, f...).CombinedOutput(); err != nil {
					t.Fatalf("setfacl %s: %v\n%s", a, err, out)
				}
			}
		}
	}
	rows = append(rows,
		row{"ACL user carol", sock770, acl("-b "+s770, "-b "+sock770, "-m u:61003:x "+s770, "-m u:61003:rw "+sock770)},
		row{"ACL group sockers", sock770, acl("-b "+s770, "-b "+sock770, "-m g:61100:x "+s770, "-m g:61100:w "+sock770)},
		row{"ACL mask takes it back", sock770, acl("-b "+s770, "-b "+sock770, "-m g:61100:x "+s770, "-m g:61100:w "+sock770, "-m m::r "+sock770)},
		row{"ACL directory only", sock770, acl("-b "+s770, "-b "+sock770, "-m u:61003:x "+s770)},
	)

	// The oracle must have said both yes and no to an outsider: a matrix
	// where nobody or everybody connects proves nothing.
	outcomes := map[bool]int{}
	defer func() {
		if !t.Failed() && (outcomes[true] == 0 || outcomes[false] == 0) {
			t.Errorf("outsider connections: %v", outcomes)
		}
	}()
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			r.setup(t)
			ch, _, err := walk(r.path, statUnder("/"))
			must(t, err)
			anyOutsider := false
			actual := map[string]bool{}
			for _, w := range principals {
				got, want := ch.CanConnect(w.p), connects(t, cli, r.path, w.p)
				if got != want {
					t.Errorf("%s: computed %v, connecting %v", w.name, got, want)
				}
				actual[w.name] = want
				outsider := !allowed.has(w.p)
				if want && outsider {
					anyOutsider = true
				}
				if outsider {
					outcomes[want]++
				}
			}
			// The findings, for the default allowed set and for an
			// operator's --socket-allow-group sockers.
			for _, al := range []Allowed{allowed, {UIDs: map[uint32]bool{redisID: true}, GIDs: map[uint32]bool{sockersID: true}}} {
				reach := Who(ch, db, al)
				for _, w := range principals {
					if !al.has(w.p) && covered(reach, db, w) != actual[w.name] {
						t.Errorf("allowed %v: %s connects %v, but the findings %v", al, w.name, actual[w.name], reach)
					}
				}
			}
			// The judgement the binary prints, from the gathered facts of
			// this server (other servers of the host left out).
			if r.path != filepath.Join(servers[r.name[5:8]], "redis.sock") {
				return
			}
			in := Gather(t.Context(), &Options{ProcRoot: "/proc", PasswdFile: passwd, GroupFile: group})
			in.Processes, in.Sockets = onlyPID(in, pids[r.name[5:8]])
			if len(in.Sockets) != 1 {
				t.Fatalf("gathered %d sockets for the server: %+v", len(in.Sockets), in.Sockets)
			}
			res := Judge(Options{}, in)
			if want := map[bool]result.State{true: result.Critical, false: result.OK}[anyOutsider]; res.State != want {
				t.Errorf("state %v, want %v: %s %v", res.State, want, res.Summary, res.Findings)
			}
		})
	}
}

func onlyPID(in Facts, pid int) ([]Process, []SocketFacts) {
	var ps []Process
	var ss []SocketFacts
	for _, p := range in.Processes {
		if p.PID == pid {
			ps = append(ps, p)
		}
	}
	for _, s := range in.Sockets {
		if s.Proc.PID == pid {
			ss = append(ss, s)
		}
	}
	return ps, ss
}

// userWorld is a temporary root opened as /run is (t.TempDir's
// directories are 0700), holding the test user and group databases.
func userWorld(t *testing.T) (base, passwd, group string) {
	t.Helper()
	base = t.TempDir()
	must(t, os.Chmod(base, 0o755))
	must(t, os.Chmod(filepath.Dir(base), 0o755))
	passwd, group = filepath.Join(base, "passwd"), filepath.Join(base, "group")
	must(t, os.WriteFile(passwd, []byte(testPasswd), 0o644))
	must(t, os.WriteFile(group, []byte(testGroup), 0o644))
	return base, passwd, group
}
