package synprobe

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// Probe is one SYN to send.
type Probe struct {
	Src, Dst     netip.Addr
	SPort, DPort uint16
	Variant      Variant
}

// Prober holds raw sockets of one namespace: two to send whole packets,
// two to see the TCP segments that come back.
type Prober struct {
	send4, send6, recv4, recv6 int
}

// Open creates the sockets. Call it on a thread inside the client's
// namespace (the sockets stay in it); it needs CAP_NET_RAW there.
func Open() (*Prober, error) {
	p := &Prober{-1, -1, -1, -1}
	var err error
	open := func(fam, proto int) int {
		if err != nil {
			return -1
		}
		var fd int
		fd, err = unix.Socket(fam, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto)
		return fd
	}
	// IPPROTO_RAW sends with the IP header included, for IPv6 too.
	p.send4 = open(unix.AF_INET, unix.IPPROTO_RAW)
	p.send6 = open(unix.AF_INET6, unix.IPPROTO_RAW)
	p.recv4 = open(unix.AF_INET, unix.IPPROTO_TCP)
	p.recv6 = open(unix.AF_INET6, unix.IPPROTO_TCP)
	if err == nil {
		// The IPv6 socket gets segments without their IP header; the
		// destination address comes as ancillary data.
		err = unix.SetsockoptInt(p.recv6, unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
	}
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("raw socket: %w", err)
	}
	return p, nil
}

// Close releases the sockets.
func (p *Prober) Close() {
	for _, fd := range []int{p.send4, p.send6, p.recv4, p.recv6} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// Run sends every probe, then waits until wait has passed since the last
// send, and returns which probes got a SYN-ACK. Probes are told apart by
// source address, source port and destination port, which must differ
// between probes.
func (p *Prober) Run(probes []Probe, wait time.Duration) ([]bool, error) {
	type key struct {
		src          netip.Addr
		sport, dport uint16
	}
	index := make(map[key]int, len(probes))
	for i, pr := range probes {
		index[key{pr.Src, pr.SPort, pr.DPort}] = i
	}
	got := make([]bool, len(probes))
	// Drain what earlier runs left behind.
	p.drain(func(netip.Addr, netip.Addr, []byte) {})
	for i, pr := range probes {
		pkt := Build(pr.Src, pr.Dst, pr.SPort, pr.DPort, uint32(0x10000000+i), pr.Variant)
		// The probe's source goes along as packet info: a raw socket
		// that includes the header otherwise routes by the destination
		// alone, and policy routing by source (a client that sends from
		// some addresses by another link) would not apply.
		var err error
		if pr.Dst.Is4() {
			sa := &unix.SockaddrInet4{Addr: pr.Dst.As4()}
			oob := unix.PktInfo4(&unix.Inet4Pktinfo{Spec_dst: pr.Src.As4()})
			err = unix.Sendmsg(p.send4, pkt, oob, sa, 0)
		} else {
			sa := &unix.SockaddrInet6{Addr: pr.Dst.As16()}
			oob := unix.PktInfo6(&unix.Inet6Pktinfo{Addr: pr.Src.As16()})
			err = unix.Sendmsg(p.send6, pkt, oob, sa, 0)
		}
		if err != nil {
			return nil, fmt.Errorf("sending %v: %w", pr, err)
		}
	}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		p.drain(func(from, to netip.Addr, seg []byte) {
			if len(seg) < 20 || seg[13]&(SYN|ACK|RST) != SYN|ACK {
				return
			}
			// The answer goes from the probe's destination back to its
			// source: its ports are swapped.
			k := key{to, binary.BigEndian.Uint16(seg[2:]), binary.BigEndian.Uint16(seg[0:])}
			if i, ok := index[k]; ok && probes[i].Dst == from {
				got[i] = true
			}
		})
		time.Sleep(5 * time.Millisecond)
	}
	return got, nil
}

// drain reads every segment waiting on the receive sockets.
func (p *Prober) drain(fn func(from, to netip.Addr, seg []byte)) {
	buf := make([]byte, 2048)
	for {
		n, _, err := unix.Recvfrom(p.recv4, buf, unix.MSG_DONTWAIT)
		if err != nil {
			break
		}
		if n < 20 {
			continue
		}
		ihl := int(buf[0]&0x0f) * 4
		if n < ihl+20 {
			continue
		}
		from := netip.AddrFrom4([4]byte(buf[12:16]))
		to := netip.AddrFrom4([4]byte(buf[16:20]))
		fn(from, to, buf[ihl:n])
	}
	oob := make([]byte, 128)
	for {
		n, oobn, _, sa, err := unix.Recvmsg(p.recv6, buf, oob, unix.MSG_DONTWAIT)
		if err != nil {
			return
		}
		s6, ok := sa.(*unix.SockaddrInet6)
		if !ok || n < 20 {
			continue
		}
		to := netip.Addr{}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		for _, m := range msgs {
			if m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_PKTINFO && len(m.Data) >= 16 {
				to = netip.AddrFrom16([16]byte(m.Data[:16]))
			}
		}
		fn(netip.AddrFrom16(s6.Addr), to, buf[:n])
	}
}
