package nfnl

// Expr is one nf_tables expression of a rule, decoded from its
// NFTA_EXPR_DATA attributes. Only this package defines expression kinds;
// an expression it does not know is an *Unknown, never dropped.
//
// Registers are the kernel's raw numbers (see RegOffset). Data is kept in
// the byte order the kernel holds it: packet fields in network order,
// meta and ct keys mostly in host order; Bytecode prints it as libnftnl
// does, as host-order 32-bit words.
//
// Attrs, where a struct has it, is a bit mask of the NFTA_<EXPR>_* numbers
// the kernel sent (bit n set = attribute n present): libnftnl's rendering,
// and sometimes the meaning (a load versus a store), depends on presence.
type Expr interface {
	// Name is the kernel's expression name ("payload", "cmp", ...).
	Name() string
	expr()
}

// Payload bases (NFT_PAYLOAD_*).
const (
	BaseLL        = 0
	BaseNetwork   = 1
	BaseTransport = 2
	BaseInner     = 3
)

// Payload loads Len bytes at Offset from Base into DReg; with SReg set
// (non-zero) it writes the register into the packet instead (mangling).
type Payload struct {
	Base, Offset, Len uint32
	DReg, SReg        uint32
	CsumType          uint32
	CsumOffset        uint32
	CsumFlags         uint32
}

// Cmp operators (NFT_CMP_*).
const (
	CmpEq  = 0
	CmpNeq = 1
	CmpLt  = 2
	CmpLte = 3
	CmpGt  = 4
	CmpGte = 5
)

// Cmp compares register SReg (len(Data) bytes) with Data; a false
// comparison ends the rule (NFT_BREAK).
type Cmp struct {
	Op   uint32
	SReg uint32
	Data []byte
}

// Bitwise operations (NFT_BITWISE_*).
const (
	BitwiseBool   = 0 // dreg = (sreg & mask) ^ xor
	BitwiseLshift = 1
	BitwiseRshift = 2
)

// Bitwise computes DReg = (SReg & Mask) ^ Xor over Len bytes, or a shift
// by Data (a 32-bit host-order amount) when Op says so.
type Bitwise struct {
	SReg, DReg, Len uint32
	Op              uint32
	Mask, Xor, Data []byte
}

// Range operators (NFT_RANGE_*).
const (
	RangeEq  = 0
	RangeNeq = 1
)

// Range matches when From <= SReg <= To (byte-wise, network order); Neq
// inverts.
type Range struct {
	Op       uint32
	SReg     uint32
	From, To []byte
}

// Lookup flags.
const LookupInvert = 0x1 // NFT_LOOKUP_F_INV

// Lookup matches SReg against the set; for a map it loads the value into
// DReg (register 0 for a verdict map). SetName is the name the kernel
// sends ("__set%d" for anonymous sets, which Ruleset.Set resolves).
type Lookup struct {
	SReg, DReg uint32
	SetName    string
	SetID      uint32
	Flags      uint32
	Attrs      uint32
}

// Invert reports whether the lookup matches when the key is absent.
func (l *Lookup) Invert() bool { return l.Flags&LookupInvert != 0 }

// Meta keys the compiler is likely to meet (NFT_META_*); all are kept
// raw in Meta.Key.
const (
	MetaLen      = 0
	MetaProtocol = 1
	MetaPriority = 2
	MetaMark     = 3
	MetaIIF      = 4
	MetaOIF      = 5
	MetaIIFName  = 6
	MetaOIFName  = 7
	MetaIIFType  = 8
	MetaOIFType  = 9
	MetaSkUID    = 10
	MetaSkGID    = 11
	MetaNFProto  = 15
	MetaL4Proto  = 16
	MetaPktType  = 19
	MetaIIFGroup = 21
	MetaOIFGroup = 22
	MetaTimeNS   = 30
	MetaTimeDay  = 31
	MetaTimeHour = 32
)

// Meta loads packet metadata Key into DReg or, with SReg (Attrs has
// NFTA_META_SREG), sets it from SReg.
type Meta struct {
	Key        uint32
	DReg, SReg uint32
	Attrs      uint32
}

// Ct keys (NFT_CT_*) most rules use.
const (
	CtState     = 0
	CtDirection = 1
	CtStatus    = 2
	CtMark      = 3
	CtL3Proto   = 7
	CtSrc       = 8
	CtDst       = 9
	CtProtocol  = 10
	CtProtoSrc  = 11
	CtProtoDst  = 12
	CtZone      = 17
)

// Ct loads conntrack key Key (for direction Dir when Attrs has
// NFTA_CT_DIRECTION) into DReg, or sets it from SReg.
type Ct struct {
	Key        uint32
	Dir        uint8
	DReg, SReg uint32
	Attrs      uint32
}

// Immediate loads Data, or a verdict (DReg 0), into DReg.
type Immediate struct {
	DReg    uint32
	Data    []byte
	Verdict *Verdict
}

// Match is an xtables match (iptables-nft's compatibility layer): Info is
// the xt_*_info structure the kernel module reads, in host order.
type Match struct {
	MatchName string
	Rev       uint32
	Info      []byte
}

// Target is an xtables target, as Match.
type Target struct {
	TargetName string
	Rev        uint32
	Info       []byte
}

// Counter counts packets and bytes.
type Counter struct{ Packets, Bytes uint64 }

// Log logs the packet.
type Log struct {
	Prefix     string
	Group      uint16
	Snaplen    uint32
	QThreshold uint16
	Level      uint32
	Flags      uint32
	Attrs      uint32
}

// Limit units: Unit is the period in seconds.
const (
	LimitPackets = 0 // NFT_LIMIT_PKTS
	LimitBytes   = 1 // NFT_LIMIT_PKT_BYTES
	LimitInvert  = 0x1
)

// Limit matches while the rate is within Rate per Unit seconds (with
// Burst); with Flags&LimitInvert, while it is over.
type Limit struct {
	Rate, Unit uint64
	Burst      uint32
	Type       uint32
	Flags      uint32
}

// Quota matches until Bytes are used (or, inverted, after).
type Quota struct {
	Bytes, Consumed uint64
	Flags           uint32 // NFT_QUOTA_F_INV=1, NFT_QUOTA_F_DEPLETED=2
}

// Connlimit matches when the connection count is over Count
// (Flags&1 = NFT_CONNLIMIT_F_INV: at most Count).
type Connlimit struct{ Count, Flags uint32 }

// Last records when the rule last matched.
type Last struct {
	Msecs uint64
	Set   uint32
}

// Reject types (NFT_REJECT_*).
const (
	RejectICMPUnreach  = 0
	RejectTCPRst       = 1
	RejectICMPXUnreach = 2
)

// Reject ends the packet with an ICMP error or a TCP reset.
type Reject struct {
	Type uint32
	Code uint8
}

// Nat types.
const (
	NatSnat = 0
	NatDnat = 1
)

// Nat rewrites addresses/ports from the registers it names.
type Nat struct {
	Type                     uint32
	Family                   uint32
	RegAddrMin, RegAddrMax   uint32
	RegProtoMin, RegProtoMax uint32
	Flags                    uint32
	Attrs                    uint32
}

// Masq is masquerading (source NAT to the outgoing address).
type Masq struct {
	Flags                    uint32
	RegProtoMin, RegProtoMax uint32
	Attrs                    uint32
}

// Redir redirects to the local machine.
type Redir struct {
	Flags                    uint32
	RegProtoMin, RegProtoMax uint32
	Attrs                    uint32
}

// Dynset adds to, updates or deletes from a set from the packet path.
type Dynset struct {
	Op                uint32 // NFT_DYNSET_OP_ADD=0, UPDATE=1, DELETE=2
	SRegKey, SRegData uint32
	SetName           string
	SetID             uint32
	Timeout           uint64
	Flags             uint32
	Exprs             []Expr
	Attrs             uint32
}

// Objref refers to a named stateful object, directly (Type, ObjName) or
// through a map (SReg, SetName).
type Objref struct {
	Type    uint32
	ObjName string
	SReg    uint32
	SetName string
	SetID   uint32
	Attrs   uint32
}

// Exthdr ops and flags.
const (
	ExthdrOpIPv6   = 0
	ExthdrOpTCPOpt = 1
	ExthdrOpIPv4   = 2
	ExthdrOpSCTP   = 3
	ExthdrPresent  = 0x1 // NFT_EXTHDR_F_PRESENT
)

// Exthdr loads (or writes) an IPv6 extension header, TCP option or IPv4
// option field; with Flags&ExthdrPresent it loads only whether it exists.
type Exthdr struct {
	Op, Type    uint32
	Offset, Len uint32
	DReg, SReg  uint32
	Flags       uint32
	Attrs       uint32
}

// Fib looks up the routing table (FIB) for the packet.
type Fib struct {
	Result, Flags, DReg uint32
}

// Rt loads routing information.
type Rt struct{ Key, DReg uint32 }

// Socket loads information of the socket the packet belongs to.
type Socket struct {
	Key, DReg, Level uint32
	Attrs            uint32
}

// Numgen generates a number (incremental or random) modulo Modulus.
type Numgen struct {
	DReg, Modulus, Type, Offset uint32
}

// Hash hashes a register (jhash) or the flow (symhash).
type Hash struct {
	SReg, DReg, Len, Modulus, Seed, Offset, Type uint32
}

// Queue hands the packet to user space.
type Queue struct {
	Num, Total uint16
	Flags      uint16
	SRegQnum   uint32
	Attrs      uint32
}

// Dup duplicates the packet to an address/device.
type Dup struct {
	SRegAddr, SRegDev uint32
	Attrs             uint32
}

// Fwd forwards the packet to a device (netdev family).
type Fwd struct {
	SRegDev, SRegAddr, NFProto uint32
	Attrs                      uint32
}

// Tproxy is transparent proxying.
type Tproxy struct {
	Family, RegAddr, RegPort uint32
	Attrs                    uint32
}

// Synproxy answers SYNs itself.
type Synproxy struct {
	MSS    uint16
	Wscale uint8
	Flags  uint32
	Attrs  uint32
}

// Byteorder converts SReg between host and network order into DReg.
type Byteorder struct {
	SReg, DReg, Op, Len, Size uint32
}

// Notrack exempts the packet from connection tracking.
type Notrack struct{}

// Xfrm loads IPsec state (Key) of the packet's policy for direction Dir.
type Xfrm struct {
	Key, DReg, SPNum uint32
	Dir              uint8
	Attrs            uint32
}

// Osf loads the passive OS fingerprint's name into DReg.
type Osf struct {
	DReg  uint32
	TTL   uint8
	Flags uint32
	Attrs uint32
}

// Unknown is an expression this package does not decode (or one whose
// attributes did not decode): its name and its raw NFTA_EXPR_DATA.
type Unknown struct {
	ExprName string
	Raw      []byte
	// Err says why a known expression fell back to Unknown; empty when
	// the name itself is unknown.
	Err string
}

func (*Payload) Name() string   { return "payload" }
func (*Cmp) Name() string       { return "cmp" }
func (*Bitwise) Name() string   { return "bitwise" }
func (*Range) Name() string     { return "range" }
func (*Lookup) Name() string    { return "lookup" }
func (*Meta) Name() string      { return "meta" }
func (*Ct) Name() string        { return "ct" }
func (*Immediate) Name() string { return "immediate" }
func (*Match) Name() string     { return "match" }
func (*Target) Name() string    { return "target" }
func (*Counter) Name() string   { return "counter" }
func (*Log) Name() string       { return "log" }
func (*Limit) Name() string     { return "limit" }
func (*Quota) Name() string     { return "quota" }
func (*Connlimit) Name() string { return "connlimit" }
func (*Last) Name() string      { return "last" }
func (*Reject) Name() string    { return "reject" }
func (*Nat) Name() string       { return "nat" }
func (*Masq) Name() string      { return "masq" }
func (*Redir) Name() string     { return "redir" }
func (*Dynset) Name() string    { return "dynset" }
func (*Objref) Name() string    { return "objref" }
func (*Exthdr) Name() string    { return "exthdr" }
func (*Fib) Name() string       { return "fib" }
func (*Rt) Name() string        { return "rt" }
func (*Socket) Name() string    { return "socket" }
func (*Numgen) Name() string    { return "numgen" }
func (*Hash) Name() string      { return "hash" }
func (*Queue) Name() string     { return "queue" }
func (*Dup) Name() string       { return "dup" }
func (*Fwd) Name() string       { return "fwd" }
func (*Tproxy) Name() string    { return "tproxy" }
func (*Synproxy) Name() string  { return "synproxy" }
func (*Byteorder) Name() string { return "byteorder" }
func (*Notrack) Name() string   { return "notrack" }
func (*Xfrm) Name() string      { return "xfrm" }
func (*Osf) Name() string       { return "osf" }
func (u *Unknown) Name() string { return u.ExprName }

func (*Payload) expr()   {}
func (*Cmp) expr()       {}
func (*Bitwise) expr()   {}
func (*Range) expr()     {}
func (*Lookup) expr()    {}
func (*Meta) expr()      {}
func (*Ct) expr()        {}
func (*Immediate) expr() {}
func (*Match) expr()     {}
func (*Target) expr()    {}
func (*Counter) expr()   {}
func (*Log) expr()       {}
func (*Limit) expr()     {}
func (*Quota) expr()     {}
func (*Connlimit) expr() {}
func (*Last) expr()      {}
func (*Reject) expr()    {}
func (*Nat) expr()       {}
func (*Masq) expr()      {}
func (*Redir) expr()     {}
func (*Dynset) expr()    {}
func (*Objref) expr()    {}
func (*Exthdr) expr()    {}
func (*Fib) expr()       {}
func (*Rt) expr()        {}
func (*Socket) expr()    {}
func (*Numgen) expr()    {}
func (*Hash) expr()      {}
func (*Queue) expr()     {}
func (*Dup) expr()       {}
func (*Fwd) expr()       {}
func (*Tproxy) expr()    {}
func (*Synproxy) expr()  {}
func (*Byteorder) expr() {}
func (*Notrack) expr()   {}
func (*Xfrm) expr()      {}
func (*Osf) expr()       {}
func (*Unknown) expr()   {}
