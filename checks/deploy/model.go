package deploy

import (
	"net"
	"net/netip"
	"sort"
	"strconv"
)

// Role is what a node is in the deployment.
type Role string

const (
	RoleMaster   Role = "master"
	RoleReplica  Role = "replica"
	RoleSentinel Role = "sentinel"
	// RoleUnknown: listed by a peer that did not say, and not readable.
	RoleUnknown Role = "unknown"
)

// PortKind names what a port of a node is for.
type PortKind string

const (
	PortData     PortKind = "data"
	PortTLS      PortKind = "tls"
	PortBus      PortKind = "cluster-bus"
	PortSentinel PortKind = "sentinel"
)

// Port is one port a node should expose.
type Port struct {
	Kind PortKind
	Port int
}

// Node is one member of the deployment.
type Node struct {
	// Addr is the address the node is known by (announced, or the seed's).
	Addr netip.Addr
	// Port is the port it was listed with: the one to connect to.
	Port int
	Role Role
	// Cluster is set for members of a Redis Cluster.
	Cluster bool
	// Master names what the node belongs to: the Sentinel master name for
	// monitored nodes, the master's address for replicas.
	Master string
	// Ports are every port the node should expose, data/TLS/bus/Sentinel,
	// without repeats, in that order.
	Ports []Port
	// Flags are what its peers said of it (s_down, disconnected, fail …).
	Flags []string
	// Source says who listed it ("seed", "sentinel 192.0.2.10:26379" …).
	Source string
	// Read is set when the node itself answered the discovery commands;
	// ReadErr says why not otherwise.
	Read    bool
	ReadErr string
	// ReadTLS is set when it was read over TLS on Port.
	ReadTLS bool
	// Config holds the CONFIG GET values that could be read (tls-port,
	// tls-replication, tls-cluster); a missing key was not readable.
	Config map[string]string
	// Version is redis_version from INFO server when read.
	Version string
	// Monitors lists, for a Sentinel, the master names it monitors, and
	// MasterAuth, by master name, whether the Sentinel can reach and
	// authenticate to that master as far as its own view tells.
	Monitors   []string
	MasterView map[string]SentinelEntry
}

// Key is "addr:port", the node's identity in the walk.
func (n Node) Key() string { return Endpoint(n.Addr, n.Port) }

// Endpoint joins an address and a port (IPv6 bracketed).
func Endpoint(a netip.Addr, port int) string {
	return net.JoinHostPort(a.String(), strconv.Itoa(port))
}

// Label is the node as findings name it: "192.0.2.11:6379 (replica of mymaster)",
// "192.0.2.10:6379 (master mymaster)".
func (n Node) Label() string {
	s := n.Key() + " (" + string(n.Role)
	if n.Cluster {
		s += ", cluster"
	}
	switch {
	case n.Master == "" || n.Role == RoleSentinel:
	case n.Role == RoleMaster:
		s += " " + n.Master // the name Sentinel monitors it as
	default:
		s += " of " + n.Master
	}
	return s + ")"
}

// PortOf returns the node's port of a kind, 0 when it has none known.
func (n Node) PortOf(k PortKind) int {
	for _, p := range n.Ports {
		if p.Kind == k {
			return p.Port
		}
	}
	return 0
}

func (n *Node) addPort(k PortKind, port int) {
	if port <= 0 || port > 65535 {
		return
	}
	for _, p := range n.Ports {
		if p.Kind == k && p.Port == port {
			return
		}
	}
	n.Ports = append(n.Ports, Port{k, port})
	order := map[PortKind]int{PortData: 0, PortTLS: 1, PortBus: 2, PortSentinel: 3}
	sort.SliceStable(n.Ports, func(i, j int) bool { return order[n.Ports[i].Kind] < order[n.Ports[j].Kind] })
}

// Rejected is an address a server announced that the walk did not follow.
type Rejected struct {
	// Text is the address as announced.
	Text   string
	Port   int
	Role   Role
	Source string
	// Reason: outside --discover-scope, a host name, the node cap …
	Reason string
}

// Deployment is the result of a walk.
type Deployment struct {
	Nodes    []Node
	Rejected []Rejected
	// Problems are walk-wide troubles (deadline, a seed that is no
	// Redis); each one makes the discovery incomplete.
	Problems []string
}

// Incomplete reports whether the walk may have missed members.
func (d Deployment) Incomplete() bool {
	if len(d.Problems) > 0 {
		return true
	}
	for _, n := range d.Nodes {
		if !n.Read {
			return true
		}
	}
	return false
}
