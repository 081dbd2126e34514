package unixsock

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// serverComms are the process names (comm, at most 15 bytes) of Redis and
// Valkey servers. Redis rewrites its argv title but not comm.
var serverComms = map[string]bool{
	"redis-server": true, "redis-sentinel": true, "valkey-server": true, "valkey-sentinel": true,
}

// Process is one Redis server process of this host.
type Process struct {
	PID  int
	Comm string
	UID  uint32 // effective
	GID  uint32 // effective
	// SocketInodes are the socket inodes among its open files; nil with
	// FDErr when /proc/PID/fd could not be read.
	SocketInodes map[uint64]bool
	FDErr        error
	// OtherNetNS / OtherMountNS: it runs in namespaces other than the
	// check's (a container): its sockets and paths are read through
	// /proc/PID.
	OtherNetNS   bool
	OtherMountNS bool
	NSErr        error
	Cwd          string // for relative socket names; "" when unreadable
}

// maxProcesses bounds the scan of /proc.
const maxProcesses = 1 << 20

// findServers lists the Redis server processes under procRoot.
func findServers(procRoot string) ([]Process, error) {
	d, err := os.Open(procRoot)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(maxProcesses)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	selfNet, _ := os.Readlink(filepath.Join(procRoot, "self/ns/net"))
	selfMnt, _ := os.Readlink(filepath.Join(procRoot, "self/ns/mnt"))
	var out []Process
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil || pid <= 0 {
			continue
		}
		dir := filepath.Join(procRoot, n)
		comm, err := os.ReadFile(filepath.Join(dir, "comm"))
		if err != nil || !serverComms[strings.TrimSpace(string(comm))] {
			continue
		}
		p := Process{PID: pid, Comm: strings.TrimSpace(string(comm))}
		if err := readStatus(filepath.Join(dir, "status"), &p); err != nil {
			continue // exited between the listing and now
		}
		p.SocketInodes, p.FDErr = socketInodes(filepath.Join(dir, "fd"))
		net, err1 := os.Readlink(filepath.Join(dir, "ns/net"))
		mnt, err2 := os.Readlink(filepath.Join(dir, "ns/mnt"))
		if err := errors.Join(err1, err2); err != nil {
			p.NSErr = err
		} else {
			p.OtherNetNS = net != selfNet
			p.OtherMountNS = mnt != selfMnt
		}
		p.Cwd, _ = os.Readlink(filepath.Join(dir, "cwd"))
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, nil
}

// readStatus reads the effective uid and gid of a process.
func readStatus(path string, p *Process) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 64<<10))
	got := 0
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		f := strings.Fields(v)
		if len(f) < 2 || (k != "Uid" && k != "Gid") {
			continue
		}
		id, err := strconv.ParseUint(f[1], 10, 32)
		if err != nil {
			return fmt.Errorf("%s: %s: %v", path, k, err)
		}
		if k == "Uid" {
			p.UID = uint32(id)
		} else {
			p.GID = uint32(id)
		}
		got++
	}
	if got != 2 {
		return fmt.Errorf("%s: no Uid/Gid lines", path)
	}
	return sc.Err()
}

// maxFDs bounds the descriptors read per process (maxclients is 10000 by
// default).
const maxFDs = 1 << 17

// socketInodes reads the socket inodes of a process's descriptors: the
// link text is "socket:[INODE]". Reading needs the process's uid or
// CAP_SYS_PTRACE.
func socketInodes(fdDir string) (map[uint64]bool, error) {
	d, err := os.Open(fdDir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(maxFDs)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	out := map[uint64]bool{}
	for _, n := range names {
		t, err := os.Readlink(filepath.Join(fdDir, n))
		if err != nil {
			continue // closed meanwhile
		}
		if s, ok := strings.CutPrefix(t, "socket:["); ok {
			if ino, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64); err == nil {
				out[ino] = true
			}
		}
	}
	return out, nil
}
