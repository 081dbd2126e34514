package system

import (
	"context"
	endian "encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nlsock"
)

// rtAttempts bounds the readings when the tables change while they are
// dumped.
const rtAttempts = 3

// ErrRoutesChanged means every reading of the routing tables was
// interrupted by a change.
var ErrRoutesChanged = errors.New("rtnetlink: the routing tables kept changing while they were read")

// RoutesHere reads the IPv4 and IPv6 routes of every table, and the
// interfaces by index, over rtnetlink. The socket belongs to the network
// namespace of the calling thread (lock the OS thread to choose it).
func RoutesHere(ctx context.Context, lim RouteLimits) ([]Route, Links, error) {
	sock, err := nlsock.Open(unix.NETLINK_ROUTE, nlsock.DefaultBuffer)
	if err != nil {
		return nil, nil, fmt.Errorf("rtnetlink: %w", err)
	}
	defer sock.Close()
	c := &rtConn{sock: sock, ctx: ctx}
	for range rtAttempts {
		d := newRTDecoder(lim)
		// Routes first: an interface that goes between the dumps takes
		// its routes with it, and one that comes has none yet.
		for _, q := range []struct {
			req  string
			typ  uint16
			fam  uint8
			body int
		}{
			{"IPv4 routes", unix.RTM_GETROUTE, unix.AF_INET, rtmsgSize},
			{"IPv6 routes", unix.RTM_GETROUTE, unix.AF_INET6, rtmsgSize},
			{"interfaces", unix.RTM_GETLINK, unix.AF_UNSPEC, ifinfomsgLen},
		} {
			d.req = q.req
			if err := c.dump(d, q.typ, q.fam, q.body); err != nil {
				return nil, nil, err
			}
		}
		if !d.intr {
			return d.result(), d.linkNames(), nil
		}
	}
	return nil, nil, ErrRoutesChanged
}

type rtConn struct {
	sock *nlsock.Conn
	ctx  context.Context
}

// dump sends one dump request (a header with the family first, the rest
// of the body zero) and decodes its answer up to its end.
func (c *rtConn) dump(d *rtDecoder, typ uint16, fam uint8, body int) error {
	d.seq = c.sock.NextSeq()
	req := make([]byte, nlmsgHeader+body)
	endian.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	endian.NativeEndian.PutUint16(req[4:], typ)
	endian.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	endian.NativeEndian.PutUint32(req[8:], d.seq)
	req[nlmsgHeader] = fam
	if err := c.sock.Send(req); err != nil {
		return fmt.Errorf("rtnetlink %s: sending the request: %w", d.req, err)
	}
	for {
		b, err := c.sock.Recv(c.ctx)
		if err != nil {
			return fmt.Errorf("rtnetlink %s: %w", d.req, err)
		}
		done, err := d.datagram(b, typ-2) // RTM_GETx is answered with RTM_NEWx, two below
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}
