package system

import (
	"context"
	"fmt"
	"io"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/ipset"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nfnl"
)

// Netlink is a System that reads nf_tables over netlink, in its network
// namespace, and resolves ipset indexes there.
type Netlink interface {
	// NFTables reads the nf_tables ruleset; rec, when not nil, receives
	// the raw reading (nfnl's recording format); sink, when not nil, takes
	// the rules as they are read (nfnl.Options.Sink), on the goroutine
	// that reads, in the namespace read.
	NFTables(ctx context.Context, rec io.Writer, sink nfnl.Sink) (*nfnl.Ruleset, error)
	// IPSetNames returns the names of the ipsets with the given indexes.
	IPSetNames(ctx context.Context, indexes []uint16) (map[uint16]string, error)
}

// IPSetReader is a System that lists the ipsets of its network namespace
// over netlink.
type IPSetReader interface {
	// IPSets returns the sets as ipset save would list them, or an error
	// wrapping ipset.ErrNotDecoded for sets only ipset save can list.
	IPSets(ctx context.Context) (*ipset.Dump, error)
}

func (Host) IPSets(ctx context.Context) (*ipset.Dump, error) { return ipset.Read(ctx, ipset.Limits{}) }

func (Host) NFTables(ctx context.Context, rec io.Writer, sink nfnl.Sink) (*nfnl.Ruleset, error) {
	return nfnl.Read(ctx, nfnl.Options{Record: rec, Sink: sink})
}

func (Host) IPSetNames(_ context.Context, indexes []uint16) (map[uint16]string, error) {
	return IPSetNamesHere(indexes)
}

// ipset's socket option interface (linux/netfilter/ipset/ip_set.h): the
// kernel keeps set indexes in xt structures, and only this names them.
const (
	soIPSet          = 83
	ipsetOpGetByIdx  = 0x00000007
	ipsetProtocol    = 7
	ipsetMaxNameLen  = 32
	ipsetReqGetSetSz = 8 + ipsetMaxNameLen
)

// IPSetNamesHere resolves ipset indexes in the calling thread's network
// namespace.
func IPSetNamesHere(indexes []uint16) (map[uint16]string, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		return nil, fmt.Errorf("ipset names: socket: %w", err)
	}
	defer unix.Close(fd)
	out := map[uint16]string{}
	for _, i := range indexes {
		var req [ipsetReqGetSetSz]byte
		*(*uint32)(unsafe.Pointer(&req[0])) = ipsetOpGetByIdx
		*(*uint32)(unsafe.Pointer(&req[4])) = ipsetProtocol
		*(*uint16)(unsafe.Pointer(&req[8])) = i
		size := uint32(len(req))
		_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_IP, soIPSet,
			uintptr(unsafe.Pointer(&req[0])), uintptr(unsafe.Pointer(&size)), 0)
		if e != 0 {
			return nil, fmt.Errorf("ipset names: index %d: %w", i, e)
		}
		name := req[8:]
		n := 0
		for n < len(name) && name[n] != 0 {
			n++
		}
		if n == 0 {
			continue // no set at that index
		}
		out[i] = string(name[:n])
	}
	return out, nil
}
