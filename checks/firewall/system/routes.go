package system

import (
	"context"
	"net/netip"
)

// Route is one entry of the kernel's routing tables, as read over
// rtnetlink.
type Route struct {
	// Type is iproute2's name of the route type: unicast, local,
	// broadcast, blackhole, unreachable, prohibit...
	Type  string
	Table uint32
	// Dst is the destination, masked; a default route is the family's
	// /0.
	Dst netip.Prefix
	// Dev is the output interface; empty for a multipath route (its
	// devices are its nexthops') and for a route without one.
	Dev     string
	Gateway netip.Addr
}

// TableMain is the main routing table's number (RT_TABLE_MAIN).
const TableMain = 254

// Links names the interfaces of a network namespace by index: nf_tables
// matches "iif" and "oif" by index, and prints the name.
type Links map[uint32]string

// Routing is a System that reads the routing tables of its network
// namespace over rtnetlink.
type Routing interface {
	// Routes returns the IPv4 and IPv6 routes of every table, and the
	// interfaces.
	Routes(ctx context.Context) ([]Route, Links, error)
}

func (Host) Routes(ctx context.Context) ([]Route, Links, error) {
	return RoutesHere(ctx, RouteLimits{})
}
