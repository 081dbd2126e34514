package unixsock

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// A server in a mount namespace of its own (as in a container) binds its
// socket on a tmpfs this host's view does not have. The check finds it
// through the kernel, judges it through /proc/PID/root, and says that
// other paths to it were not examined.
func TestServerInOtherMountNamespace(t *testing.T) {
	testenv.RequireRoot(t)
	unshare := testenv.RequireTool(t, "unshare")
	bin := redistest.Binary(t)
	base := t.TempDir()
	must(t, os.Chmod(base, 0o755))
	must(t, os.Chmod(filepath.Dir(base), 0o755))
	dir := filepath.Join(base, "run")
	must(t, os.Mkdir(dir, 0o755))
	sock := filepath.Join(dir, "redis.sock")
	script := `mount -t tmpfs -o mode=0755 tmpfs "$1" && exec "$2" --port 0 --unixsocket "$1/redis.sock" --unixsocketperm 777 --save "" --dir "$1" --daemonize no --logfile ""`
	cmd := exec.Command(unshare, "--mount", "--propagation", "private", "sh", "-c", script, "sh", dir, bin)
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
	inside := filepath.Join("/proc", itoa(cmd.Process.Pid), "root", sock)
	for i := 0; ; i++ {
		if c, _ := probe(t.Context(), inside, &Options{}); c.IsRedis() {
			break
		}
		if i == 200 {
			t.Fatal("the server's socket did not answer within 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(sock); err == nil {
		t.Fatal("the socket is visible outside its mount namespace: the test sets up nothing")
	}
	in := Gather(t.Context(), &Options{ProcRoot: "/proc", PID: cmd.Process.Pid, PasswdFile: "/nonexistent", GroupFile: "/nonexistent"})
	r := Judge(Options{}, in)
	out := text(r)
	if len(in.Sockets) != 1 {
		t.Errorf("%d sockets gathered, want 1:\n%s", len(in.Sockets), out)
	}
	if r.State != result.Critical {
		t.Errorf("state %v:\n%s", r.State, out)
	}
	for _, want := range []string{"runs in other namespaces", sock + " is 0777: every local user can connect",
		"is inside the mount namespace of pid", "bind mounts elsewhere were not examined"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
