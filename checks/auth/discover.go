package auth

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/deploy"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// discoverShare is the part of the deadline the walk may take; the
// probes of every node get the rest.
const discoverShare = 0.4

// maxNodeChecks bounds the nodes probed at once.
const maxNodeChecks = 8

var errDiscoverSocket = errors.New("--discover starts from --host and --port, not --socket")

func (o *Options) validateDiscover() error {
	if err := o.Discover.Validate(); err != nil {
		return err
	}
	if o.Discover.Enabled && o.Conn.Socket != "" {
		return errDiscoverSocket
	}
	return nil
}

// RunDeployment discovers the deployment from --host/--port and proves
// every node refuses clients without credentials (Sentinels included),
// and that each Sentinel can authenticate to the masters it monitors.
func RunDeployment(ctx context.Context, c Options) result.Result {
	d := discover(ctx, c)
	facts := make([]Facts, len(d.Nodes))
	sem := make(chan struct{}, maxNodeChecks)
	var wg sync.WaitGroup
	for i, n := range d.Nodes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			facts[i] = nodeFacts(ctx, c, n)
		}()
	}
	wg.Wait()
	byKey := map[string]Facts{}
	for i, n := range d.Nodes {
		byKey[n.Key()] = facts[i]
	}
	vs := make([]deploy.NodeVerdict, len(d.Nodes))
	for i, n := range d.Nodes {
		r := Judge(c, facts[i])
		if n.Role == deploy.RoleSentinel {
			r.Findings = append(r.Findings, judgeSentinelAuthPass(n, byKey)...)
		}
		vs[i] = deploy.NodeVerdict{Node: n, Result: r}
	}
	res := deploy.Combine(d, vs)
	if c.Conn.Password == "" && slices.ContainsFunc(vs, func(v deploy.NodeVerdict) bool { return v.Result.State == result.OK }) {
		// Without credentials an OK node is one that refused the probe:
		// one note for the deployment, not one per node.
		judgeUnaudited(&res)
		res.Finalize()
	}
	if c.Discover.NodeEvents != "" {
		postNodeEvents(ctx, c.Discover.NodeEvents, c.Discover.EventCheck(Name), vs, &res)
	}
	return res
}

func discover(ctx context.Context, c Options) deploy.Deployment {
	wctx, cancel := context.WithTimeout(ctx, share(ctx, discoverShare))
	defer cancel()
	return deploy.Discover(wctx, deploy.Config{
		Seeds:    []deploy.HostPort{{Host: c.Conn.Host, Port: c.Conn.Port}},
		Scope:    c.Discover.Scope,
		Conn:     c.Conn,
		MaxNodes: c.Discover.MaxNodes,
	})
}

// share is a part of what is left until ctx's deadline.
func share(ctx context.Context, part float64) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return 5 * time.Second
	}
	return time.Duration(float64(time.Until(dl)) * part)
}

// nodeFacts probes one node as Gather probes the one target: over TLS
// when the walk read it over TLS.
func nodeFacts(ctx context.Context, c Options, n deploy.Node) Facts {
	nc := c
	nc.Conn.Host, nc.Conn.Port = n.Addr.String(), n.Port
	if n.Source != "seed" {
		nc.Conn.ServerName = "" // a --server-name given for the seed is not every node's
	}
	if n.Read {
		nc.Conn.TLS = n.ReadTLS
	}
	return Gather(ctx, &nc)
}

// judgeSentinelAuthPass: Sentinel takes only PONG, LOADING and MASTERDOWN
// as a live master; a master that wants a password answers its PING with
// NOAUTH unless `sentinel auth-pass` is set, and Sentinel then sees it down
// (s_down) while it serves. So a master that refuses anonymous clients and
// that the Sentinel sees down points at a missing or wrong auth-pass.
func judgeSentinelAuthPass(s deploy.Node, byKey map[string]Facts) []result.Finding {
	var out []result.Finding
	add := func(st result.State, text string) { out = append(out, result.Finding{State: st, Text: text}) }
	for _, name := range s.Monitors {
		v := s.MasterView[name]
		a, err := netip.ParseAddr(v.IP)
		if err != nil {
			continue
		}
		key := deploy.Endpoint(a.Unmap(), v.Port)
		mf, ok := byKey[key]
		if !ok || mf.Probe.Err != nil {
			continue // out of scope or unreachable: that node's own line says so
		}
		if mf.Probe.Ping.Class != resp.NoAuth {
			continue // no password needed: nothing to configure
		}
		down := v.Has("s_down") || v.Has("o_down")
		last, err1 := strconv.ParseInt(v.Fields["last-ok-ping-reply"], 10, 64)
		after, err2 := strconv.ParseInt(v.Fields["down-after-milliseconds"], 10, 64)
		if err1 == nil && err2 == nil && last > after {
			down = true
		}
		if down {
			add(result.Critical, "Sentinel sees master "+name+" ("+key+") down while it answers clients (NOAUTH): `sentinel auth-pass "+name+"` is missing or wrong")
		} else {
			add(result.OK, "Sentinel authenticates to master "+name+" ("+key+"), which needs a password")
		}
	}
	return out
}

func postNodeEvents(ctx context.Context, url, check string, vs []deploy.NodeVerdict, res *result.Result) {
	evs := make([]deploy.NodeEvent, len(vs))
	for i, v := range vs {
		evs[i] = deploy.NodeEvent{Node: v.Node, Status: v.State().ExitCode(), Output: v.Output(Name)}
	}
	for _, err := range deploy.PostNodeEvents(ctx, url, check, evs) {
		res.Add(result.Warning, "node event not posted: %v", err)
	}
	res.Finalize()
}
