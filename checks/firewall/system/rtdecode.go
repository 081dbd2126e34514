package system

import (
	endian "encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nlsock"
)

// RouteLimits bound an rtnetlink reading; zero fields take the defaults.
type RouteLimits struct {
	// MaxRoutes caps the routes of both families together (default
	// 4M: two full Internet tables fit).
	MaxRoutes int
	// MaxLinks caps the interfaces (default 1M).
	MaxLinks int
}

func (l RouteLimits) withDefaults() RouteLimits {
	if l.MaxRoutes <= 0 {
		l.MaxRoutes = 4 << 20
	}
	if l.MaxLinks <= 0 {
		l.MaxLinks = 1 << 20
	}
	return l
}

// NetlinkError is an error the kernel answered with.
type NetlinkError struct {
	Request string
	Errno   syscall.Errno
}

func (e *NetlinkError) Error() string {
	return fmt.Sprintf("rtnetlink %s: %v", e.Request, e.Errno)
}

func (e *NetlinkError) Unwrap() error { return e.Errno }

const (
	nlmsgHeader  = unix.SizeofNlMsghdr  // 16
	rtmsgSize    = unix.SizeofRtMsg     // 12
	ifinfomsgLen = unix.SizeofIfInfomsg // 16
)

// rtDecoder accumulates the answers of the link and route dumps.
type rtDecoder struct {
	lim    RouteLimits
	seq    uint32
	req    string
	links  map[int32]string
	routes []rawRoute
	// intr is set when the kernel flags a dump as interrupted by a
	// change: its content may be inconsistent.
	intr bool
}

// rawRoute is a route with its interface still an index.
type rawRoute struct {
	Route
	oif       int32
	multipath bool
}

func newRTDecoder(lim RouteLimits) *rtDecoder {
	return &rtDecoder{lim: lim.withDefaults(), links: map[int32]string{}}
}

// datagram decodes one datagram of the answer to the request numbered
// d.seq, whose messages are of type want. It reports whether the dump
// ended.
func (d *rtDecoder) datagram(b []byte, want uint16) (done bool, err error) {
	a := nlsock.Answer{Where: "rtnetlink " + d.req, Seq: d.seq}
	done, err = a.Datagram(b, func(typ uint16, msg []byte) error {
		switch typ {
		case want:
			if want == unix.RTM_NEWLINK {
				return d.link(msg)
			}
			return d.route(msg)
		}
		return fmt.Errorf("rtnetlink %s: unexpected message type %d", d.req, typ)
	})
	d.intr = d.intr || a.Interrupted
	var ke *nlsock.KernelError
	switch {
	case errors.As(err, &ke):
		return true, &NetlinkError{d.req, ke.Errno}
	case err != nil:
		return false, err
	case done && a.Acked:
		return false, fmt.Errorf("rtnetlink %s: acknowledged instead of dumped", d.req)
	}
	return done, nil
}

func (d *rtDecoder) link(msg []byte) error {
	if len(msg) < ifinfomsgLen {
		return fmt.Errorf("rtnetlink %s: interface message of %d bytes", d.req, len(msg))
	}
	if len(d.links) >= d.lim.MaxLinks {
		return fmt.Errorf("rtnetlink %s: more than %d interfaces", d.req, d.lim.MaxLinks)
	}
	idx := int32(endian.NativeEndian.Uint32(msg[4:]))
	return walkAttrs(msg[ifinfomsgLen:], d.req, func(typ uint16, v []byte) error {
		if typ == unix.IFLA_IFNAME {
			d.links[idx] = nlsock.CString(v)
		}
		return nil
	})
}

func (d *rtDecoder) route(msg []byte) error {
	if len(msg) < rtmsgSize {
		return fmt.Errorf("rtnetlink %s: route message of %d bytes", d.req, len(msg))
	}
	fam, dstLen, table, typ := msg[0], msg[1], msg[4], msg[7]
	flags := endian.NativeEndian.Uint32(msg[8:])
	if flags&unix.RTM_F_CLONED != 0 {
		return nil // a cache entry, not a route (ip(8) hides them too)
	}
	var size int
	switch fam {
	case unix.AF_INET:
		size = 4
	case unix.AF_INET6:
		size = 16
	default:
		return fmt.Errorf("rtnetlink %s: route of address family %d", d.req, fam)
	}
	if int(dstLen) > size*8 {
		return fmt.Errorf("rtnetlink %s: prefix length %d", d.req, dstLen)
	}
	if len(d.routes) >= d.lim.MaxRoutes {
		return fmt.Errorf("rtnetlink %s: more than %d routes", d.req, d.lim.MaxRoutes)
	}
	r := rawRoute{Route: Route{Type: routeType(typ), Table: uint32(table)}}
	dst := netip.IPv4Unspecified()
	if size == 16 {
		dst = netip.IPv6Unspecified()
	}
	addr := func(name string, v []byte) (netip.Addr, error) {
		a, ok := netip.AddrFromSlice(v)
		if !ok || len(v) != size {
			return netip.Addr{}, fmt.Errorf("rtnetlink %s: %s of %d bytes in a family %d route", d.req, name, len(v), fam)
		}
		return a, nil
	}
	err := walkAttrs(msg[rtmsgSize:], d.req, func(at uint16, v []byte) error {
		var err error
		switch at {
		case unix.RTA_DST:
			dst, err = addr("destination", v)
		case unix.RTA_GATEWAY:
			r.Gateway, err = addr("gateway", v)
		case unix.RTA_OIF:
			if len(v) != 4 {
				return fmt.Errorf("rtnetlink %s: interface index of %d bytes", d.req, len(v))
			}
			r.oif = int32(endian.NativeEndian.Uint32(v))
		case unix.RTA_TABLE:
			if len(v) != 4 {
				return fmt.Errorf("rtnetlink %s: table of %d bytes", d.req, len(v))
			}
			r.Table = endian.NativeEndian.Uint32(v)
		case unix.RTA_MULTIPATH:
			r.multipath = true
		}
		return err
	})
	if err != nil {
		return err
	}
	r.Dst = netip.PrefixFrom(dst, int(dstLen)).Masked()
	d.routes = append(d.routes, r)
	return nil
}

// result names the routes' interfaces. An index without a name (an
// interface gone between the dumps) is written as ip(8) writes it.
func (d *rtDecoder) result() []Route {
	out := make([]Route, len(d.routes))
	for i, r := range d.routes {
		out[i] = r.Route
		if r.oif != 0 && !r.multipath {
			name, ok := d.links[r.oif]
			if !ok {
				name = fmt.Sprintf("if%d", r.oif)
			}
			out[i].Dev = name
		}
	}
	return out
}

// linkNames is the interfaces read, by index.
func (d *rtDecoder) linkNames() Links {
	out := make(Links, len(d.links))
	for i, n := range d.links {
		out[uint32(i)] = n
	}
	return out
}

// walkAttrs calls fn on each attribute of b, refusing one that overruns.
func walkAttrs(b []byte, req string, fn func(typ uint16, v []byte) error) error {
	a := nlsock.AttrsOf(b)
	for {
		typ, v, ok := a.Next()
		if !ok {
			break
		}
		if err := fn(typ, v); err != nil {
			return err
		}
	}
	if err := a.Err(); err != nil {
		return fmt.Errorf("rtnetlink %s: %w", req, err)
	}
	return nil
}

// routeTypes are iproute2's names of the route types (rtnl_rtntype).
var routeTypes = [...]string{
	unix.RTN_UNSPEC: "none", unix.RTN_UNICAST: "unicast", unix.RTN_LOCAL: "local",
	unix.RTN_BROADCAST: "broadcast", unix.RTN_ANYCAST: "anycast", unix.RTN_MULTICAST: "multicast",
	unix.RTN_BLACKHOLE: "blackhole", unix.RTN_UNREACHABLE: "unreachable", unix.RTN_PROHIBIT: "prohibit",
	unix.RTN_THROW: "throw", unix.RTN_NAT: "nat", unix.RTN_XRESOLVE: "xresolve",
}

func routeType(t uint8) string {
	if int(t) < len(routeTypes) {
		return routeTypes[t]
	}
	return fmt.Sprintf("%d", t)
}
