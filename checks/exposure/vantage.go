package exposure

import (
	"net"
	"net/netip"
	"os"
	"sort"
	"strings"
)

// Vantage says where the attempts came from, so that one event per agent
// tells which agent saw what: the Sensu entity (or the host name) and the
// source addresses the kernel picks for the targets.
type Vantage struct {
	Agent   string
	Sources []string
}

// maxSourceLookups bounds the route lookups: a /24 target has one route.
const maxSourceLookups = 16

// FindVantage names the agent and looks up the source address of the route
// to each distinct target address. A connected UDP socket asks the kernel
// for the route and sends nothing.
func FindVantage(agent string, outs []Outcome) Vantage {
	if agent == "" {
		agent, _ = os.Hostname()
	}
	v := Vantage{Agent: agent}
	seen := map[netip.Addr]bool{}
	srcs := map[string]bool{}
	for _, o := range outs {
		a := o.Addr.Addr()
		if !a.IsValid() || seen[a] || len(seen) >= maxSourceLookups {
			continue
		}
		seen[a] = true
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, 9)))
		if err != nil {
			continue
		}
		if la, ok := c.LocalAddr().(*net.UDPAddr); ok {
			srcs[la.AddrPort().Addr().Unmap().String()] = true
		}
		c.Close()
	}
	for s := range srcs {
		v.Sources = append(v.Sources, s)
	}
	sort.Strings(v.Sources)
	return v
}

// line is the vantage point as a finding.
func (v Vantage) line() string {
	agent := v.Agent
	if agent == "" {
		agent = "unknown host"
	}
	src := "no route to any target"
	if len(v.Sources) > 0 {
		src = "source address " + strings.Join(v.Sources, ", ")
	}
	return "vantage point: " + agent + ", " + src
}
