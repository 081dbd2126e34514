package ipset

import (
	"context"
	endian "encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nlsock"
)

// Read lists the sets of the calling thread's network namespace over
// netlink (IPSET_CMD_SAVE), into the Dump Parse gives for `ipset save`.
// A set of a type or with an extension the decoder does not write as
// ipset save would is ErrNotDecoded.
func Read(ctx context.Context, lim Limits) (*Dump, error) {
	sock, err := nlsock.Open(unix.NETLINK_NETFILTER, nlsock.DefaultBuffer)
	if err != nil {
		return nil, fmt.Errorf("ipset netlink: %w", err)
	}
	defer sock.Close()
	d := newNLDecoder(lim)
	d.answer.Seq = sock.NextSeq()
	// nlmsghdr, nfgenmsg (family AF_INET, as ipset sends it), then
	// IPSET_ATTR_PROTOCOL.
	req := make([]byte, nlmsgHeader+nfgenHeader+8)
	endian.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	endian.NativeEndian.PutUint16(req[4:], subsysIPSet<<8|cmdSave)
	endian.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	endian.NativeEndian.PutUint32(req[8:], d.answer.Seq)
	req[nlmsgHeader] = unix.AF_INET
	a := req[nlmsgHeader+nfgenHeader:]
	endian.NativeEndian.PutUint16(a[0:], 5)
	endian.NativeEndian.PutUint16(a[2:], attrProtocol)
	a[4] = protocol
	if err := sock.Send(req); err != nil {
		return nil, fmt.Errorf("ipset netlink: sending the request: %w", err)
	}
	for {
		b, err := sock.Recv(ctx)
		if err != nil {
			return nil, fmt.Errorf("ipset netlink: %w", err)
		}
		done, err := d.datagram(b)
		if err != nil {
			return nil, err
		}
		if done {
			return d.d, nil
		}
	}
}
