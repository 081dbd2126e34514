package unixsock

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// The case a new user runs into: port 0, the socket in a 0755 directory
// with unixsocketperm 777. Without a password it is CRITICAL and the
// finding says what to change; with one, WARNING; with 700, OK.
func TestOpenSocketScenario(t *testing.T) {
	testenv.RequireRoot(t)
	base, passwd, group := userWorld(t)
	cases := []struct {
		name  string
		perm  string
		extra []string
		state result.State
		text  []string
		after func(t *testing.T, sock string)
	}{
		{"no password", "777", nil, result.Critical, []string{"is 0755 and", "redis.sock is 0777: every local user can connect (no password needed); set unixsocketperm 770"}, nil},
		{"password", "777", []string{"--requirepass", "s3cret-of-the-test"}, result.Warning, []string{"every local user can connect (the server needs a password)"}, nil},
		{"closed", "700", nil, result.OK, []string{"mode 0700): only root, user redis, group redis can connect"}, nil},
		// The file at the path is not the server's any more: whoever
		// connects there reaches another listener.
		{"replaced", "700", nil, result.Warning, []string{"no longer leads to the socket pid"}, func(t *testing.T, sock string) {
			must(t, os.Remove(sock))
			ln, err := net.Listen("unix", sock)
			must(t, err)
			must(t, os.Chmod(sock, 0o700))
			t.Cleanup(func() { ln.Close() })
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, err := os.MkdirTemp(base, "run")
			must(t, err)
			must(t, os.Chmod(dir, 0o755))
			must(t, os.Chown(dir, redisID, redisID))
			pid, sock := startServer(t, dir, c.perm, c.extra...)
			if c.after != nil {
				c.after(t, sock)
			}
			in := Gather(t.Context(), &Options{ProcRoot: "/proc", PasswdFile: passwd, GroupFile: group})
			in.Processes, in.Sockets = onlyPID(in, pid)
			res := Judge(Options{}, in)
			all := res.Summary
			for _, f := range res.Findings {
				all += "\n" + f.Text
			}
			if res.State != c.state {
				t.Errorf("state %v, want %v:\n%s", res.State, c.state, all)
			}
			for _, want := range c.text {
				if !strings.Contains(all, want) {
					t.Errorf("no %q in:\n%s", want, all)
				}
			}
		})
	}
}

// Every server version finds its socket through the kernel and the
// descriptors, and answers CONFIG GET unixsocket* over it (Valkey 8.1+
// adds unixsocketgroup).
func TestVersionsOpenSocket(t *testing.T) {
	testenv.RequireRoot(t)
	base := t.TempDir()
	must(t, os.Chmod(base, 0o755))
	must(t, os.Chmod(filepath.Dir(base), 0o755))
	for label, bin := range redistest.Binaries(t) {
		t.Run(label, func(t *testing.T) {
			dir, err := os.MkdirTemp(base, "run")
			must(t, err)
			must(t, os.Chmod(dir, 0o755))
			must(t, os.Chown(dir, redisID, redisID))
			pid, sock := startBinary(t, bin, dir, "777")
			in := Gather(t.Context(), &Options{ProcRoot: "/proc", PasswdFile: "/nonexistent", GroupFile: "/nonexistent"})
			in.Processes, in.Sockets = onlyPID(in, pid)
			if len(in.Processes) != 1 || len(in.Sockets) != 1 {
				t.Fatalf("process %d: %+v, sockets %+v", pid, in.Processes, in.Sockets)
			}
			s := in.Sockets[0]
			if s.Path != sock || s.Live == nil || s.Live.Path != sock || s.Live.Perm != "777" {
				t.Fatalf("socket %+v, live %+v", s, s.Live)
			}
			if res := Judge(Options{}, in); res.State != result.Critical {
				t.Errorf("state %v: %v", res.State, res.Findings)
			}
		})
	}
}
