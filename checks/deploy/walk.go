package deploy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
)

// Defaults of a walk.
const (
	DefaultMaxNodes = 64
	MaxMaxNodes     = MaxListed
	DefaultParallel = 8
	// DefaultNodeTimeout bounds the conversation with one node (each of
	// the plain and TLS tries), so a silent node costs no more.
	DefaultNodeTimeout = 2 * time.Second
)

// Config says where to start and how far to go.
type Config struct {
	// Seeds are the addresses the operator gave.
	Seeds []HostPort
	// Scope holds the only networks a discovered address may be in.
	Scope []netip.Prefix
	// Conn is the template of every connection: credentials and TLS
	// settings. Host, Port and Socket are replaced per node.
	Conn        redisconn.Options
	MaxNodes    int
	Parallel    int
	NodeTimeout time.Duration
	// Resolve looks a seed's host name up (nil: the system resolver).
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
}

// candidate is a node as one peer listed it.
type candidate struct {
	hp      HostPort
	role    Role
	cluster bool
	master  string
	flags   []string
	ports   []Port
	source  string
}

// Discover walks the deployment from the seeds until no new member turns
// up, the node cap is reached or ctx ends. It never returns an error: what
// it could not do is in the Deployment (ReadErr, Rejected, Problems).
func Discover(ctx context.Context, cfg Config) Deployment {
	if cfg.MaxNodes <= 0 {
		cfg.MaxNodes = DefaultMaxNodes
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = DefaultParallel
	}
	if cfg.NodeTimeout <= 0 {
		cfg.NodeTimeout = DefaultNodeTimeout
	}
	w := &walker{cfg: cfg, nodes: map[string]*Node{}, rejected: map[string]bool{}}
	var frontier []string
	for _, s := range cfg.Seeds {
		k, ok := w.seed(ctx, s)
		if ok {
			frontier = append(frontier, k)
		}
	}
	// Each round reads the nodes met in the last; the node cap bounds the
	// rounds.
	for len(frontier) > 0 && ctx.Err() == nil {
		found := w.readAll(ctx, frontier)
		frontier = frontier[:0]
		for _, c := range found {
			if k, isNew := w.merge(c); isNew {
				frontier = append(frontier, k)
			}
		}
	}
	var d Deployment
	for _, k := range w.order {
		n := w.nodes[k]
		if !n.Read && n.ReadErr == "" {
			n.ReadErr = "not read: the discovery deadline came first"
		}
		d.Nodes = append(d.Nodes, *n)
	}
	d.Rejected = w.rejects
	d.Problems = w.problems
	if ctx.Err() != nil {
		d.Problems = append(d.Problems, "the discovery deadline came before the walk ended")
	}
	return d
}

type walker struct {
	cfg      Config
	mu       sync.Mutex
	nodes    map[string]*Node
	order    []string
	rejected map[string]bool
	rejects  []Rejected
	problems []string
	capped   bool
}

func (w *walker) seed(ctx context.Context, s HostPort) (string, bool) {
	a, err := netip.ParseAddr(s.Host)
	if err != nil {
		resolve := w.cfg.Resolve
		if resolve == nil {
			resolve = func(ctx context.Context, h string) ([]netip.Addr, error) {
				return net.DefaultResolver.LookupNetIP(ctx, "ip", h)
			}
		}
		rctx, cancel := context.WithTimeout(ctx, w.cfg.NodeTimeout)
		addrs, rerr := resolve(rctx, s.Host)
		cancel()
		if rerr != nil || len(addrs) == 0 {
			w.problems = append(w.problems, fmt.Sprintf("seed %s: could not resolve %s", s, s.Host))
			return "", false
		}
		a = addrs[0]
	}
	n := &Node{Addr: a.Unmap(), Port: s.Port, Role: RoleUnknown, Source: "seed"}
	k := n.Key()
	if _, dup := w.nodes[k]; dup {
		return "", false
	}
	w.nodes[k] = n
	w.order = append(w.order, k)
	return k, true
}

// merge adds what a peer said of a node; isNew when it was not known.
func (w *walker) merge(c candidate) (key string, isNew bool) {
	reject := func(reason string) {
		rk := c.hp.String()
		if w.rejected[rk] {
			return
		}
		w.rejected[rk] = true
		w.rejects = append(w.rejects, Rejected{Text: c.hp.Host, Port: c.hp.Port, Role: c.role, Source: c.source, Reason: reason})
	}
	if c.hp.Host == "" || c.hp.Port == 0 {
		reject("announced no address")
		return "", false
	}
	a, err := netip.ParseAddr(c.hp.Host)
	if err != nil {
		reject("announced as a host name; the scope is by address")
		return "", false
	}
	a = a.Unmap()
	if !InScope(w.cfg.Scope, a) {
		reject("outside --discover-scope")
		return "", false
	}
	if a.IsUnspecified() || a.IsMulticast() {
		reject("not a unicast address")
		return "", false
	}
	k := Endpoint(a, c.hp.Port)
	n, ok := w.nodes[k]
	if !ok {
		if len(w.nodes) >= w.cfg.MaxNodes {
			if !w.capped {
				w.capped = true
				w.problems = append(w.problems, fmt.Sprintf("more than %d nodes: the rest are not read (--discover-max-nodes)", w.cfg.MaxNodes))
			}
			reject(fmt.Sprintf("over the node limit of %d", w.cfg.MaxNodes))
			return "", false
		}
		n = &Node{Addr: a, Port: c.hp.Port, Role: RoleUnknown, Source: c.source}
		w.nodes[k] = n
		w.order = append(w.order, k)
		isNew = true
	}
	if n.Role == RoleUnknown && c.role != "" {
		n.Role = c.role
	}
	n.Cluster = n.Cluster || c.cluster
	if n.Master == "" {
		n.Master = c.master
	}
	for _, f := range c.flags {
		if !contains(n.Flags, f) && len(n.Flags) < 16 {
			n.Flags = append(n.Flags, f)
		}
	}
	for _, p := range c.ports {
		n.addPort(p.Kind, p.Port)
	}
	return k, isNew
}

// InScope reports whether a is in one of the prefixes.
func InScope(scope []netip.Prefix, a netip.Addr) bool {
	for _, p := range scope {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// readAll reads the nodes with bounded parallelism.
func (w *walker) readAll(ctx context.Context, keys []string) []candidate {
	sem := make(chan struct{}, w.cfg.Parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var found []candidate
	for _, k := range keys {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		wg.Add(1)
		n := w.nodes[k]
		go func() {
			defer func() { <-sem; wg.Done() }()
			cs := w.read(ctx, n)
			mu.Lock()
			found = append(found, cs...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	// A stable order whatever the goroutines' timing: roles and sources of
	// a node merged in the same order on every run.
	sort.SliceStable(found, func(i, j int) bool { return found[i].source < found[j].source })
	return found
}

// read talks to one node: plain or TLS as the template says, then the
// other way when the first does not connect.
func (w *walker) read(ctx context.Context, n *Node) []candidate {
	// Plain first, then TLS, when the template is plain: a TLS listener
	// drops plain text at once. When it is TLS, a short handshake decides,
	// so that the password never goes out in clear to a TLS port: plain
	// Redis reads a ClientHello as a command and waits, or answers an error
	// that is no TLS record; either means plain.
	tries := []bool{false, true}
	if w.cfg.Conn.TLS {
		tries = []bool{w.speaksTLS(ctx, n)}
	}
	var firstErr error
	for _, useTLS := range tries {
		opts := w.cfg.Conn
		opts.Host, opts.Port, opts.Socket, opts.TLS = n.Addr.String(), n.Port, "", useTLS
		if n.Source != "seed" {
			opts.ServerName = "" // a name given for the seed is not every node's
		}
		nctx, cancel := context.WithTimeout(ctx, w.cfg.NodeTimeout)
		r, err := readNode(nctx, opts)
		cancel()
		if err == nil {
			w.mu.Lock()
			apply(n, r, useTLS)
			w.mu.Unlock()
			return r.found
		}
		if firstErr == nil {
			firstErr = err
		}
		if redisconn.ErrorCode(err) != "" || ctx.Err() != nil {
			break // the server answered: the mode was right
		}
	}
	w.mu.Lock()
	n.ReadErr = describe(firstErr)
	w.mu.Unlock()
	return nil
}

// tlsProbeTimeout bounds the handshake that tells TLS from plain: a TLS
// server answers a ClientHello in a round trip.
const tlsProbeTimeout = 500 * time.Millisecond

func (w *walker) speaksTLS(ctx context.Context, n *Node) bool {
	opts := w.cfg.Conn
	opts.Host, opts.Port, opts.Socket = n.Addr.String(), n.Port, ""
	if n.Source != "seed" {
		opts.ServerName = ""
	}
	hctx, cancel := context.WithTimeout(ctx, min(tlsProbeTimeout, w.cfg.NodeTimeout))
	defer cancel()
	c, err := opts.Dial(hctx)
	if err == nil {
		c.Close()
		return true
	}
	var rh tls.RecordHeaderError
	var ne net.Error
	return !errors.As(err, &rh) && !(errors.As(err, &ne) && ne.Timeout()) && !errors.Is(err, context.DeadlineExceeded)
}

func apply(n *Node, r nodeReport, overTLS bool) {
	n.Read, n.ReadTLS, n.Version, n.Config = true, overTLS, r.version, r.config
	if r.role != "" {
		n.Role = r.role
	}
	n.Cluster = n.Cluster || r.cluster
	if r.master != "" && n.Master == "" {
		n.Master = r.master
	}
	switch {
	case n.Role == RoleSentinel:
		n.addPort(PortSentinel, n.Port)
		n.Monitors, n.MasterView = r.monitors, r.view
	case overTLS:
		n.addPort(PortTLS, n.Port)
	default:
		n.addPort(PortData, n.Port)
	}
	for _, p := range r.ports {
		n.addPort(p.Kind, p.Port)
	}
}

// describe says why a node could not be read, without go-redis' wrapping.
func describe(err error) string {
	if err == nil {
		return "not read"
	}
	if c := redisconn.ErrorCode(err); c != "" {
		return "the server answered " + c + ": " + clip(strings.TrimPrefix(err.Error(), c+" "))
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Op + ": " + op.Err.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer within the per-node timeout"
	}
	return err.Error()
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
