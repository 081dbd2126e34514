package nfnl

// The model keeps what the kernel sends, attribute for attribute, in
// kernel units: registers as their raw numbers, data as the bytes the
// kernel compares (network byte order for packet fields, host order for
// meta and ct keys), enum values as numbers with a name helper beside
// them. Interpretation belongs to the compiler.

// Family is an NFPROTO_* value.
type Family uint8

// The nf_tables families.
const (
	FamilyUnspec Family = 0
	FamilyInet   Family = 1
	FamilyIPv4   Family = 2
	FamilyARP    Family = 3
	FamilyNetdev Family = 5
	FamilyBridge Family = 7
	FamilyIPv6   Family = 10
)

// String is the family's name as nft writes it.
func (f Family) String() string {
	switch f {
	case FamilyUnspec:
		return "unspec"
	case FamilyInet:
		return "inet"
	case FamilyIPv4:
		return "ip"
	case FamilyARP:
		return "arp"
	case FamilyNetdev:
		return "netdev"
	case FamilyBridge:
		return "bridge"
	case FamilyIPv6:
		return "ip6"
	}
	return "family" + itoa(uint64(f))
}

// Ruleset is the whole nf_tables state of one network namespace at one
// generation.
type Ruleset struct {
	// Generation is the ruleset generation id (NFT_MSG_GETGEN) the dump
	// was read at; the reader re-reads when it changes mid-dump.
	Generation uint32
	Tables     []*Table
	Chains     []*Chain
	Rules      []*Rule
	Sets       []*Set
	Objects    []*Object
}

// Table is one nf_tables table.
type Table struct {
	Family Family
	Name   string
	Flags  uint32 // NFT_TABLE_F_DORMANT=1, NFT_TABLE_F_OWNER=2, NFT_TABLE_F_PERSIST=4
	Handle uint64
	Use    uint32 // number of chains, sets and objects in it
}

// Chain is one chain; a base chain has a hook.
type Chain struct {
	Family Family
	Table  string
	Name   string
	Handle uint64

	// HasHook is true for base chains; Hooknum is NF_INET_* (PREROUTING=0,
	// INPUT=1, FORWARD=2, OUTPUT=3, POSTROUTING=4, INGRESS=5 for inet,
	// NF_NETDEV_INGRESS=0 / EGRESS=1 for netdev).
	HasHook  bool
	Hooknum  uint32
	Priority int32
	// HasPolicy is true when the kernel sent NFTA_CHAIN_POLICY (base
	// chains); Policy is NF_DROP=0 or NF_ACCEPT=1.
	HasPolicy bool
	Policy    uint32
	Type      string   // "filter", "nat", "route"; empty for regular chains
	Devices   []string // netdev/inet ingress devices
	Flags     uint32   // NFT_CHAIN_BASE=1, HW_OFFLOAD=2, BINDING=4
	Use       uint32   // number of references (jumps/gotos, verdict maps)
}

// Rule is one rule: its expressions in order.
type Rule struct {
	Family Family
	Table  string
	Chain  string
	Handle uint64
	// Position is NFTA_RULE_POSITION: in a dump, the handle of the rule
	// before it in its chain; 0 for a chain's first rule.
	Position uint64
	Exprs    []Expr
	// UserData is NFTA_RULE_USERDATA: TLVs of type (1 byte) length
	// (1 byte) value; type 0 is the comment (NUL-terminated). iptables-nft
	// also stores its comment match there; see Comment.
	UserData []byte
}

// Set is a named or anonymous set or map.
type Set struct {
	Family Family
	Table  string
	Name   string
	Handle uint64
	ID     uint32 // NFTA_SET_ID, if sent

	Flags      uint32 // NFT_SET_* (see SetFlag constants)
	KeyType    uint32 // nft's datatype id (concatenations pack 6 bits per field)
	KeyLen     uint32
	DataType   uint32 // maps only; 0xffffff00 is NFT_DATA_VERDICT
	DataLen    uint32
	ObjType    uint32 // object maps: NFT_OBJECT_*
	Policy     uint32 // NFT_SET_POL_PERFORMANCE=0, MEMORY=1
	Timeout    uint64 // milliseconds
	GCInterval uint32
	// Fields are the byte lengths of the fields of a concatenated key
	// (NFTA_SET_DESC_CONCAT), when sent.
	Fields   []uint32
	Size     uint32 // NFTA_SET_DESC_SIZE, if sent
	UserData []byte
	// Exprs are the per-element expressions of the set (NFTA_SET_EXPR(S)).
	Exprs []Expr

	Elements []Elem
}

// Set flags (NFT_SET_*).
const (
	SetAnonymous = 0x1
	SetConstant  = 0x2
	SetInterval  = 0x4
	SetMap       = 0x8
	SetTimeout   = 0x10
	SetEval      = 0x20 // dynamic: updated from the packet path
	SetObject    = 0x40
	SetConcat    = 0x80
	SetExpr      = 0x100
)

// Elem is one set element. With SetInterval, an interval is two elements:
// its start, and its end (exclusive) carrying ElemIntervalEnd; or, for
// concatenated intervals, one element with Key and KeyEnd.
type Elem struct {
	Key      []byte
	KeyEnd   []byte
	Data     []byte   // map value (non-verdict)
	Verdict  *Verdict // verdict-map value
	ObjRef   string   // object-map value
	Flags    uint32   // NFT_SET_ELEM_INTERVAL_END=1, NFT_SET_ELEM_CATCHALL=2
	Timeout  uint64
	Expires  uint64
	UserData []byte
	Exprs    []Expr
}

// Element flags.
const (
	ElemIntervalEnd = 0x1
	ElemCatchall    = 0x2
)

// Object is a named stateful object (counter, quota, limit, ct helper...).
// Its body is kept raw: rules reach it through Objref by name.
type Object struct {
	Family   Family
	Table    string
	Name     string
	Handle   uint64
	Type     uint32 // NFT_OBJECT_*: COUNTER=1 QUOTA=2 CT_HELPER=3 LIMIT=4 CONNLIMIT=5 TUNNEL=6 CT_TIMEOUT=7 SECMARK=8 CT_EXPECT=9 SYNPROXY=10
	Data     []byte // NFTA_OBJ_DATA, raw attributes
	UserData []byte
}

// Verdict is a verdict: a code and, for jump and goto, a chain.
type Verdict struct {
	Code    int32 // NF_DROP=0, NF_ACCEPT=1, NF_STOLEN=2, NF_QUEUE=3, NF_REPEAT=4, NF_STOP=5; NFT_CONTINUE=-1, NFT_BREAK=-2, NFT_JUMP=-3, NFT_GOTO=-4, NFT_RETURN=-5
	Chain   string
	ChainID uint32 // NFTA_VERDICT_CHAIN_ID, binding chains
}

// Verdict codes.
const (
	VerdictDrop     int32 = 0
	VerdictAccept   int32 = 1
	VerdictStolen   int32 = 2
	VerdictQueue    int32 = 3
	VerdictRepeat   int32 = 4
	VerdictStop     int32 = 5
	VerdictContinue int32 = -1
	VerdictBreak    int32 = -2
	VerdictJump     int32 = -3
	VerdictGoto     int32 = -4
	VerdictReturn   int32 = -5
)

// Registers. The kernel numbers them as NFTA_*_REG attributes carry them:
// 0 is the verdict register, 1..4 are the four 16-byte registers
// (NFT_REG_1..NFT_REG_4), and 8..23 are the sixteen 4-byte registers
// NFT_REG32_00..NFT_REG32_15 that overlay them (NFT_REG32_00..03 are
// NFT_REG_1, 04..07 NFT_REG_2, and so on). Reg32Offset gives, for any
// register number, its byte offset in the kernel's register file, so two
// numbers that name overlapping storage can be compared.
const (
	RegVerdict = 0
	Reg1       = 1
	Reg2       = 2
	Reg3       = 3
	Reg4       = 4
	Reg32_00   = 8
	Reg32_15   = 23
)

// RegOffset is the byte offset of register r in the 64-byte data area
// after the verdict (0 for NFT_REG_1 and NFT_REG32_00; 4 for NFT_REG32_01;
// 16 for NFT_REG_2); ok is false for the verdict register and for numbers
// the kernel rejects.
func RegOffset(r uint32) (off int, ok bool) {
	switch {
	case r >= Reg1 && r <= Reg4:
		return int(r-Reg1) * 16, true
	case r >= Reg32_00 && r <= Reg32_15:
		return int(r-Reg32_00) * 4, true
	}
	return 0, false
}

func itoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}
