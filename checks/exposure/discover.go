package exposure

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/deploy"
	"github.com/sensu-community/sensu-redis-security-checks/checks/plugin"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// discoverShare is the part of the deadline the walk may take; the scan
// of every node's ports gets the rest.
const discoverShare = 0.4

// discoverOptions are the connection settings of the walk: the scan
// itself never logs in, but reading a deployment's membership may need
// to (the password comes from $REDIS_PASSWORD only).
func (c *Options) discoverOptions() []plugin.ConfigOption {
	return append(c.Discover.ConfigOptions(),
		&plugin.Option[string]{Path: "discover-ca-cert", Argument: "discover-ca-cert", Value: &c.discoverConn.CACert,
			Usage: "`FILE` of PEM CA certificates to verify TLS nodes with while discovering"},
		&plugin.Option[string]{Path: "discover-cert", Argument: "discover-cert", Value: &c.discoverConn.Cert,
			Usage: "`FILE` of the PEM client certificate to present to TLS nodes while discovering"},
		&plugin.Option[string]{Path: "discover-key", Argument: "discover-key", Value: &c.discoverConn.Key,
			Usage: "`FILE` of the PEM private key of --discover-cert"},
	)
}

var errDiscoverTargets = errors.New("--discover takes the seeds as --target HOST:PORT, one address and port each")

func (c *Options) validateDiscover(getenv func(string) string) error {
	if err := c.Discover.Validate(); err != nil {
		return err
	}
	if !c.Discover.Enabled {
		return nil
	}
	for _, t := range c.Targets {
		if t.Port == 0 || (t.Host == "" && t.Prefix.Bits() != t.Prefix.Addr().BitLen()) {
			return errDiscoverTargets
		}
	}
	conn := c.discoverConn
	conn.Host, conn.Port = "127.0.0.1", 6379 // placeholders: replaced per node
	if err := conn.Validate(getenv); err != nil {
		return err
	}
	c.discoverConn = conn
	return nil
}

// RunDeployment discovers the deployment from the --target seeds and tries
// every port of every node from here.
func (c *Options) RunDeployment(ctx context.Context) result.Result {
	var seeds []deploy.HostPort
	for _, t := range c.Targets {
		h := t.Host
		if h == "" {
			h = t.Prefix.Addr().String()
		}
		seeds = append(seeds, deploy.HostPort{Host: h, Port: t.Port})
	}
	wctx, cancel := context.WithTimeout(ctx, partOf(ctx, discoverShare))
	d := deploy.Discover(wctx, deploy.Config{Seeds: seeds, Scope: c.Discover.Scope, Conn: c.discoverConn,
		MaxNodes: c.Discover.MaxNodes, NodeTimeout: c.AttemptTimeout})
	cancel()
	targets, owner := NodeTargets(d)
	if c.Expect == ExpectUnreachable {
		// A node's other Redis ports: the walk knows only what it read,
		// and from an untrusted segment it reads little; an open port it
		// never heard of is still an open port. (From a trusted one, a
		// port the node does not serve would count as a failure.)
		hosts, hostOwner := HostTargets(d, targets, c.Ports)
		targets = append(targets, hosts...)
		maps.Copy(owner, hostOwner)
	}
	s := Scanner{Ports: c.Ports, Timeout: c.AttemptTimeout, Concurrency: c.Concurrency}
	rep := s.Scan(ctx, targets)
	v := FindVantage(c.Agent, rep.Outcomes)
	rep.Vantage = &v
	res := Judge(*c, rep)
	byNode := map[string][]Outcome{}
	for _, o := range rep.Outcomes {
		if n, ok := owner[o.Target]; ok {
			byNode[n.Key()] = append(byNode[n.Key()], o)
		}
	}
	judgeMembership(c.Expect, d, &res)
	res.Summary = fmt.Sprintf("%d nodes discovered: %s", len(d.Nodes), res.Summary)
	if c.Discover.NodeEvents != "" {
		var evs []deploy.NodeEvent
		for _, n := range d.Nodes {
			nr := Judge(*c, Facts{Outcomes: byNode[n.Key()]})
			nr.Finalize()
			v := deploy.NodeVerdict{Node: n, Result: nr}
			evs = append(evs, deploy.NodeEvent{Node: n, Status: v.State().ExitCode(), Output: v.Output(Name)})
		}
		check := c.Discover.EventCheck(Name)
		for _, err := range deploy.PostNodeEvents(ctx, c.Discover.NodeEvents, check, evs) {
			res.Add(result.Warning, "node event not posted: %v", err)
		}
	}
	res.Finalize()
	return res
}

// NodeTargets turns every port of every node into a target whose text
// names the node, its role and the port's use, so each finding says which
// node it is about. owner maps the text back to the node.
func NodeTargets(d deploy.Deployment) ([]Target, map[string]deploy.Node) {
	var ts []Target
	owner := map[string]deploy.Node{}
	for _, n := range d.Nodes {
		ports := n.Ports
		if len(ports) == 0 {
			ports = []deploy.Port{{Kind: deploy.PortData, Port: n.Port}}
		}
		for _, p := range ports {
			text := fmt.Sprintf("%s %s", n.Label(), p.Kind)
			ts = append(ts, Target{Text: text, Prefix: netip.PrefixFrom(n.Addr, n.Addr.BitLen()), Port: p.Port})
			owner[text] = n
		}
	}
	return ts, owner
}

// HostTargets tries every node's address on ports (--ports), but for the
// ports some node already has there (known, the targets of NodeTargets).
func HostTargets(d deploy.Deployment, known []Target, ports []int) ([]Target, map[string]deploy.Node) {
	seen := map[netip.AddrPort]bool{}
	for _, t := range known {
		seen[netip.AddrPortFrom(t.Prefix.Addr(), uint16(t.Port))] = true
	}
	var ts []Target
	owner := map[string]deploy.Node{}
	for _, n := range d.Nodes {
		text := n.Label() + " host, --ports"
		for _, p := range ports {
			ap := netip.AddrPortFrom(n.Addr, uint16(p))
			if seen[ap] {
				continue
			}
			seen[ap] = true
			ts = append(ts, Target{Text: text, Prefix: netip.PrefixFrom(n.Addr, n.Addr.BitLen()), Port: p})
			owner[text] = n
		}
	}
	return ts, owner
}

// judgeMembership adds what the walk could not do. From a trusted vantage
// point (--expect reachable) a node that cannot be read is UNKNOWN; from an
// untrusted one, closed nodes cannot be read by design, so only a walk that
// read no node at all is worth a WARNING: the seeds were all it could try.
func judgeMembership(e Expectation, d deploy.Deployment, res *result.Result) {
	read := 0
	for _, n := range d.Nodes {
		if n.Read {
			read++
			continue
		}
		if e == ExpectReachable {
			res.Add(result.Unknown, "%s: membership not read: %s", n.Label(), n.ReadErr)
		}
	}
	if e == ExpectUnreachable && len(d.Nodes) > 0 {
		if read == 0 {
			res.Add(result.Warning, "discovery read no node from here: only the seeds and their hosts' --ports were tried; members beyond them are unknown")
		} else if read < len(d.Nodes) {
			res.Add(result.OK, "%d of %d nodes could not be read from here (their ports were tried)", len(d.Nodes)-read, len(d.Nodes))
		}
	}
	for _, x := range d.Rejected {
		res.Add(result.Warning, "not tried: %s announced by %s as a %s: %s", deploy.HostPort{Host: x.Text, Port: x.Port}, x.Source, x.Role, x.Reason)
	}
	for _, p := range d.Problems {
		res.Add(result.Unknown, "discovery incomplete: %s", p)
	}
}

func partOf(ctx context.Context, share float64) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return 5 * time.Second
	}
	return time.Duration(float64(time.Until(dl)) * share)
}
