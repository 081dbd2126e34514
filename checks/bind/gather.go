package bind

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconf"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/sockets"
)

// Gather reads every source the options allow. It never fails: a source it
// cannot read is recorded with the reason.
func Gather(ctx context.Context, o *Options) Facts {
	in := Facts{Target: o.Conn.Addr(), TargetPort: o.Conn.Port}
	if o.Conn.Socket != "" {
		in.TargetPort = 0 // asked over the UNIX socket: no TCP port to expect
	}
	// A UNIX socket is always this host's.
	in.Local = o.Conn.Socket != "" || isLocalHost(ctx, o.Conn.Host)

	live, err := QueryLive(ctx, &o.Conn)
	if err != nil {
		in.LiveErr, in.LiveBroken = err.Error(), broken(err)
	} else {
		in.Live = live
	}

	path := o.ConfigFile
	if path == "" && in.Live != nil && in.Local {
		path = in.Live.ConfigFile
	}
	if path != "" {
		in.FilePath = path
		cfg, err := redisconf.ParseFile(path)
		switch {
		case err == nil:
			in.File = cfg
		case errors.Is(err, fs.ErrPermission):
			in.FileErr = fmt.Sprintf("%s is not readable by this user (grant read access, e.g. add the user to the redis group)", path)
		default:
			in.FileErr = err.Error()
		}
		in.FileIsSentinel = strings.Contains(filepath.Base(path), "sentinel") || (in.Live != nil && in.Live.Mode == "sentinel")
	} else if in.Live != nil && in.Live.ConfigFile == "" && in.Local {
		in.FileErr = "the server was started without a config file"
	} else {
		in.FileErr = "not given (--config-file) and not reported by the server"
	}
	if in.File != nil && in.Live != nil && in.Local && in.Live.PID > 0 {
		in.CmdlineNote = applyCmdline(o.ProcRoot, in.Live.PID, in.File)
	}

	if in.Local {
		ls, err := sockets.Listening(o.ProcRoot)
		if err != nil {
			in.SocketsErr = err.Error()
		} else {
			in.Sockets = ls
			if in.Sockets == nil {
				in.Sockets = []sockets.Listener{}
			}
		}
		if ln, err := readLocalnet(o.ProcRoot); err != nil {
			in.LocalnetErr = err.Error()
		} else {
			in.Localnet = ln
		}
	}
	in.Resolved = resolveNames(ctx, in)
	return in
}

// applyCmdline appends the server's command-line overrides to the file's
// directives, as redis-server applies them after the file. Redis rewrites
// its process title, so the original arguments are often gone: then it says
// so and changes nothing.
func applyCmdline(procRoot string, pid int, cfg *redisconf.Config) string {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return "not readable: " + err.Error()
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	if len(args) < 2 {
		return fmt.Sprintf("rewritten by the process title (%q); overrides, if any, are not visible", strings.Join(args, " "))
	}
	_, ds, err := redisconf.FromArgs(args[1:])
	if err != nil {
		return fmt.Sprintf("not understood (%v)", err)
	}
	if len(ds) == 0 {
		return "no overrides"
	}
	cfg.Directives = append(cfg.Directives, ds...)
	return fmt.Sprintf("%d override(s) applied after the file", len(ds))
}

// resolveNames resolves host names found in bind values, within ctx.
func resolveNames(ctx context.Context, in Facts) map[string][]netip.Addr {
	names := map[string]bool{}
	collect := func(words []string) {
		for _, w := range words {
			if e := ParseEntry(w); e.Kind == Hostname && w != "" {
				names[strings.TrimPrefix(w, "-")] = true
			}
		}
	}
	if in.Live != nil && in.Live.Bind != nil {
		collect(strings.Fields(*in.Live.Bind))
	}
	if in.File != nil {
		if d, ok := in.File.Last("bind"); ok {
			collect(d.Args)
		}
	}
	out := map[string][]netip.Addr{}
	for n := range names {
		addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", n)
		if err == nil && len(addrs) > 0 {
			for i := range addrs {
				addrs[i] = addrs[i].Unmap()
			}
			out[n] = addrs
		}
	}
	return out
}

// isLocalHost reports whether host is an address of this machine (or names
// one), so that the local file and socket table describe the target.
func isLocalHost(ctx context.Context, host string) bool {
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a.Unmap()}
	} else if host == "localhost" {
		return true
	} else if as, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host); err == nil {
		addrs = as
	}
	ifaddrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		a = a.Unmap()
		if a.IsLoopback() {
			return true
		}
		for _, ia := range ifaddrs {
			if p, err := netip.ParsePrefix(ia.String()); err == nil && p.Addr().Unmap() == a {
				return true
			}
		}
	}
	return false
}

var _ = redisconn.PasswordEnv
