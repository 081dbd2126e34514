package bind

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/sensu-community/sensu-redis-security-checks/checks/neterr"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
)

// Live is what the running server says about itself.
type Live struct {
	Version    Version
	VersionRaw string
	Server     string // "redis" or "valkey"
	Mode       string // standalone, cluster, sentinel
	ConfigFile string
	PID        int
	TCPPort    int
	Listeners  []InfoListener // 7.2+ INFO listener lines

	// From CONFIG GET; ConfigErr says why they are missing, ConfigBroken
	// that the server broke off the conversation or sent a reply the check
	// refuses.
	ConfigErr      string
	ConfigBroken   bool
	Bind           *string
	Port           *int
	TLSPort        *int
	ClusterEnabled *bool
	ClusterPort    *int
	ProtectedMode  *bool

	// AuthRequired is known when the check connected without a password
	// and was refused with NOAUTH.
	AuthRequired bool

	// Peer is the address the TCP connection that answered reached (the
	// name resolved, the mapping undone); invalid over a UNIX socket.
	Peer netip.AddrPort
}

// InfoListener is one `listenerN:name=tcp,bind=…,port=…` line.
type InfoListener struct {
	Name  string
	Binds []string
	Port  int
}

// LiveError says why the server could not be asked at all.
type LiveError struct {
	Reason string
	Err    error
}

func (e *LiveError) Error() string { return e.Reason }
func (e *LiveError) Unwrap() error { return e.Err }

// refused reports a reply the connection's guard refused (over a cap, or
// not RESP): the peer is broken or hostile, which no other source excuses.
func refused(err error) bool { return neterr.Classify(err) == neterr.Guard }

// inconsistentError: CONFIG GET answered about other parameters.
type inconsistentError struct {
	name string
	keys []string
}

func (e *inconsistentError) Error() string {
	return fmt.Sprintf("CONFIG GET %s answered about %q instead", e.name, e.keys)
}

// broken: see redisconn.Broken.
func broken(err error) bool { return redisconn.Broken(err) }

// maxBindAddrs is CONFIG_BINDADDR_MAX of Redis and Valkey.
const maxBindAddrs = 16

// QueryLive asks the server for its bind-related settings. It never sends
// CONFIG GET * and never asks for requirepass.
func QueryLive(ctx context.Context, o *redisconn.Options) (*Live, error) {
	c := o.Client(ctx)
	defer c.Close()
	l := &Live{}
	c.AddHook(peerHook{&l.Peer})
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return nil, &LiveError{Reason: describe(err, o, "INFO"), Err: err}
	}
	parseInfo(info, l)
	if l.VersionRaw == "" {
		// Every Redis and Valkey (and Sentinel) names its version in INFO
		// server; a reply without one (an integer read as text, a bare
		// string) is no server's, and nothing after it can be trusted.
		err := fmt.Errorf("INFO server answered %.40q, which names no version", info)
		return nil, &LiveError{Reason: describe(err, o, "INFO"), Err: err}
	}
	if l.Mode == "sentinel" {
		l.ConfigErr = "Sentinel has no CONFIG command"
		return l, nil
	}
	get := func(name string) (string, bool, error) {
		m, err := c.ConfigGet(ctx, name).Result()
		if err != nil {
			return "", false, err
		}
		v, ok := m[name]
		if !ok && len(m) > 0 {
			// An answer about another parameter: nothing it says can be
			// trusted (no answer at all is how older servers and builds
			// without TLS answer for a parameter they lack).
			return "", false, &inconsistentError{name: name, keys: slices.Sorted(maps.Keys(m))}
		}
		return v, ok, nil
	}
	bind, ok, err := get("bind")
	if err != nil {
		l.ConfigErr, l.ConfigBroken = describe(err, o, "CONFIG"), broken(err)
		return l, nil
	}
	if n := len(strings.Fields(bind)); n > maxBindAddrs {
		// Redis and Valkey refuse more (CONFIG_BINDADDR_MAX): a longer
		// list is no real server's, and judging it would cost the check
		// memory a peer chose.
		err := fmt.Errorf("CONFIG GET bind answered %d addresses; a server allows %d", n, maxBindAddrs)
		l.ConfigErr, l.ConfigBroken = describe(err, o, "CONFIG"), true
		return l, nil
	}
	if ok {
		l.Bind = &bind
	}
	ints := map[string]**int{"port": &l.Port, "tls-port": &l.TLSPort, "cluster-port": &l.ClusterPort}
	for _, name := range []string{"port", "tls-port", "cluster-port"} {
		v, ok, err := get(name)
		if err != nil {
			l.ConfigErr, l.ConfigBroken = describe(err, o, "CONFIG"), broken(err)
			return l, nil
		}
		if n, perr := strconv.Atoi(v); ok && perr == nil {
			*ints[name] = &n
		}
	}
	for name, dst := range map[string]**bool{"cluster-enabled": &l.ClusterEnabled, "protected-mode": &l.ProtectedMode} {
		v, ok, err := get(name)
		if err != nil {
			l.ConfigErr, l.ConfigBroken = describe(err, o, "CONFIG"), broken(err)
			return l, nil
		}
		if ok {
			b := v == "yes"
			*dst = &b
		}
	}
	return l, nil
}

// describe turns a client error into a reason a user can act on. sent is
// the command that failed; the login (HELLO, AUTH) goes with the first one.
func describe(err error, o *redisconn.Options, sent string) string {
	switch code := redisconn.ErrorCode(err); {
	case refused(err):
		return fmt.Sprintf("%s sent a reply the check refuses (%v)", o.Addr(), err)
	case code == "NOAUTH":
		if o.Password == "" {
			return "the server requires a password; set $" + redisconn.PasswordEnv
		}
		return "authentication failed (NOAUTH)"
	case code == "WRONGPASS":
		return "authentication failed: wrong user name or password"
	case code == "NOPERM":
		return "the user may not run " + sent + " (NOPERM); grant it +info and +config|get"
	case code == "DENIED":
		return "refused by protected mode (connect from loopback or set a password)"
	case redisconn.IsUnknownCommand(err):
		name, _ := redisconn.UnknownCommandName(err)
		if name == "" {
			name = sent
		}
		switch name {
		case "AUTH", "HELLO":
			return name + " is renamed or disabled: the check cannot log in"
		}
		return name + " is renamed or disabled"
	case code != "":
		return "the server answered " + err.Error()
	}
	switch neterr.Classify(err) {
	case neterr.Reset:
		// What a 7.x server without a password does to a non-local client
		// after sending -DENIED.
		return fmt.Sprintf("%s reset the connection (protected mode refuses non-local clients while the default user has no password)", o.Addr())
	case neterr.Timeout:
		return fmt.Sprintf("no answer from %s before the deadline", o.Addr())
	}
	if broken(err) {
		return fmt.Sprintf("%s gave no usable answer (broke off, or answered what no Redis answers): %v", o.Addr(), err)
	}
	return fmt.Sprintf("cannot connect to %s: %v", o.Addr(), err)
}

// parseInfo reads the fields of INFO server the check uses.
func parseInfo(info string, l *Live) {
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok {
			continue
		}
		switch {
		case k == "redis_version" && l.VersionRaw == "":
			l.VersionRaw = v
		case k == "valkey_version":
			l.VersionRaw = v
		case k == "server_name":
			l.Server = v
		case k == "redis_mode" || k == "server_mode":
			l.Mode = v
		case k == "config_file":
			l.ConfigFile = v
		case k == "process_id":
			l.PID, _ = strconv.Atoi(v)
		case k == "tcp_port":
			l.TCPPort, _ = strconv.Atoi(v)
		case strings.HasPrefix(k, "listener"):
			l.Listeners = append(l.Listeners, parseListener(v))
		}
	}
	if l.Server == "" {
		l.Server = "redis"
	}
	l.Version = ParseVersion(l.VersionRaw)
}

func parseListener(v string) InfoListener {
	var il InfoListener
	for _, kv := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(kv, "=")
		switch k {
		case "name":
			il.Name = val
		case "bind":
			il.Binds = append(il.Binds, val)
		case "port":
			il.Port, _ = strconv.Atoi(val)
		}
	}
	return il
}

// peerHook records the remote address of each connection the client dials
// (one: the client keeps a single connection and never retries).
type peerHook struct{ peer *netip.AddrPort }

func (h peerHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err == nil {
			if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
				ap := ta.AddrPort()
				*h.peer = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
			}
		}
		return c, err
	}
}

func (peerHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (peerHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

var _ redis.Error // the client's error type is what ErrorCode reads
