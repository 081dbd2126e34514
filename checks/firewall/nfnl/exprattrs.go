package nfnl

import "errors"

// The attributes of each expression (NFTA_<EXPR>_*), by number: where
// each goes, and the name its errors give.

// exprAttrs is an expression's table; attrs, for an expression that keeps
// them, is its Attrs field, which gets the set of attributes sent.
type exprAttrs[T any] struct {
	by    []attr[T]
	attrs func(*T) *uint32
}

// decodeAs decodes NFTA_EXPR_DATA b into a new T by x.
func decodeAs[T any](d *decoder, b []byte, x *exprAttrs[T]) (*T, error) {
	e := new(T)
	seen, err := fill(d, e, x.by, b)
	if x.attrs != nil {
		*x.attrs(e) = seen
	}
	return e, err
}

// payloadAttrs and cmpAttrs decode into the decoder's scratch values,
// which it then shares (see exprData).
var payloadAttrs = []attr[Payload]{
	1: asU32("dreg", func(e *Payload) *uint32 { return &e.DReg }),
	2: asU32("base", func(e *Payload) *uint32 { return &e.Base }),
	3: asU32("offset", func(e *Payload) *uint32 { return &e.Offset }),
	4: asU32("len", func(e *Payload) *uint32 { return &e.Len }),
	5: asU32("sreg", func(e *Payload) *uint32 { return &e.SReg }),
	6: asU32("csum type", func(e *Payload) *uint32 { return &e.CsumType }),
	7: asU32("csum offset", func(e *Payload) *uint32 { return &e.CsumOffset }),
	8: asU32("csum flags", func(e *Payload) *uint32 { return &e.CsumFlags }),
}

// cmpAttrs leaves Data in the datagram: internCmp copies it.
var cmpAttrs = []attr[Cmp]{
	1: asU32("sreg", func(e *Cmp) *uint32 { return &e.SReg }),
	2: asU32("op", func(e *Cmp) *uint32 { return &e.Op }),
	3: asFunc("data", func(d *decoder, e *Cmp, p []byte) error {
		v, ok := dataValue(p)
		var err error
		if !ok {
			v, _, err = d.data(p)
		}
		e.Data = v
		return err
	}),
}

var bitwiseAttrs = exprAttrs[Bitwise]{by: []attr[Bitwise]{
	1: asU32("sreg", func(e *Bitwise) *uint32 { return &e.SReg }),
	2: asU32("dreg", func(e *Bitwise) *uint32 { return &e.DReg }),
	3: asU32("len", func(e *Bitwise) *uint32 { return &e.Len }),
	4: asData("data", func(e *Bitwise) *[]byte { return &e.Mask }),
	5: asData("data", func(e *Bitwise) *[]byte { return &e.Xor }),
	6: asU32("op", func(e *Bitwise) *uint32 { return &e.Op }),
	7: asData("data", func(e *Bitwise) *[]byte { return &e.Data }),
}}

var rangeAttrs = exprAttrs[Range]{by: []attr[Range]{
	1: asU32("sreg", func(e *Range) *uint32 { return &e.SReg }),
	2: asU32("op", func(e *Range) *uint32 { return &e.Op }),
	3: asData("data", func(e *Range) *[]byte { return &e.From }),
	4: asData("data", func(e *Range) *[]byte { return &e.To }),
}}

var lookupAttrs = exprAttrs[Lookup]{attrs: func(e *Lookup) *uint32 { return &e.Attrs }, by: []attr[Lookup]{
	1: asName(func(e *Lookup) *string { return &e.SetName }),
	2: asU32("sreg", func(e *Lookup) *uint32 { return &e.SReg }),
	3: asU32("dreg", func(e *Lookup) *uint32 { return &e.DReg }),
	4: asU32("set id", func(e *Lookup) *uint32 { return &e.SetID }),
	5: asU32("flags", func(e *Lookup) *uint32 { return &e.Flags }),
}}

var metaAttrs = exprAttrs[Meta]{attrs: func(e *Meta) *uint32 { return &e.Attrs }, by: []attr[Meta]{
	1: asU32("dreg", func(e *Meta) *uint32 { return &e.DReg }),
	2: asU32("key", func(e *Meta) *uint32 { return &e.Key }),
	3: asU32("sreg", func(e *Meta) *uint32 { return &e.SReg }),
}}

var ctAttrs = exprAttrs[Ct]{attrs: func(e *Ct) *uint32 { return &e.Attrs }, by: []attr[Ct]{
	1: asU32("dreg", func(e *Ct) *uint32 { return &e.DReg }),
	2: asU32("key", func(e *Ct) *uint32 { return &e.Key }),
	3: asU8("direction", func(e *Ct) *uint8 { return &e.Dir }),
	4: asU32("sreg", func(e *Ct) *uint32 { return &e.SReg }),
}}

var immediateAttrs = exprAttrs[Immediate]{by: []attr[Immediate]{
	1: asU32("dreg", func(e *Immediate) *uint32 { return &e.DReg }),
	2: asFunc("data", func(d *decoder, e *Immediate, p []byte) (err error) {
		e.Data, e.Verdict, err = d.data(p)
		return err
	}),
}}

// NFTA_MATCH_* and NFTA_TARGET_* are numbered alike.
var matchAttrs = exprAttrs[Match]{by: []attr[Match]{
	1: asName(func(e *Match) *string { return &e.MatchName }),
	2: asU32("rev", func(e *Match) *uint32 { return &e.Rev }),
	3: asBytes(func(e *Match) *[]byte { return &e.Info }),
}}

var targetAttrs = exprAttrs[Target]{by: []attr[Target]{
	1: asName(func(e *Target) *string { return &e.TargetName }),
	2: asU32("rev", func(e *Target) *uint32 { return &e.Rev }),
	3: asBytes(func(e *Target) *[]byte { return &e.Info }),
}}

var counterAttrs = exprAttrs[Counter]{by: []attr[Counter]{
	1: asU64("bytes", func(e *Counter) *uint64 { return &e.Bytes }),
	2: asU64("packets", func(e *Counter) *uint64 { return &e.Packets }),
}}

var logAttrs = exprAttrs[Log]{attrs: func(e *Log) *uint32 { return &e.Attrs }, by: []attr[Log]{
	1: asU16("group", func(e *Log) *uint16 { return &e.Group }),
	2: asName(func(e *Log) *string { return &e.Prefix }),
	3: asU32("snaplen", func(e *Log) *uint32 { return &e.Snaplen }),
	4: asU16("qthreshold", func(e *Log) *uint16 { return &e.QThreshold }),
	5: asU32("level", func(e *Log) *uint32 { return &e.Level }),
	6: asU32("flags", func(e *Log) *uint32 { return &e.Flags }),
}}

var limitAttrs = exprAttrs[Limit]{by: []attr[Limit]{
	1: asU64("rate", func(e *Limit) *uint64 { return &e.Rate }),
	2: asU64("unit", func(e *Limit) *uint64 { return &e.Unit }),
	3: asU32("burst", func(e *Limit) *uint32 { return &e.Burst }),
	4: asU32("type", func(e *Limit) *uint32 { return &e.Type }),
	5: asU32("flags", func(e *Limit) *uint32 { return &e.Flags }),
}}

var quotaAttrs = exprAttrs[Quota]{by: []attr[Quota]{
	1: asU64("bytes", func(e *Quota) *uint64 { return &e.Bytes }),
	2: asU32("flags", func(e *Quota) *uint32 { return &e.Flags }),
	4: asU64("consumed", func(e *Quota) *uint64 { return &e.Consumed }),
}}

var connlimitAttrs = exprAttrs[Connlimit]{by: []attr[Connlimit]{
	1: asU32("count", func(e *Connlimit) *uint32 { return &e.Count }),
	2: asU32("flags", func(e *Connlimit) *uint32 { return &e.Flags }),
}}

var lastAttrs = exprAttrs[Last]{by: []attr[Last]{
	1: asU32("set", func(e *Last) *uint32 { return &e.Set }),
	2: asU64("msecs", func(e *Last) *uint64 { return &e.Msecs }),
}}

var rejectAttrs = exprAttrs[Reject]{by: []attr[Reject]{
	1: asU32("type", func(e *Reject) *uint32 { return &e.Type }),
	2: asU8("icmp code", func(e *Reject) *uint8 { return &e.Code }),
}}

var natAttrs = exprAttrs[Nat]{attrs: func(e *Nat) *uint32 { return &e.Attrs }, by: []attr[Nat]{
	1: asU32("type", func(e *Nat) *uint32 { return &e.Type }),
	2: asU32("family", func(e *Nat) *uint32 { return &e.Family }),
	3: asU32("reg addr min", func(e *Nat) *uint32 { return &e.RegAddrMin }),
	4: asU32("reg addr max", func(e *Nat) *uint32 { return &e.RegAddrMax }),
	5: asU32("reg proto min", func(e *Nat) *uint32 { return &e.RegProtoMin }),
	6: asU32("reg proto max", func(e *Nat) *uint32 { return &e.RegProtoMax }),
	7: asU32("flags", func(e *Nat) *uint32 { return &e.Flags }),
}}

var masqAttrs = exprAttrs[Masq]{attrs: func(e *Masq) *uint32 { return &e.Attrs }, by: []attr[Masq]{
	1: asU32("flags", func(e *Masq) *uint32 { return &e.Flags }),
	2: asU32("reg proto min", func(e *Masq) *uint32 { return &e.RegProtoMin }),
	3: asU32("reg proto max", func(e *Masq) *uint32 { return &e.RegProtoMax }),
}}

var redirAttrs = exprAttrs[Redir]{attrs: func(e *Redir) *uint32 { return &e.Attrs }, by: []attr[Redir]{
	1: asU32("reg proto min", func(e *Redir) *uint32 { return &e.RegProtoMin }),
	2: asU32("reg proto max", func(e *Redir) *uint32 { return &e.RegProtoMax }),
	3: asU32("flags", func(e *Redir) *uint32 { return &e.Flags }),
}}

// dynsetAttrs is indexed by depth (0, or 1 for a nested dynset, which
// may nest no further). NFTA_DYNSET_EXPR (7) is decoded after the others
// (see exprData). Set in init: decoding NFTA_DYNSET_EXPRESSIONS decodes
// expressions, a dynset among them.
var dynsetAttrs [2]exprAttrs[Dynset]

func init() { dynsetAttrs = [2]exprAttrs[Dynset]{dynsetTable(0), dynsetTable(1)} }

func dynsetTable(depth int) exprAttrs[Dynset] {
	return exprAttrs[Dynset]{attrs: func(e *Dynset) *uint32 { return &e.Attrs }, by: []attr[Dynset]{
		1: asName(func(e *Dynset) *string { return &e.SetName }),
		2: asU32("set id", func(e *Dynset) *uint32 { return &e.SetID }),
		3: asU32("op", func(e *Dynset) *uint32 { return &e.Op }),
		4: asU32("sreg key", func(e *Dynset) *uint32 { return &e.SRegKey }),
		5: asU32("sreg data", func(e *Dynset) *uint32 { return &e.SRegData }),
		6: asU64("timeout", func(e *Dynset) *uint64 { return &e.Timeout }),
		9: asU32("flags", func(e *Dynset) *uint32 { return &e.Flags }),
		10: asFunc("expressions", func(d *decoder, e *Dynset, p []byte) error {
			es, err := d.nested(p, depth)
			e.Exprs = append(e.Exprs, es...)
			return err
		}),
	}}
}

var objrefAttrs = exprAttrs[Objref]{attrs: func(e *Objref) *uint32 { return &e.Attrs }, by: []attr[Objref]{
	1: asU32("type", func(e *Objref) *uint32 { return &e.Type }),
	2: asName(func(e *Objref) *string { return &e.ObjName }),
	3: asU32("set sreg", func(e *Objref) *uint32 { return &e.SReg }),
	4: asName(func(e *Objref) *string { return &e.SetName }),
	5: asU32("set id", func(e *Objref) *uint32 { return &e.SetID }),
}}

var exthdrAttrs = exprAttrs[Exthdr]{attrs: func(e *Exthdr) *uint32 { return &e.Attrs }, by: []attr[Exthdr]{
	1: asU32("dreg", func(e *Exthdr) *uint32 { return &e.DReg }),
	// NFTA_EXTHDR_TYPE is one byte.
	2: asFunc("type", func(_ *decoder, e *Exthdr, p []byte) error {
		v, err := u8(p)
		e.Type = uint32(v)
		return err
	}),
	3: asU32("offset", func(e *Exthdr) *uint32 { return &e.Offset }),
	4: asU32("len", func(e *Exthdr) *uint32 { return &e.Len }),
	5: asU32("flags", func(e *Exthdr) *uint32 { return &e.Flags }),
	6: asU32("op", func(e *Exthdr) *uint32 { return &e.Op }),
	7: asU32("sreg", func(e *Exthdr) *uint32 { return &e.SReg }),
}}

var fibAttrs = exprAttrs[Fib]{by: []attr[Fib]{
	1: asU32("dreg", func(e *Fib) *uint32 { return &e.DReg }),
	2: asU32("result", func(e *Fib) *uint32 { return &e.Result }),
	3: asU32("flags", func(e *Fib) *uint32 { return &e.Flags }),
}}

var rtAttrs = exprAttrs[Rt]{by: []attr[Rt]{
	1: asU32("dreg", func(e *Rt) *uint32 { return &e.DReg }),
	2: asU32("key", func(e *Rt) *uint32 { return &e.Key }),
}}

var socketAttrs = exprAttrs[Socket]{attrs: func(e *Socket) *uint32 { return &e.Attrs }, by: []attr[Socket]{
	1: asU32("key", func(e *Socket) *uint32 { return &e.Key }),
	2: asU32("dreg", func(e *Socket) *uint32 { return &e.DReg }),
	3: asU32("level", func(e *Socket) *uint32 { return &e.Level }),
}}

var numgenAttrs = exprAttrs[Numgen]{by: []attr[Numgen]{
	1: asU32("dreg", func(e *Numgen) *uint32 { return &e.DReg }),
	2: asU32("modulus", func(e *Numgen) *uint32 { return &e.Modulus }),
	3: asU32("type", func(e *Numgen) *uint32 { return &e.Type }),
	4: asU32("offset", func(e *Numgen) *uint32 { return &e.Offset }),
}}

var hashAttrs = exprAttrs[Hash]{by: []attr[Hash]{
	1: asU32("sreg", func(e *Hash) *uint32 { return &e.SReg }),
	2: asU32("dreg", func(e *Hash) *uint32 { return &e.DReg }),
	3: asU32("len", func(e *Hash) *uint32 { return &e.Len }),
	4: asU32("modulus", func(e *Hash) *uint32 { return &e.Modulus }),
	5: asU32("seed", func(e *Hash) *uint32 { return &e.Seed }),
	6: asU32("offset", func(e *Hash) *uint32 { return &e.Offset }),
	7: asU32("type", func(e *Hash) *uint32 { return &e.Type }),
}}

// The errors of the 16-bit fields say "queue", not which field.
var queueAttrs = exprAttrs[Queue]{attrs: func(e *Queue) *uint32 { return &e.Attrs }, by: []attr[Queue]{
	1: asU16("queue", func(e *Queue) *uint16 { return &e.Num }),
	2: asU16("queue", func(e *Queue) *uint16 { return &e.Total }),
	3: asU16("queue", func(e *Queue) *uint16 { return &e.Flags }),
	4: asU32("sreg qnum", func(e *Queue) *uint32 { return &e.SRegQnum }),
}}

var dupAttrs = exprAttrs[Dup]{attrs: func(e *Dup) *uint32 { return &e.Attrs }, by: []attr[Dup]{
	1: asU32("sreg addr", func(e *Dup) *uint32 { return &e.SRegAddr }),
	2: asU32("sreg dev", func(e *Dup) *uint32 { return &e.SRegDev }),
}}

var fwdAttrs = exprAttrs[Fwd]{attrs: func(e *Fwd) *uint32 { return &e.Attrs }, by: []attr[Fwd]{
	1: asU32("sreg dev", func(e *Fwd) *uint32 { return &e.SRegDev }),
	2: asU32("sreg addr", func(e *Fwd) *uint32 { return &e.SRegAddr }),
	3: asU32("nfproto", func(e *Fwd) *uint32 { return &e.NFProto }),
}}

var tproxyAttrs = exprAttrs[Tproxy]{attrs: func(e *Tproxy) *uint32 { return &e.Attrs }, by: []attr[Tproxy]{
	1: asU32("family", func(e *Tproxy) *uint32 { return &e.Family }),
	2: asU32("reg addr", func(e *Tproxy) *uint32 { return &e.RegAddr }),
	3: asU32("reg port", func(e *Tproxy) *uint32 { return &e.RegPort }),
}}

var synproxyAttrs = exprAttrs[Synproxy]{attrs: func(e *Synproxy) *uint32 { return &e.Attrs }, by: []attr[Synproxy]{
	1: asU16("mss", func(e *Synproxy) *uint16 { return &e.MSS }),
	2: asU8("wscale", func(e *Synproxy) *uint8 { return &e.Wscale }),
	3: asU32("flags", func(e *Synproxy) *uint32 { return &e.Flags }),
}}

// notrack has no attributes: a table without entries checks the stream.
var notrackAttrs = exprAttrs[Notrack]{}

var xfrmAttrs = exprAttrs[Xfrm]{attrs: func(e *Xfrm) *uint32 { return &e.Attrs }, by: []attr[Xfrm]{
	1: asU32("dreg", func(e *Xfrm) *uint32 { return &e.DReg }),
	2: asU32("key", func(e *Xfrm) *uint32 { return &e.Key }),
	3: asU8("dir", func(e *Xfrm) *uint8 { return &e.Dir }),
	4: asU32("spnum", func(e *Xfrm) *uint32 { return &e.SPNum }),
}}

var osfAttrs = exprAttrs[Osf]{attrs: func(e *Osf) *uint32 { return &e.Attrs }, by: []attr[Osf]{
	1: asU32("dreg", func(e *Osf) *uint32 { return &e.DReg }),
	2: asU8("ttl", func(e *Osf) *uint8 { return &e.TTL }),
	3: asU32("flags", func(e *Osf) *uint32 { return &e.Flags }),
}}

var byteorderAttrs = exprAttrs[Byteorder]{by: []attr[Byteorder]{
	1: asU32("sreg", func(e *Byteorder) *uint32 { return &e.SReg }),
	2: asU32("dreg", func(e *Byteorder) *uint32 { return &e.DReg }),
	3: asU32("op", func(e *Byteorder) *uint32 { return &e.Op }),
	4: asU32("len", func(e *Byteorder) *uint32 { return &e.Len }),
	5: asU32("size", func(e *Byteorder) *uint32 { return &e.Size }),
}}

var errNestedTooDeep = errors.New("nested too deep")
