package bind

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/redisport"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
	"github.com/sensu-community/sensu-redis-security-checks/checks/sockets"
)

// DefaultPorts are the guide's Redis ports: data, cluster bus, Sentinel.
var DefaultPorts = redisport.Defaults()

// Judge decides the state from the options and the gathered facts. It
// does no I/O.
func Judge(o Options, in Facts) result.Result {
	var r result.Result
	j := judge{in: in, allow: o.allow, r: &r}
	j.sources()
	ports := j.ports()
	spec, haveSpec := j.effectiveSpec()
	if haveSpec {
		j.judgeSpec(spec)
	}
	j.fileVsLive()
	j.judgeForwarded(spec, haveSpec)
	if in.Local && in.Sockets != nil {
		j.judgeSockets(ports, spec, haveSpec)
	}
	j.unreadSources()
	j.protectedMode(spec, haveSpec)
	j.summarise(haveSpec, ports)
	return r
}

type judge struct {
	in         Facts
	allow      []netip.Prefix // --allow
	r          *result.Result
	observed   bool // a source that sees the running server was read
	anySource  bool
	wildSocket []sockets.Listener
	// kernelSaw: the socket table holds a listener on a Redis port, so
	// what is bound was seen, whatever else could not be read;
	// targetSeen: one on the target's port.
	kernelSaw, targetSeen bool
}

func (j *judge) sources() {
	in := j.in
	if in.Live != nil {
		j.observed, j.anySource = true, true
		if in.Live.ConfigErr == "" {
			j.r.Add(result.OK, "server %s %s at %s answered", in.Live.Server, in.Live.VersionRaw, in.Target)
		}
	}
	if in.File != nil {
		j.anySource = true
		note := ""
		if len(in.File.Files) > 1 {
			note = fmt.Sprintf(" (with %d included files)", len(in.File.Files)-1)
		}
		j.r.Add(result.OK, "config file %s read%s", in.FilePath, note)
	} else if in.FilePath != "" {
		// A file named (--config-file, or by the server) that cannot be
		// read leaves what a restart binds unverified.
		j.r.Add(result.Unknown, "config file: %s", in.FileErr)
	} else if in.FileErr != "" {
		j.r.Add(result.OK, "config file: %s", in.FileErr)
	}
	if in.CmdlineNote != "" {
		j.r.Add(result.OK, "command line: %s", in.CmdlineNote)
	}
	if in.Local {
		if in.Sockets != nil || in.SocketsErr == "" {
			j.observed, j.anySource = true, true
		} else {
			j.r.Add(result.Warning, "socket table: %s: what is bound was not verified by the kernel", in.SocketsErr)
		}
	} else {
		j.r.Add(result.OK, "socket table and config file of %s are not on this host; judged from the running config", in.Target)
	}
}

// ports are the Redis ports whose listeners count: the guide's three, the
// target's, and whatever the configuration says.
func (j *judge) ports() map[uint16]bool {
	ps := map[uint16]bool{}
	add := func(p int) {
		if p > 0 && p < 65536 {
			ps[uint16(p)] = true
		}
	}
	for _, p := range DefaultPorts {
		add(p.Int())
	}
	add(j.in.TargetPort)
	port := 0
	if l := j.in.Live; l != nil {
		if l.Port != nil {
			port = *l.Port
		} else {
			port = l.TCPPort
		}
		add(port)
		if l.TLSPort != nil {
			add(*l.TLSPort)
		}
		if l.ClusterPort != nil && *l.ClusterPort != 0 {
			add(*l.ClusterPort)
		} else if l.ClusterEnabled != nil && *l.ClusterEnabled && port > 0 {
			add(port + 10000)
		}
		for _, li := range l.Listeners {
			add(li.Port)
		}
	}
	if f := j.in.File; f != nil {
		fport := redisport.Data.Int()
		if j.in.FileIsSentinel {
			fport = redisport.Sentinel.Int()
		}
		if d, ok := f.Last("port"); ok && len(d.Args) == 1 {
			fport, _ = strconv.Atoi(d.Args[0])
		}
		add(fport)
		if d, ok := f.Last("tls-port"); ok && len(d.Args) == 1 {
			p, _ := strconv.Atoi(d.Args[0])
			add(p)
		}
		if d, ok := f.Last("cluster-port"); ok && len(d.Args) == 1 {
			p, _ := strconv.Atoi(d.Args[0])
			add(p)
		}
		if d, ok := f.Last("cluster-enabled"); ok && len(d.Args) == 1 && strings.EqualFold(d.Args[0], "yes") && fport > 0 {
			add(fport + 10000)
		}
	}
	return ps
}

// version is the server's, or 0.0 when only a file was read.
func (j *judge) version() Version {
	if j.in.Live != nil {
		return j.in.Live.Version
	}
	return Version{}
}

// effectiveSpec picks the bind that is in force: the running config when
// readable, else the 7.2+ listener lines, else the file.
func (j *judge) effectiveSpec() (Spec, bool) {
	v := j.version()
	if l := j.in.Live; l != nil && l.Bind != nil {
		src := "running config"
		if f := j.in.File; f != nil {
			// Point at the line to edit when the file agrees.
			d, ok := f.Last("bind")
			if ok && sameEntries(FromFile(true, d.Args, v.Major, "").Entries, FromLive(*l.Bind, v.Major, "").Entries) {
				src = "running config (" + d.Where() + ")"
			}
		}
		return FromLive(*l.Bind, v.Major, src), true
	}
	if l := j.in.Live; l != nil {
		for _, li := range l.Listeners {
			if li.Name == "tcp" || li.Name == "tls" {
				return FromLive(strings.Join(li.Binds, " "), v.Major, "INFO listener "+li.Name), true
			}
		}
	}
	if f := j.in.File; f != nil {
		d, ok := f.Last("bind")
		src := "config file " + j.in.FilePath
		if ok {
			src = "config file " + d.Where()
		}
		major := v.Major
		return FromFile(ok, d.Args, major, src), true
	}
	return Spec{}, false
}

func (j *judge) judgeSpec(s Spec) {
	if s.Meaning != "" {
		st := result.OK
		if s.Uncertain {
			st = result.Warning
		}
		j.r.Add(st, "%s: %s", s.Source, s.Meaning)
	}
	for _, e := range s.Entries {
		switch e.Kind {
		case AllIPv4, AllIPv6:
			j.r.Add(result.Critical, "%s binds %s: %s", s.Source, e.Text, wildcardWords(e))
		case Loopback:
			j.r.Add(result.OK, "%s binds %s (loopback)", s.Source, e.Text)
		case Specific:
			j.specific(s.Source+" binds", e.Text, e.Addr)
		case Hostname:
			name := strings.TrimPrefix(e.Text, "-")
			addrs, ok := j.in.Resolved[name]
			if !ok {
				j.r.Add(result.Warning, "%s binds host name %s, which does not resolve here: what it binds cannot be verified", s.Source, name)
				continue
			}
			for _, a := range addrs {
				if a.IsUnspecified() {
					j.r.Add(result.Critical, "%s binds host name %s, which resolves to %s: all interfaces", s.Source, name, a)
				} else if a.IsLoopback() {
					j.r.Add(result.OK, "%s binds host name %s (%s, loopback)", s.Source, name, a)
				} else {
					j.specific(s.Source+" binds host name", name+" ("+a.String()+")", a)
				}
			}
		case NoListen:
			j.r.Add(result.OK, "%s: no TCP listener", s.Source)
		}
	}
}

func wildcardWords(e Entry) string {
	w := "every IPv4 interface"
	if e.Kind == AllIPv6 {
		w = "every IPv6 interface"
	}
	if e.Optional {
		w += " (where available)"
	}
	return w
}

// specific judges one non-loopback address against --allow.
func (j *judge) specific(subject, text string, a netip.Addr) {
	if len(j.allow) == 0 {
		j.r.Add(result.OK, "%s %s (one host address)", subject, text)
		return
	}
	for _, p := range j.allow {
		if p.Contains(a) {
			j.r.Add(result.OK, "%s %s (allowed)", subject, text)
			return
		}
	}
	j.r.Add(result.Critical, "%s %s, which --allow does not list", subject, text)
}

// fileVsLive reports a running config that a restart would change.
func (j *judge) fileVsLive() {
	l, f := j.in.Live, j.in.File
	if l == nil || l.Bind == nil || f == nil {
		return
	}
	d, ok := f.Last("bind")
	fileSpec := FromFile(ok, d.Args, l.Version.Major, "")
	liveSpec := FromLive(*l.Bind, l.Version.Major, "")
	if sameEntries(fileSpec.Entries, liveSpec.Entries) {
		return
	}
	where := j.in.FilePath + " (no bind line)"
	if ok {
		where = d.Where()
	}
	j.r.Add(result.Warning, "running config binds %q but %s says %q: the running value was changed at run time and a restart will change what is bound",
		*l.Bind, where, strings.Join(d.Args, " "))
}

func sameEntries(a, b []Entry) bool {
	key := func(es []Entry) string {
		var ks []string
		for _, e := range es {
			ks = append(ks, strings.TrimPrefix(e.Text, "-"))
		}
		sort.Strings(ks)
		return strings.Join(ks, " ")
	}
	norm := func(es []Entry) []Entry { // * and 0.0.0.0 are the same thing
		out := make([]Entry, len(es))
		for i, e := range es {
			out[i] = e
			switch e.Kind {
			case AllIPv4:
				out[i].Text = "0.0.0.0"
			case AllIPv6:
				out[i].Text = "::"
			}
		}
		return out
	}
	return key(norm(a)) == key(norm(b))
}

// judgeSockets reads the kernel's truth and compares it with the config.
func (j *judge) judgeSockets(ports map[uint16]bool, spec Spec, haveSpec bool) {
	ls := sockets.OnPorts(j.in.Sockets, ports)
	sort.Slice(ls, func(a, b int) bool {
		if ls[a].Addr.Port() != ls[b].Addr.Port() {
			return ls[a].Addr.Port() < ls[b].Addr.Port()
		}
		return ls[a].Addr.Addr().Less(ls[b].Addr.Addr())
	})
	if len(ls) == 0 {
		j.r.Add(result.OK, "kernel: nothing listens on the Redis ports (%s)", portList(ports))
		switch {
		case j.in.Live != nil && j.in.TargetPort > 0:
			j.r.Add(result.Warning, "the server answered at %s but this network namespace has no listener on port %d: the socket table does not describe it (container or another namespace?)",
				j.in.Target, j.in.TargetPort)
		case j.in.Live == nil && haveSpec:
			j.r.Add(result.Warning, "no server answers at %s and nothing listens on the Redis ports here: "+
				"Redis is not running (or runs in another network namespace); only the config file was judged", j.in.Target)
		}
		return
	}
	j.kernelSaw = true
	for _, l := range ls {
		if int(l.Addr.Port()) == j.in.TargetPort {
			j.targetSeen = true
		}
	}
	if !j.targetSeen && j.in.Live == nil && j.in.TargetPort > 0 {
		j.r.Add(result.Warning, "no server answers at %s and nothing listens on port %d here: the Redis server asked about is not running "+
			"(or runs in another network namespace)", j.in.Target, j.in.TargetPort)
	}
	for _, l := range ls {
		a := l.Addr.Addr().Unmap()
		switch {
		case a.IsUnspecified():
			fam := "IPv4"
			if a.Is6() {
				fam = "IPv6"
			}
			j.r.Add(result.Critical, "kernel: listening on %s (every %s interface)", l.Addr, fam)
			j.wildSocket = append(j.wildSocket, l)
		case a.IsLoopback():
			j.loopback(l)
		default:
			j.specific("kernel: listening on", l.Addr.String(), a)
		}
	}
	if haveSpec && len(j.wildSocket) > 0 && !specHasWildcard(spec) {
		for _, l := range j.wildSocket {
			j.r.Add(result.Critical, "%s says bind %q, but the kernel shows %s: the configuration does not describe what is bound",
				spec.Source, spec.Text, l.Addr)
		}
	}
}

// loopback judges a listener on a loopback address: private to the host
// unless route_localnet lets outside packets reach 127.0.0.0/8.
func (j *judge) loopback(l sockets.Listener) {
	a, ln := l.Addr.Addr().Unmap(), j.in.Localnet
	switch {
	case a.Is6():
		// The kernel drops ::1 from outside whatever is set.
		j.r.Add(result.OK, "kernel: listening on %s (loopback)", l.Addr)
	case j.in.LocalnetErr != "":
		j.r.Add(result.Warning, "kernel: listening on %s (loopback), but whether other hosts can reach 127.0.0.0/8 here (net.ipv4.conf.*.route_localnet) could not be read: %s",
			l.Addr, j.in.LocalnetErr)
	case len(ln.Interfaces) > 0:
		j.r.Add(result.Warning, "kernel: listening on %s, loopback, but route_localnet is on for %s: hosts on those networks reach it by routing 127.0.0.1 to this host, "+
			"unless a firewall rule drops packets for 127.0.0.0/8 arriving there; set %s",
			l.Addr, ln.where(), ln.sysctlFix())
	default:
		j.r.Add(result.OK, "kernel: listening on %s (loopback)", l.Addr)
	}
}

func specHasWildcard(s Spec) bool {
	for _, e := range s.Entries {
		if e.Wildcard() {
			return true
		}
	}
	return false
}

func portList(ps map[uint16]bool) string {
	var xs []int
	for p := range ps {
		xs = append(xs, int(p))
	}
	sort.Ints(xs)
	var ss []string
	for _, p := range xs {
		ss = append(ss, strconv.Itoa(p))
	}
	return strings.Join(ss, ", ")
}

// protectedMode reports, as context, whether protected mode is in force.
func (j *judge) protectedMode(spec Spec, haveSpec bool) {
	l := j.in.Live
	if l == nil || l.ProtectedMode == nil {
		return
	}
	v := l.Version
	switch {
	case !*l.ProtectedMode:
		j.r.Add(result.OK, "protected-mode is off: only a password or the network keeps clients out")
	case l.Mode == "sentinel":
	case v.Known() && v.Major < 7 && haveSpec && spec.Present && strings.TrimSpace(spec.Text) != "":
		j.r.Add(result.OK, "protected-mode yes has no effect on Redis %s because a bind line is set", v)
	default:
		j.r.Add(result.OK, "protected-mode yes (in force only while the default user has no password: then non-local clients are refused)")
	}
}

// unreadSources reports the running server's configuration when it could
// not be read: only a note when the kernel showed what is bound, a warning
// when nothing else saw the running server.
func (j *judge) unreadSources() {
	in := j.in
	why := in.LiveErr
	if in.Live != nil {
		if in.Live.ConfigErr == "" {
			return
		}
		why = fmt.Sprintf("server %s %s answered; its CONFIG could not be read: %s", in.Live.Server, in.Live.VersionRaw, in.Live.ConfigErr)
	}
	st := result.Warning
	if j.targetSeen {
		st = result.OK
	}
	// A server that broke off mid-reply is not a Redis whose word counts.
	if broken := in.LiveBroken || (in.Live != nil && in.Live.ConfigBroken); broken {
		st = result.Unknown
	}
	if in.Live == nil {
		j.r.Add(st, "server at %s: %s", in.Target, why)
	} else {
		j.r.Add(st, "%s", why)
	}
}

func (j *judge) summarise(haveSpec bool, ports map[uint16]bool) {
	r := j.r
	switch {
	case !j.anySource:
		r.State = result.Unknown
		r.Summary = "no source could be read: " + j.in.LiveErr
		return
	case !haveSpec && !j.kernelSaw:
		// No configuration and no listener: nothing was verified, and
		// "nothing listens" on ports guessed without a configuration is
		// no proof that Redis is not exposed elsewhere.
		r.State = result.Unknown
		r.Summary = "nothing verified: " + j.nothingVerified(ports)
		return
	case !j.observed:
		// Only a file: it says what will be bound, not what is.
		r.Add(result.Warning, "the running server and the socket table could not be read; judged from the config file alone")
	}
	r.Finalize()
	if r.State == result.OK {
		r.Summary = "no Redis listener is bound to a wildcard address"
	}
}

// nothingVerified says why no source showed what is bound.
func (j *judge) nothingVerified(ports map[uint16]bool) string {
	in := j.in
	why := "server at " + in.Target + ": " + in.LiveErr
	if in.Live != nil {
		why = "the running config could not be read: " + in.Live.ConfigErr
	}
	switch {
	case !in.Local:
		return why + "; the socket table and config file of " + in.Target + " are not on this host"
	case in.Sockets == nil:
		return why + "; socket table: " + in.SocketsErr
	}
	file := in.FileErr
	if file == "" {
		file = "not read"
	}
	return fmt.Sprintf("%s; config file: %s; and nothing listens on the Redis ports (%s)", why, file, portList(ports))
}
