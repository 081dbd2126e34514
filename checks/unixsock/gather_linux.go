package unixsock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/neterr"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconf"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
)

// Gather reads every source. It never fails: a source it cannot read is
// recorded with the reason.
func Gather(ctx context.Context, o *Options) Facts {
	in := Facts{TableErr: map[int]string{}}
	db, err := readDB(o.PasswdFile, o.GroupFile)
	if err != nil {
		in.DBErr = err.Error()
		db = &UserDB{}
	}
	in.DB = db

	if o.ConfigFile != "" {
		in.FilePath = o.ConfigFile
		cfg, err := redisconf.ParseFile(o.ConfigFile)
		switch {
		case err == nil:
			for _, d := range cfg.Directives {
				if d.Name == "unixsocket" && len(d.Args) == 1 {
					in.Declared = append(in.Declared, Declared{Path: d.Args[0], Where: d.Where()})
				}
			}
		case errors.Is(err, fs.ErrPermission):
			in.FileErr = fmt.Sprintf("%s is not readable by this user", o.ConfigFile)
		default:
			in.FileErr = err.Error()
		}
	}

	procs, err := findServers(o.ProcRoot)
	if err != nil {
		in.ProcErr = err.Error()
		return in
	}
	if o.PID != 0 {
		procs = onlyProcess(procs, o.PID)
		if len(procs) == 0 {
			in.ProcErr = fmt.Sprintf("--pid %d is not a running redis-server or valkey-server", o.PID)
			return in
		}
	}
	in.Processes = procs
	var selfTable []Listener
	var selfErr error
	selfRead := false
	for _, p := range procs {
		var table []Listener
		var terr error
		if p.OtherNetNS || p.NSErr != nil || o.ProcRoot != "/proc" {
			// Its own network namespace's table, through its /proc entry.
			table, terr = readTable(filepath.Join(o.ProcRoot, strconv.Itoa(p.PID), "net/unix"))
		} else {
			if !selfRead {
				selfTable, selfErr = dumpListeners()
				if selfErr != nil {
					selfTable, selfErr = readTable(filepath.Join(o.ProcRoot, "net/unix"))
				}
				selfRead = true
			}
			table, terr = selfTable, selfErr
		}
		if terr != nil {
			in.TableErr[p.PID] = terr.Error()
			continue
		}
		for _, l := range table {
			if p.SocketInodes != nil && !p.SocketInodes[l.Inode] {
				continue
			}
			if p.SocketInodes == nil && !declaredMatch(in.Declared, l.Name) {
				continue // unattributable without its descriptors
			}
			in.Sockets = append(in.Sockets, examine(ctx, o, p, l))
		}
	}
	return in
}

func declaredMatch(ds []Declared, name string) bool {
	for _, d := range ds {
		if d.Path == name {
			return true
		}
	}
	return false
}

func readTable(path string) ([]Listener, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseProcNetUnix(f)
}

// examine follows one listener's path and asks the server over it.
func examine(ctx context.Context, o *Options, p Process, l Listener) SocketFacts {
	sf := SocketFacts{Proc: p, Listener: l}
	if l.Abstract() || l.Name == "" {
		sf.ProbeErr = "abstract socket: not probed"
		if !p.OtherNetNS {
			sf.Probe, sf.ProbeErr = probe(ctx, l.Name, o) // Go dials "@name" in the abstract namespace
		}
		return sf
	}
	sf.Path = l.Name
	if !filepath.IsAbs(sf.Path) {
		if p.Cwd == "" {
			sf.WalkErr = fmt.Sprintf("bound to the relative path %q and the server's working directory is not readable", l.Name)
			return sf
		}
		sf.Path = filepath.Join(p.Cwd, sf.Path)
	}
	root := "/"
	if p.OtherMountNS || p.NSErr != nil || o.ProcRoot != "/proc" {
		root = filepath.Join(o.ProcRoot, strconv.Itoa(p.PID), "root")
	}
	ch, fi, err := walk(sf.Path, statUnder(root))
	if err != nil {
		sf.WalkErr = err.Error()
	} else {
		sf.Chain = ch
		if l.VFSIno != 0 && (fi.Ino != l.VFSIno || fi.Dev != kernelDev(l.VFSDev)) {
			sf.Stale = true
		}
	}
	dial := filepath.Join(root, sf.Path)
	if len(dial) > 107 {
		sf.ProbeErr = "path too long to connect to from here"
		return sf
	}
	sf.Probe, sf.ProbeErr = probe(ctx, dial, o)
	if sf.ProbeErr == "" {
		sf.Live = liveSocket(ctx, dial, o)
	}
	return sf
}

// probe sends PING without credentials; "" error with the reply's class.
func probe(ctx context.Context, addr string, o *Options) (resp.Class, string) {
	opts := redisconn.Options{Socket: addr}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := opts.Dial(pctx)
	if err != nil {
		if neterr.Classify(err) == neterr.Prohibited {
			return 0, "this check's user may not connect (run it as root or as the redis user)"
		}
		return 0, err.Error()
	}
	defer conn.Close()
	deadline, _ := pctx.Deadline()
	r, err := resp.Ping(conn, deadline)
	if err != nil {
		return 0, err.Error()
	}
	return r.Class, ""
}

// liveSocket reads the socket settings over the socket, with the
// configured credentials; nil when refused.
func liveSocket(ctx context.Context, addr string, o *Options) *LiveSocket {
	opts := redisconn.Options{Socket: addr, Username: o.Username, Password: o.password}
	c := opts.Client(ctx)
	defer c.Close()
	m, err := c.ConfigGet(ctx, "unixsocket*").Result()
	if err != nil {
		return nil
	}
	return &LiveSocket{Path: m["unixsocket"], Perm: m["unixsocketperm"], Group: m["unixsocketgroup"]}
}

func onlyProcess(ps []Process, pid int) []Process {
	for _, p := range ps {
		if p.PID == pid {
			return []Process{p}
		}
	}
	return nil
}
