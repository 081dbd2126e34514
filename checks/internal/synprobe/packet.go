// Package synprobe sends hand-made first SYNs from inside a network
// namespace and tells which of them a listener answered with a SYN-ACK.
// Tests use it to let the kernel judge the firewall model: a SYN-ACK back
// is the truth about whether a packet of that shape gets through.
//
// Packets are built whole (IP header included) so that every field a
// client may choose can be set: TCP flags, DSCP and ECN bits, TTL or hop
// limit, IPv4 options, IPv6 extension headers, TCP options.
package synprobe

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
)

// TCP flag bits.
const (
	FIN = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

// IPv6 extension headers a Variant may put before TCP, by their Next
// Header value.
const (
	HopByHop = 0
	Routing  = 43
	Fragment = 44
	DstOpts  = 60
)

// Variant is one shape of a first SYN.
type Variant struct {
	Flags uint8 // 0 means SYN
	TOS   uint8 // DSCP << 2 | ECN, for IPv4 and IPv6 alike
	TTL   uint8 // 0 means 64
	// IPOptions adds four bytes of IPv4 options (NOP, NOP, NOP, EOL).
	IPOptions bool
	// ExtHdrs lists IPv6 extension headers before TCP, in order.
	ExtHdrs []uint8
	// MSS adds an MSS option to the TCP header.
	MSS bool
}

func (v Variant) String() string {
	var parts []string
	f := v.Flags
	if f == 0 {
		f = SYN
	}
	names := []string{"fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr"}
	var fl []string
	for i, n := range names {
		if f&(1<<i) != 0 {
			fl = append(fl, n)
		}
	}
	parts = append(parts, strings.Join(fl, "|"))
	if v.TOS != 0 {
		parts = append(parts, fmt.Sprintf("tos=%#x", v.TOS))
	}
	if v.TTL != 0 {
		parts = append(parts, fmt.Sprintf("ttl=%d", v.TTL))
	}
	if v.IPOptions {
		parts = append(parts, "ipopts")
	}
	for _, h := range v.ExtHdrs {
		parts = append(parts, map[uint8]string{HopByHop: "hbh", Routing: "rt", Fragment: "frag", DstOpts: "dst"}[h])
	}
	if v.MSS {
		parts = append(parts, "mss")
	}
	return strings.Join(parts, ",")
}

// Build returns the whole IP packet of a first SYN from src:sport to
// dst:dport shaped as v. seq is the sequence number.
func Build(src, dst netip.Addr, sport, dport uint16, seq uint32, v Variant) []byte {
	flags := v.Flags
	if flags == 0 {
		flags = SYN
	}
	ttl := v.TTL
	if ttl == 0 {
		ttl = 64
	}
	tcpLen := 20
	if v.MSS {
		tcpLen += 4
	}
	tcp := make([]byte, tcpLen)
	binary.BigEndian.PutUint16(tcp[0:], sport)
	binary.BigEndian.PutUint16(tcp[2:], dport)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	tcp[12] = byte(tcpLen/4) << 4
	tcp[13] = flags
	binary.BigEndian.PutUint16(tcp[14:], 64240)
	if v.MSS {
		copy(tcp[20:], []byte{2, 4, 0x05, 0xb4})
	}
	if src.Is4() {
		opt := 0
		if v.IPOptions {
			opt = 4
		}
		h := make([]byte, 20+opt)
		h[0] = 0x40 | byte((20+opt)/4)
		h[1] = v.TOS
		binary.BigEndian.PutUint16(h[2:], uint16(len(h)+len(tcp)))
		binary.BigEndian.PutUint16(h[6:], 0x4000) // DF
		h[8] = ttl
		h[9] = 6
		s4, d4 := src.As4(), dst.As4()
		copy(h[12:], s4[:])
		copy(h[16:], d4[:])
		if v.IPOptions {
			copy(h[20:], []byte{1, 1, 1, 0})
		}
		binary.BigEndian.PutUint16(h[10:], checksum(h, 0))
		pseudo := sum(s4[:]) + sum(d4[:]) + 6 + uint32(len(tcp))
		binary.BigEndian.PutUint16(tcp[16:], checksum(tcp, pseudo))
		return append(h, tcp...)
	}
	s16, d16 := src.As16(), dst.As16()
	pseudo := sum(s16[:]) + sum(d16[:]) + 6 + uint32(len(tcp))
	binary.BigEndian.PutUint16(tcp[16:], checksum(tcp, pseudo))
	// Extension headers, each pointing at the next.
	var ext []byte
	for i, t := range v.ExtHdrs {
		next := uint8(6)
		if i+1 < len(v.ExtHdrs) {
			next = v.ExtHdrs[i+1]
		}
		switch t {
		case Fragment:
			// An atomic fragment: offset 0, no more fragments.
			ext = append(ext, next, 0, 0, 0, 0, 0, 0x12, 0x34)
		case Routing:
			// Type 0 would be refused; type 2 with no segments left is
			// passed over.
			ext = append(ext, next, 0, 2, 0, 0, 0, 0, 0)
		default:
			// Hop-by-hop or destination options: one PadN option.
			ext = append(ext, next, 0, 1, 4, 0, 0, 0, 0)
		}
	}
	first := uint8(6)
	if len(v.ExtHdrs) > 0 {
		first = v.ExtHdrs[0]
	}
	h := make([]byte, 40)
	h[0] = 0x60 | v.TOS>>4
	h[1] = v.TOS << 4
	binary.BigEndian.PutUint16(h[4:], uint16(len(ext)+len(tcp)))
	h[6] = first
	h[7] = ttl
	copy(h[8:], s16[:])
	copy(h[24:], d16[:])
	return append(append(h, ext...), tcp...)
}

func sum(b []byte) uint32 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	return s
}

func checksum(b []byte, initial uint32) uint16 {
	s := initial + sum(b)
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
