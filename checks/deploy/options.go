package deploy

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/plugin"
)

// Options are the discovery flags a check adds (--discover and its kin).
type Options struct {
	Enabled   bool
	ScopeArgs []string
	MaxNodes  int
	// NodeEvents is the Sensu agent events API to post one event per node
	// to ("" = off).
	NodeEvents string
	// CheckName is the name of the Sensu check definition that runs the
	// binary (from the event on stdin), given to the node events so that
	// they file under the same check as the summary.
	CheckName string

	Scope []netip.Prefix
}

// EventCheck is the check name of the node events: the definition's name
// when the event on stdin gave it, else the binary's.
func (o *Options) EventCheck(binary string) string {
	if o.CheckName != "" {
		return o.CheckName
	}
	return binary
}

// ConfigOptions returns the options that fill o.
func (o *Options) ConfigOptions() []plugin.ConfigOption {
	return []plugin.ConfigOption{
		&plugin.Option[bool]{Path: "discover", Argument: "discover", Value: &o.Enabled,
			Usage: "treat the target as a seed: discover the whole deployment (Sentinel, Cluster, replicas) and check every node"},
		&plugin.SliceOption[string]{Path: "discover-scope", Argument: "discover-scope", Value: &o.ScopeArgs, UseCobraStringArray: true,
			Usage: "CIDR a discovered address must be in to be checked (repeatable; commas also separate; required with --discover); others are reported, never connected to"},
		&plugin.Option[int]{Path: "discover-max-nodes", Argument: "discover-max-nodes", Value: &o.MaxNodes, Default: DefaultMaxNodes,
			Usage: fmt.Sprintf("most nodes a discovery follows (at most %d)", MaxMaxNodes)},
		&plugin.Option[string]{Path: "node-events", Argument: "node-events", Value: &o.NodeEvents,
			Usage: "`URL` of a Sensu agent events API (http://127.0.0.1:3031/events) to post one event per discovered node to, filed under a proxy entity per node (off by default)"},
	}
}

// Validate parses the scope and checks the combination.
func (o *Options) Validate() error {
	o.Scope = nil
	for _, arg := range o.ScopeArgs {
		for _, f := range strings.FieldsFunc(arg, func(r rune) bool { return r == ',' || r == ' ' }) {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				a, aerr := netip.ParseAddr(f)
				if aerr != nil {
					return fmt.Errorf("--discover-scope %q is not a CIDR block", f)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			o.Scope = append(o.Scope, p.Masked())
		}
	}
	if !o.Enabled {
		if len(o.Scope) > 0 || o.NodeEvents != "" {
			return errors.New("--discover-scope and --node-events need --discover")
		}
		return nil
	}
	if len(o.Scope) == 0 {
		return errors.New("--discover needs --discover-scope: the CIDR blocks discovered nodes may be in")
	}
	if o.MaxNodes < 1 || o.MaxNodes > MaxMaxNodes {
		return fmt.Errorf("--discover-max-nodes %d is outside 1-%d", o.MaxNodes, MaxMaxNodes)
	}
	if o.NodeEvents != "" {
		u, err := url.Parse(o.NodeEvents)
		if err != nil || u.Scheme != "http" || u.Host == "" {
			return fmt.Errorf("--node-events %q is not an http:// URL (the agent's API speaks plain HTTP)", o.NodeEvents)
		}
	}
	return nil
}
