package eval

import (
	"net/netip"
)

// Family is the network-layer protocol of a packet.
type Family uint8

const (
	IPv4 Family = 1 + iota
	IPv6
)

func (f Family) String() string {
	switch f {
	case IPv4:
		return "IPv4"
	case IPv6:
		return "IPv6"
	}
	return "family?"
}

// All is the whole address space of the family.
func (f Family) All() netip.Prefix {
	if f == IPv6 {
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
}

// Loopback is the loopback range of the family: the kernel drops packets
// from it arriving on any interface but lo.
func (f Family) Loopback() netip.Prefix {
	if f == IPv6 {
		return netip.PrefixFrom(netip.IPv6Loopback(), 128)
	}
	return netip.MustParsePrefix("127.0.0.0/8")
}

// FamilyOf returns the family of an address (IPv4-mapped IPv6 counts as IPv6,
// as it does on the wire).
func FamilyOf(a netip.Addr) Family {
	if a.Is4() {
		return IPv4
	}
	return IPv6
}

// CtState is a bit set of conntrack states, as matched by "ct state" and
// "-m conntrack --ctstate".
type CtState uint8

const (
	CtNew CtState = 1 << iota
	CtEstablished
	CtRelated
	CtInvalid
	CtUntracked
	// CtSNAT and CtDNAT are the --ctstate SNAT/DNAT pseudo-states.
	CtSNAT
	CtDNAT
)

// IP protocol numbers the model needs by name.
const (
	ProtoICMP   uint8 = 1
	ProtoTCP    uint8 = 6
	ProtoUDP    uint8 = 17
	ProtoICMPv6 uint8 = 58
)

// TCP header flags.
const (
	TCPFin uint8 = 1 << iota
	TCPSyn
	TCPRst
	TCPPsh
	TCPAck
	TCPUrg
	TCPEce
	TCPCwr
)

// Packet is one representative packet: the first SYN of a connection.
type Packet struct {
	Family   Family
	Src, Dst netip.Addr
	Proto    uint8
	SPort    uint16
	DPort    uint16
	// TCPFlags and NextHdr (the IPv6 header's Next Header field) are
	// read only when Shaped is set; otherwise they are the client's to
	// choose, and a condition on them considers every first SYN it may
	// send (FirstSYNFlags, FirstNextHdrs).
	TCPFlags uint8
	NextHdr  uint8
	// Shaped fixes the shape of the packet (a test that sent one).
	Shaped bool
	// IIf is the input interface name.
	IIf string
	// Local marks a packet the host sends to itself (it arrives on lo).
	Local bool
	Ct    CtState
	// CtStage tells whether conntrack has seen the packet in the chain
	// being run.
	CtStage CtStage
	// Mark and CtMark are the packet and connection marks; rules may set
	// them before later rules match on them.
	Mark, CtMark uint32
	// MarkUnknown and CtMarkUnknown record that a rule changed the mark in
	// a way the model does not compute.
	MarkUnknown, CtMarkUnknown bool
	// OrigDst and OrigDPort are the destination before any DNAT: what
	// conntrack's original tuple keeps.
	OrigDst   netip.Addr
	OrigDPort uint16
	// Nat is the destination rewrite applied, nil while none was.
	Nat *NatTarget
	// SrcNat is the source an SNAT in INPUT (or POSTROUTING) gave the
	// connection, which later chains see; Src stays the client's address.
	// SrcNatBy names the rule when the new source (or source port) is not
	// known (MASQUERADE, a range): later source matches are then unknown.
	SrcNat   netip.Addr
	SrcNatBy string
	// Forwarded is set once routing sends the packet on (its new
	// destination is not the host's); OIf is then its output interface,
	// "" when unknown.
	Forwarded bool
	OIf       string
}

// NewSYN returns the first SYN of a connection to a local socket.
func NewSYN(src, dst netip.Addr, sport, dport uint16, iif string) Packet {
	return Packet{
		Family:    FamilyOf(src),
		Src:       src,
		Dst:       dst,
		Proto:     ProtoTCP,
		SPort:     sport,
		DPort:     dport,
		TCPFlags:  TCPSyn,
		IIf:       iif,
		Local:     iif == "lo",
		Ct:        CtNew,
		OrigDst:   dst,
		OrigDPort: dport,
	}
}
