package eval

import (
	"fmt"
	"strings"

	"go4.org/netipx"
)

// Cond is one match of a rule. Only this package defines conditions, so the
// evaluator knows every kind it may meet (the interface is sealed).
type Cond interface {
	// Eval decides the condition for p. When it returns Unknown, the
	// string says why.
	Eval(p *Packet) (Tri, string)
	// addPoints registers the boundaries at which the condition may change
	// its value, so that one representative per piece is exact.
	addPoints(pt *Points)
}

// Const is a condition with a fixed value; Unknown carries its reason.
type Const struct {
	Value  Tri
	Reason string
}

func (c Const) Eval(*Packet) (Tri, string) { return c.Value, c.Reason }
func (Const) addPoints(*Points)            {}

// IsFamily holds for packets of one family ("meta nfproto ipv4", "-4").
type IsFamily struct{ Family Family }

func (c IsFamily) Eval(p *Packet) (Tri, string) { return triOf(p.Family == c.Family), "" }
func (IsFamily) addPoints(*Points)              {}

// AddrField selects the source or destination address.
type AddrField uint8

const (
	Src AddrField = iota
	Dst
	// OrigDst is the destination before DNAT (conntrack's original tuple).
	OrigDst
	// OrigSrc is the source before SNAT (conntrack's original tuple).
	OrigSrc
)

// Addr matches an address against a set of one family. A packet of the
// other family never matches, negated or not: "ip saddr != 10.0.0.0/8"
// carries an implicit "this is IPv4" that nft and iptables both keep.
type Addr struct {
	Field  AddrField
	Family Family
	Set    *netipx.IPSet
	Neg    bool
}

func (c Addr) Eval(p *Packet) (Tri, string) {
	if p.Family != c.Family {
		return False, ""
	}
	a := p.Src
	switch c.Field {
	case Src:
		if p.SrcNatBy != "" {
			return Unknown, "the source rewritten by " + p.SrcNatBy + " is not known"
		}
		if p.SrcNat.IsValid() {
			a = p.SrcNat
		}
	case Dst:
		a = p.Dst
	case OrigDst:
		a = p.OrigDst
	}
	return negate(triOf(c.Set.Contains(a)), c.Neg), ""
}

func (c Addr) addPoints(pt *Points) {
	f := c.Field
	if f == OrigDst {
		f = Dst // the original destination is the one contexts split
	}
	for _, r := range c.Set.Ranges() {
		pt.addRange(f, c.Family, r)
	}
}

// NewAddr builds an Addr over the given prefixes and ranges. It panics on
// a family mix, which is a bug in the caller.
func NewAddr(field AddrField, fam Family, neg bool, ranges ...netipx.IPRange) Addr {
	var b netipx.IPSetBuilder
	for _, r := range ranges {
		if FamilyOf(r.From()) != fam || FamilyOf(r.To()) != fam {
			panic(fmt.Sprintf("eval.NewAddr: %v is not %v", r, fam))
		}
		b.AddRange(r)
	}
	s, err := b.IPSet()
	if err != nil {
		panic(err)
	}
	return Addr{Field: field, Family: fam, Set: s, Neg: neg}
}

// PortField selects the source or destination port.
type PortField uint8

const (
	SPort PortField = iota
	DPort
	// OrigDPort is the destination port before DNAT.
	OrigDPort
)

// PortRange is an inclusive range of ports.
type PortRange struct{ Lo, Hi uint16 }

func (r PortRange) String() string {
	if r.Lo == r.Hi {
		return fmt.Sprint(r.Lo)
	}
	return fmt.Sprintf("%d-%d", r.Lo, r.Hi)
}

// Port matches a transport port. Protos lists the protocols the match
// implies ("tcp dport" implies tcp); a packet of another protocol never
// matches, negated or not. Empty Protos means any protocol with ports.
type Port struct {
	Field  PortField
	Protos []uint8
	Ranges []PortRange
	Neg    bool
}

func (c Port) Eval(p *Packet) (Tri, string) {
	if len(c.Protos) > 0 && !containsU8(c.Protos, p.Proto) {
		return False, ""
	}
	v := p.DPort
	switch c.Field {
	case SPort:
		if p.SrcNatBy != "" {
			return Unknown, "the source rewritten by " + p.SrcNatBy + " is not known"
		}
		v = p.SPort
	case OrigDPort:
		v = p.OrigDPort
	}
	in := false
	for _, r := range c.Ranges {
		if v >= r.Lo && v <= r.Hi {
			in = true
			break
		}
	}
	return negate(triOf(in), c.Neg), ""
}

func (c Port) addPoints(pt *Points) {
	if c.Field != SPort {
		return
	}
	for _, r := range c.Ranges {
		pt.addSPort(r)
	}
}

// Proto matches the transport protocol (meta l4proto, -p).
type Proto struct {
	Protos []uint8
	Neg    bool
}

func (c Proto) Eval(p *Packet) (Tri, string) {
	return negate(triOf(containsU8(c.Protos, p.Proto)), c.Neg), ""
}
func (Proto) addPoints(*Points) {}

// IfName is an interface name; Wildcard makes it a prefix ("eth+", "eth*").
type IfName struct {
	Name     string
	Wildcard bool
}

func (n IfName) String() string {
	if n.Wildcard {
		return n.Name + "*"
	}
	return n.Name
}

func (n IfName) matches(s string) bool {
	if n.Wildcard {
		return strings.HasPrefix(s, n.Name)
	}
	return s == n.Name
}

// Iface matches the input (Out=false) or output interface. A forwarded
// packet has an output interface once routed; on the paths of a locally
// delivered packet there is none. There nf_tables (since Linux 5.3) and
// x_tables compare an empty name and index 0, so a negated match holds;
// older kernels abort a rule that reads the missing interface, so it does
// not: a match that holds on the empty name is unknown.
type Iface struct {
	Out   bool
	Names []IfName
	Neg   bool
}

func (c Iface) Eval(p *Packet) (Tri, string) {
	name := p.IIf
	if c.Out {
		switch {
		case !p.Forwarded:
			if !c.holds("") {
				return False, ""
			}
			return Unknown, "output interface match on a packet for this host, which has none: kernels before 5.3 skip the rule, later ones match it"
		case p.OIf == "":
			return Unknown, "output interface towards DNAT target " + p.Dst.String() + " unknown" + routesHint
		}
		name = p.OIf
	}
	return triOf(c.holds(name)), ""
}

// holds tells whether the match holds for an interface name.
func (c Iface) holds(name string) bool {
	in := false
	for _, n := range c.Names {
		if n.matches(name) {
			in = true
			break
		}
	}
	return in != c.Neg
}

func (c Iface) addPoints(pt *Points) {
	if c.Out {
		return
	}
	for _, n := range c.Names {
		pt.addIface(n)
	}
}

// Conntrack matches the connection state: true when the packet's state is
// one of States.
type Conntrack struct {
	States CtState
	Neg    bool
}

func (c Conntrack) Eval(p *Packet) (Tri, string) {
	st := p.Ct
	switch p.CtStage {
	case CtMaybe:
		return Unknown, ctMaybeReason
	case CtNotYet:
		// No connection yet: the state reads INVALID, or UNTRACKED
		// once a notrack rule ran.
		if st != CtUntracked {
			st = CtInvalid
		}
	}
	return negate(triOf(st&c.States != 0), c.Neg), ""
}
func (Conntrack) addPoints(*Points) {}

// CtStage tells whether conntrack (netfilter's hook at priority -200 in
// prerouting and output) has run when a chain runs.
type CtStage uint8

const (
	// CtSeen: after conntrack, as in every input chain.
	CtSeen CtStage = iota
	// CtNotYet: an ingress chain, or a prerouting one of a lower
	// priority (raw, -300): the packet has no connection yet.
	CtNotYet
	// CtMaybe: a chain of conntrack's own priority, run before or after
	// it by the order the hooks were registered in.
	CtMaybe
)

const ctMaybeReason = "connection read in a chain of conntrack's own priority (-200): whether conntrack has run there is not known"

// Tracked is a condition on the packet's connection other than its state
// (ct mark, status, direction, original tuple, helper): before conntrack
// there is none, and nf_tables and x_tables differ on what such a match
// then does, so it is unknown there.
type Tracked struct{ C Cond }

func (c Tracked) Eval(p *Packet) (Tri, string) {
	switch p.CtStage {
	case CtMaybe:
		return Unknown, ctMaybeReason
	case CtNotYet:
		return Unknown, "connection read in a chain that runs before conntrack: there is none yet"
	}
	return c.C.Eval(p)
}
func (c Tracked) addPoints(pt *Points) { c.C.addPoints(pt) }

// Mark matches (mark & Mask) == Value on the packet or connection mark.
type Mark struct {
	Conn        bool
	Mask, Value uint32
	Neg         bool
}

func (c Mark) Eval(p *Packet) (Tri, string) {
	m, unk := p.Mark, p.MarkUnknown
	what := "packet mark"
	if c.Conn {
		m, unk, what = p.CtMark, p.CtMarkUnknown, "connection mark"
	}
	if unk {
		return Unknown, what + " set by a rule the model does not compute"
	}
	return negate(triOf(m&c.Mask == c.Value), c.Neg), ""
}
func (Mark) addPoints(*Points) {}

// TCPFlags matches (flags & Mask) == Comp for TCP packets. The client
// picks the flags of its first SYN among FirstSYNFlags, so the match is
// Chosen when it holds for some of them and not for others.
type TCPFlags struct {
	Mask, Comp uint8
	Neg        bool
}

func (c TCPFlags) Eval(p *Packet) (Tri, string) {
	if p.Proto != ProtoTCP {
		return False, ""
	}
	if p.Shaped {
		return negate(triOf(p.TCPFlags&c.Mask == c.Comp), c.Neg), ""
	}
	n := 0
	for _, f := range FirstSYNFlags {
		if negate(triOf(f&c.Mask == c.Comp), c.Neg) == True {
			n++
		}
	}
	switch n {
	case 0:
		return False, ""
	case len(FirstSYNFlags):
		return True, ""
	}
	yes := "with first-SYN TCP flags that %s matches (e.g. " + FlagNames(c.pick(true)) + ")"
	no := "with first-SYN TCP flags that %s does not match (e.g. " + FlagNames(c.pick(false)) + ")"
	if negate(triOf(TCPSyn&c.Mask == c.Comp), c.Neg) == True {
		yes = ""
	} else {
		no = ""
	}
	return Chosen, choice(yes, no)
}

// pick returns a first-SYN flag set on which the match is want,
// preferring an ECN client's SYN (the one real clients send).
func (c TCPFlags) pick(want bool) uint8 {
	for _, f := range append([]uint8{TCPSyn | TCPEce | TCPCwr, TCPSyn}, FirstSYNFlags...) {
		if (negate(triOf(f&c.Mask == c.Comp), c.Neg) == True) == want {
			return f
		}
	}
	return 0
}

func (TCPFlags) addPoints(*Points) {}

// FirstSYNFlags are the TCP flag sets of a first SYN that a listening
// socket answers with a SYN-ACK: tcp_rcv_state_process in LISTEN resets
// on ACK, drops on RST and on SYN|FIN, and takes any other SYN; PSH, URG,
// ECE and CWR are the client's to add (an ECN client sends SYN|ECE|CWR),
// and conntrack's tcp_valid_flags treats all of these as a valid new
// connection.
var FirstSYNFlags = func() []uint8 {
	extra := []uint8{TCPPsh, TCPUrg, TCPEce, TCPCwr}
	var out []uint8
	for m := 0; m < 1<<len(extra); m++ {
		f := TCPSyn
		for i, e := range extra {
			if m&(1<<i) != 0 {
				f |= e
			}
		}
		out = append(out, f)
	}
	return out
}()

// FlagNames spells a flag set the way nft lists a mask ("syn,ecn,cwr").
func FlagNames(f uint8) string {
	names := []string{"fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr"}
	var b strings.Builder
	for i, n := range names {
		if f&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(n)
		}
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// FirstNextHdrs are the values the Next Header field of the IPv6 header
// can take in a first SYN the kernel's TCP still answers: TCP itself, or
// a hop-by-hop, destination options, routing (segments left 0) or
// fragment header before it. "ip6 nexthdr" reads this field, unlike
// "meta l4proto" and ip6tables -p, which skip the extension headers.
var FirstNextHdrs = []uint8{ProtoTCP, 0, 43, 44, 60}

// NextHdr matches the Next Header field of the IPv6 header ("ip6 nexthdr").
type NextHdr struct {
	Values []uint8
	Neg    bool
}

func (c NextHdr) Eval(p *Packet) (Tri, string) {
	if p.Family != IPv6 {
		return False, ""
	}
	if p.Shaped {
		return negate(triOf(containsU8(c.Values, p.NextHdr)), c.Neg), ""
	}
	n := 0
	for _, v := range FirstNextHdrs {
		if negate(triOf(containsU8(c.Values, v)), c.Neg) == True {
			n++
		}
	}
	switch n {
	case 0:
		return False, ""
	case len(FirstNextHdrs):
		return True, ""
	}
	yes := "with an IPv6 header chain that %s matches (e.g. " + c.pick(true) + ")"
	no := "with an IPv6 header chain that %s does not match (e.g. " + c.pick(false) + ")"
	if negate(triOf(containsU8(c.Values, ProtoTCP)), c.Neg) == True {
		yes = ""
	} else {
		no = ""
	}
	return Chosen, choice(yes, no)
}

// nextHdrNames describe the first header of a chain in FirstNextHdrs.
var nextHdrNames = map[uint8]string{ProtoTCP: "TCP directly", 0: "a hop-by-hop header before TCP",
	43: "a routing header before TCP", 44: "a fragment header before TCP", 60: "a destination options header before TCP"}

// pick describes a header chain on which the match is want, preferring
// destination options (the one the kernel accepts most plainly).
func (c NextHdr) pick(want bool) string {
	for _, v := range []uint8{60, ProtoTCP, 0, 43, 44} {
		if (negate(triOf(containsU8(c.Values, v)), c.Neg) == True) == want {
			return nextHdrNames[v]
		}
	}
	return "?"
}
func (NextHdr) addPoints(*Points) {}

// choiceSep separates the two phrases of a Chosen reason.
const choiceSep = "\x00"

// choice is the reason of a Chosen condition: yes describes the branch
// on which it holds, no the other; %s in them stands for the rule. An
// empty phrase marks the branch a plain first SYN (bare SYN flag, no
// extension header or option) takes: getting in that way needs no
// choice worth naming.
func choice(yes, no string) string { return yes + choiceSep + no }

// Choice is a condition the client decides (its packet's fields, the
// history of its own traffic); yes and no are as for choice.
func Choice(yes, no string) Const { return Const{Value: Chosen, Reason: choice(yes, no)} }

// phrases splits a Chosen reason; a reason without both phrases gets
// generic ones.
func phrases(reason string) (yes, no string) {
	if i := strings.Index(reason, choiceSep); i >= 0 {
		return reason[:i], reason[i+len(choiceSep):]
	}
	return "while %s matches", "while %s does not match"
}

// swapChoice negates a Chosen reason.
func swapChoice(reason string) string {
	yes, no := phrases(reason)
	return choice(no, yes)
}

// AddrTypes is a bit set of routing address types (addrtype, fib ... type).
type AddrTypes uint16

const (
	TypeUnicast AddrTypes = 1 << iota
	TypeLocal
	TypeBroadcast
	TypeAnycast
	TypeMulticast
	TypeBlackhole
	TypeUnreachable
	TypeProhibit
	TypeUnspec
	TypeThrow
	TypeNat
	TypeXresolve
)

// AddrType matches the routing type of the source or destination address.
// For a packet delivered to a local socket the destination is LOCAL; the
// source is LOCAL for the host's own traffic and UNICAST otherwise (the
// kernel drops packets from a local address arriving from outside).
type AddrType struct {
	Field AddrField
	Types AddrTypes
	Neg   bool
	// IfaceIn looks the address up on the input interface only ("fib
	// daddr . iif type", addrtype --limit-iface-in): an address of the
	// host held by another interface is not LOCAL there.
	IfaceIn bool
	// XT6 is x_tables' reading of IPv6 types (xt_addrtype's
	// match_type6): UNICAST, MULTICAST and UNSPEC are properties of the
	// address itself, each of them required, and the routing lookup only
	// decides LOCAL, ANYCAST and UNREACHABLE, any of them enough.
	XT6 bool
}

func (c AddrType) Eval(p *Packet) (Tri, string) {
	local := (c.Field == Dst && !p.Forwarded) || (c.Field == Src && p.Local)
	on := c.holds(p.Family, local) != c.Neg
	if !c.IfaceIn || !local {
		return triOf(on), ""
	}
	// The packet comes in by the interface that holds the address or,
	// where the host has several, by another one: the client picks by
	// the address it sends to.
	if off := c.holds(p.Family, false) != c.Neg; off != on {
		other := "addressed to an address of another interface than the one it arrives on (%s)"
		if on {
			return Choice("", other).Eval(p)
		}
		return Choice(other, "").Eval(p)
	}
	return triOf(on), ""
}

// holds tells whether the types match an address that is the host's own
// (local) or a unicast one of another host.
func (c AddrType) holds(f Family, local bool) bool {
	if c.XT6 && f == IPv6 {
		if c.Types&(TypeMulticast|TypeUnspec) != 0 {
			return false
		}
		if c.Types&(TypeLocal|TypeAnycast|TypeUnreachable) != 0 {
			return local && c.Types&TypeLocal != 0
		}
		return true
	}
	t := TypeUnicast
	if local {
		t = TypeLocal
	}
	return c.Types&t != 0
}
func (AddrType) addPoints(*Points) {}

func containsU8(s []uint8, v uint8) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// And is a conjunction, for verdict-map keys built from several fields.
type And []Cond

func (c And) Eval(p *Packet) (Tri, string) {
	res, why := True, ""
	for _, x := range c {
		t, r := x.Eval(p)
		switch {
		case t == False:
			return False, ""
		case t == Unknown:
			res, why = Unknown, r
		case t == Chosen && res == True:
			res, why = Chosen, r
		case t == Chosen && res == Chosen:
			why = "" // several choices: generic phrases
		}
	}
	return res, why
}

func (c And) addPoints(pt *Points) {
	for _, x := range c {
		x.addPoints(pt)
	}
}

// Or is a disjunction (an anonymous set of concatenations, a multi-entry
// match).
type Or []Cond

func (c Or) Eval(p *Packet) (Tri, string) {
	res, why := False, ""
	for _, x := range c {
		t, r := x.Eval(p)
		switch {
		case t == True:
			return True, ""
		case t == Unknown:
			res, why = Unknown, r
		case t == Chosen && res == False:
			res, why = Chosen, r
		case t == Chosen && res == Chosen:
			why = ""
		}
	}
	return res, why
}

func (c Or) addPoints(pt *Points) {
	for _, x := range c {
		x.addPoints(pt)
	}
}

// Not negates a condition.
type Not struct{ C Cond }

func (c Not) Eval(p *Packet) (Tri, string) {
	t, r := c.C.Eval(p)
	if t == Chosen {
		r = swapChoice(r)
	}
	return t.Not(), r
}
func (c Not) addPoints(pt *Points) { c.C.addPoints(pt) }
