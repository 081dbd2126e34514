package unixsock

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// sock_diag and /proc/net/unix must both show a listener this test opens,
// with the same inode; the dump also names the socket file exactly.
func TestLiveSourcesShowOwnUnixListener(t *testing.T) {
	if _, err := os.Stat("/proc/net/unix"); err != nil {
		t.Skip("skipped: no /proc/net/unix on this system")
	}
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	abs, err := net.Listen("unix", "@redis-socket-check-test-"+filepath.Base(filepath.Dir(path)))
	if err != nil {
		t.Fatal(err)
	}
	defer abs.Close()
	dumped, derr := dumpListeners()
	table, terr := readTable("/proc/net/unix")
	if derr != nil || terr != nil {
		t.Fatalf("dump %v, table %v", derr, terr)
	}
	var st = mustStat(t, path)
	for _, name := range []string{path, abs.Addr().String()} {
		i := slices.IndexFunc(dumped, func(l Listener) bool { return l.Name == name })
		j := slices.IndexFunc(table, func(l Listener) bool { return l.Name == name })
		if i < 0 || j < 0 || dumped[i].Inode != table[j].Inode {
			t.Fatalf("%s: dump %d, table %d", name, i, j)
		}
		if name == path && (dumped[i].VFSIno != st.Ino || kernelDev(dumped[i].VFSDev) != st.Dev) {
			t.Errorf("VFS identity %d/%d, stat %d/%d", dumped[i].VFSIno, kernelDev(dumped[i].VFSDev), st.Ino, st.Dev)
		}
		if name != path && !dumped[i].Abstract() {
			t.Errorf("%s not abstract", name)
		}
	}
}

func mustStat(t *testing.T, p string) fileInfo {
	t.Helper()
	fi, err := statUnder("/")(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}
