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

// Routing is a System that reads the routing tables of its network
// namespace over rtnetlink.
type Routing interface {
	// Routes returns the IPv4 and IPv6 routes of every table.
	Routes(ctx context.Context) ([]Route, error)
}

func (Host) Routes(ctx context.Context) ([]Route, error) {
	return RoutesHere(ctx, RouteLimits{})
}
