package firewall

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/system"
)

// Routes is the part of the routing tables that decides where a DNAT
// target goes: the host's own addresses (type local, in any table) and the
// main table's unicast routes. Policy routing rules are not read; the main
// table is taken as the answer.
type Routes struct {
	local   []netip.Prefix
	unicast []route
	// dead are blackhole, unreachable and prohibit routes.
	dead []netip.Prefix
}

type route struct {
	dst netip.Prefix
	dev string
}

// RoutingSystem is a System that reads the routing tables over rtnetlink.
type RoutingSystem = system.Routing

// errNoRouting is a System that cannot read the routing tables.
var errNoRouting = errors.New("this system cannot read the routing tables over rtnetlink")

// ipRoute is one entry of `ip -j route show table all`.
type ipRoute struct {
	Type  string `json:"type"`
	Dst   string `json:"dst"`
	Dev   string `json:"dev"`
	Table string `json:"table"`
	Gw    string `json:"gateway"`
}

// maxRoutesSize caps a routes dump, like the other parsers' inputs.
const maxRoutesSize = 64 << 20

// ParseRoutes reads the output of `ip -j route show table all`, one or
// more JSON arrays in a row (the IPv4 and IPv6 listings concatenated).
func ParseRoutes(r io.Reader) (*Routes, error) {
	rt := &Routes{}
	dec := json.NewDecoder(io.LimitReader(r, maxRoutesSize))
	for n := 0; ; n++ {
		var list []ipRoute
		err := dec.Decode(&list)
		if errors.Is(err, io.EOF) {
			if n == 0 {
				return nil, fmt.Errorf("routes: empty input")
			}
			return rt, nil
		}
		if err != nil {
			return nil, fmt.Errorf("routes: %w", err)
		}
		for _, e := range list {
			if err := rt.add(e); err != nil {
				return nil, err
			}
		}
	}
}

func (rt *Routes) add(e ipRoute) error {
	var p netip.Prefix
	var err error
	switch {
	case e.Dst == "default":
		return rt.addDefault(e)
	case strings.Contains(e.Dst, "/"):
		p, err = netip.ParsePrefix(e.Dst)
	default:
		var a netip.Addr
		a, err = netip.ParseAddr(e.Dst)
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if err != nil {
		return fmt.Errorf("routes: destination %q: %v", e.Dst, err)
	}
	rt.addEntry(e.entry(p.Masked()))
	return nil
}

// addDefault adds a default route for the family of its gateway; ip(8)
// writes "default" for both families, so one without a gateway (a
// point-to-point device) is added for both.
func (rt *Routes) addDefault(e ipRoute) error {
	all := []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
	if gw, err := netip.ParseAddr(e.Gw); err == nil {
		if gw.Unmap().Is4() {
			all = all[:1]
		} else {
			all = all[1:]
		}
	}
	for _, p := range all {
		rt.addEntry(e.entry(p))
	}
	return nil
}

// routeEntry is a route as the judgement sees it, whether read from ip(8)
// or from the kernel.
type routeEntry struct {
	typ  string // iproute2's type name; "" is unicast
	main bool   // in the main table
	dst  netip.Prefix
	dev  string
}

func (e ipRoute) entry(p netip.Prefix) routeEntry {
	return routeEntry{typ: e.Type, main: e.Table == "" || e.Table == "main", dst: p, dev: e.Dev}
}

// RoutesFrom builds the judgement's routes from the kernel's entries.
func RoutesFrom(list []system.Route) *Routes {
	rt := &Routes{}
	for _, r := range list {
		rt.addEntry(routeEntry{typ: r.Type, main: r.Table == system.TableMain, dst: r.Dst.Masked(), dev: r.Dev})
	}
	return rt
}

func (rt *Routes) addEntry(e routeEntry) {
	switch e.typ {
	case "local":
		rt.local = append(rt.local, e.dst)
	case "", "unicast":
		if e.main {
			rt.unicast = append(rt.unicast, route{e.dst, e.dev})
		}
	case "blackhole", "unreachable", "prohibit":
		if e.main {
			rt.dead = append(rt.dead, e.dst)
		}
	}
}

// Route implements eval.Routing: local addresses first, as the kernel's
// local table comes first, then the longest unicast match.
func (rt *Routes) Route(a netip.Addr) (local bool, dev string, ok bool) {
	for _, p := range rt.local {
		if p.Contains(a) {
			return true, "lo", true
		}
	}
	best, found := -1, false
	for _, r := range rt.unicast {
		if r.dst.Contains(a) && r.dst.Bits() > best {
			best, dev, found = r.dst.Bits(), r.dev, true
		}
	}
	for _, p := range rt.dead {
		if p.Contains(a) && p.Bits() >= best {
			return false, "", false
		}
	}
	return false, dev, found
}

// privateRouting stands in for the routing tables offline: a DNAT target
// in a private range (Docker, podman and CNI networks live there) is taken
// as a container behind an unknown interface; any other target is unknown.
type privateRouting struct{}

var privateRanges = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("fc00::/7")}

func (privateRouting) Route(a netip.Addr) (bool, string, bool) {
	for _, p := range privateRanges {
		if p.Contains(a) {
			return false, "", true
		}
	}
	return false, "", false
}
