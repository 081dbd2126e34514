package tlscheck

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/deploy"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// discoverShare is the part of the deadline the walk may take.
const discoverShare = 0.35

// maxNodeChecks bounds the nodes checked at once: each check itself runs
// a dozen handshakes in parallel.
const maxNodeChecks = 6

// RunDeployment discovers the deployment from --host/--port and runs the
// TLS check against every node's TLS port, the node's plaintext data port
// counting as a --plaintext-port; tls-replication and tls-cluster must
// agree across the nodes where CONFIG could be read.
func (c *Options) RunDeployment(ctx context.Context) result.Result {
	wctx, cancel := context.WithTimeout(ctx, part(ctx, discoverShare))
	d := deploy.Discover(wctx, deploy.Config{
		Seeds:    []deploy.HostPort{{Host: c.Conn.Host, Port: c.Conn.Port}},
		Scope:    c.Discover.Scope,
		Conn:     c.Conn,
		MaxNodes: c.Discover.MaxNodes,
	})
	cancel()
	vs := make([]deploy.NodeVerdict, len(d.Nodes))
	sem := make(chan struct{}, maxNodeChecks)
	var wg sync.WaitGroup
	for i, n := range d.Nodes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			vs[i] = deploy.NodeVerdict{Node: n, Result: c.checkNode(ctx, n)}
		}()
	}
	wg.Wait()
	res := deploy.Combine(d, vs)
	for _, f := range JudgeTLSLinks(d.Nodes) {
		res.Findings = append(res.Findings, f)
	}
	res.Finalize()
	if c.Discover.NodeEvents != "" {
		evs := make([]deploy.NodeEvent, len(vs))
		for i, v := range vs {
			evs[i] = deploy.NodeEvent{Node: v.Node, Status: v.State().ExitCode(), Output: v.Output(Name)}
		}
		check := c.Discover.EventCheck(Name)
		for _, err := range deploy.PostNodeEvents(ctx, c.Discover.NodeEvents, check, evs) {
			res.Add(result.Warning, "node event not posted: %v", err)
		}
		res.Finalize()
	}
	return res
}

// checkNode runs the one-server check against a node's TLS port.
func (c *Options) checkNode(ctx context.Context, n deploy.Node) result.Result {
	port := n.PortOf(deploy.PortTLS)
	if port == 0 && n.Role == deploy.RoleSentinel && n.ReadTLS {
		port = n.Port
	}
	if port == 0 {
		switch {
		case !n.Read:
			return result.Unknownf("TLS not verified: the node could not be read (%s) and announced no TLS port", n.ReadErr)
		case n.Role == deploy.RoleSentinel:
			return result.Result{State: result.Critical, Summary: "Sentinel answers in plaintext and no TLS port is known"}
		case n.Config["tls-port"] == "0":
			return result.Result{State: result.Critical, Summary: "no TLS listener (tls-port 0)"}
		}
		return result.Unknownf("TLS not verified: the node's tls-port could not be read (CONFIG GET refused)")
	}
	nc := *c
	nc.Conn.Host, nc.Conn.Port = n.Addr.String(), port
	if n.Source != "seed" {
		nc.Conn.ServerName = "" // a --server-name given for the seed is not every node's
	}
	nc.PlaintextPorts = append([]int(nil), c.PlaintextPorts...)
	if p := n.PortOf(deploy.PortData); p != 0 && p != port {
		nc.PlaintextPorts = append(nc.PlaintextPorts, p)
	}
	if n.Role == deploy.RoleSentinel && !n.ReadTLS && n.Port != port {
		nc.PlaintextPorts = append(nc.PlaintextPorts, n.Port)
	}
	r := Judge(nc, Gather(ctx, &nc))
	r.Finalize()
	return r
}

// JudgeTLSLinks compares tls-replication and tls-cluster across the data
// nodes whose CONFIG could be read: one node that replicates or gossips
// in plaintext undoes the others' TLS.
func JudgeTLSLinks(nodes []deploy.Node) []result.Finding {
	var out []result.Finding
	for _, key := range []string{"tls-replication", "tls-cluster"} {
		byValue := map[string][]string{}
		for _, n := range nodes {
			if n.Role == deploy.RoleSentinel || (key == "tls-cluster" && !n.Cluster) {
				continue
			}
			if v, ok := n.Config[key]; ok {
				byValue[v] = append(byValue[v], n.Key())
			}
		}
		if len(byValue) < 2 {
			if v, ok := only(byValue); ok {
				out = append(out, result.Finding{State: result.OK, Text: fmt.Sprintf("%s %s on every node that could be read", key, v)})
			}
			continue
		}
		var parts []string
		for v, ks := range byValue {
			sort.Strings(ks)
			parts = append(parts, fmt.Sprintf("%s on %s", v, strings.Join(ks, ", ")))
		}
		sort.Strings(parts)
		out = append(out, result.Finding{State: result.Warning, Text: fmt.Sprintf("%s differs across nodes: %s", key, strings.Join(parts, "; "))})
	}
	return out
}

func only(m map[string][]string) (string, bool) {
	for v := range m {
		return v, true
	}
	return "", false
}

func part(ctx context.Context, share float64) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return 5 * time.Second
	}
	return time.Duration(float64(time.Until(dl)) * share)
}
