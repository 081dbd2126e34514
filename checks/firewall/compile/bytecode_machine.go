package compile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nfnl"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/xt"
)

// regBytes is the size of the register file nfnl.RegOffset addresses.
const regBytes = 64

// machine runs one rule's expressions.
type machine struct {
	fam   nfnl.Family
	table string
	sets  *setIndex
	dec   *xt.Decoder
	bc    *bcRule
	// regs holds what each register byte offset was loaded with (a
	// load at its first byte); 64 bytes is the kernel's register file.
	regs [regBytes]*regVal
	// vals shares the named contents of plain loads between rules; a
	// regVal is never changed once built.
	vals map[valKey]*regVal
	// rights shares printed values by register content and bytes.
	rights map[*regVal]map[string]nftjson.Expr
	// l3 and l4 are the network family (4 or 6) and transport protocol
	// the rule has established so far: header fields are named in them.
	l3, l4 uint8
	out    []nftjson.Stmt
	// jumps shares jump and goto statements by target.
	jumps map[jumpKey]nftjson.Stmt
	// cmpStmts shares the statements of comparisons (see cmp).
	cmpStmts map[cmpStmtKey]cmpStmt
	// ifNames names interface indexes (see ifNames).
	ifNames map[uint32]string
}

// notUnderstood is a statement the nft compiler turns into an undecided
// verdict naming it: whatever it does is not assumed.
func notUnderstood(what string) nftjson.Stmt { return nftjson.OtherStmt{Kind: what} }

// unknownMatch is a match the nft compiler turns into an unknown
// condition naming it.
func unknownMatch(what string) nftjson.Stmt {
	return nftjson.Match{Op: "==", Left: nftjson.OtherExpr{Kind: what}, Right: nftjson.Literal{}}
}

func (m *machine) load(reg uint32, v *regVal) {
	off, ok := nfnl.RegOffset(reg)
	if !ok {
		m.out = append(m.out, unknownMatch(fmt.Sprintf("load into register %d", reg)))
		return
	}
	// A load overwrites whatever overlapped it.
	for o := off + 1; o < off+max(v.len, 4) && o < regBytes; o++ {
		m.regs[o] = nil
	}
	m.regs[off] = v
}

func (m *machine) reg(reg uint32) *regVal {
	off, ok := nfnl.RegOffset(reg)
	if !ok {
		return nil
	}
	return m.regs[off]
}

// valKey identifies a plain load: its expression kind and fields, and
// the family and protocol context that name it.
type valKey struct {
	kind       uint8
	a, b, c, d uint32
	l3, l4     uint8
}

// shared returns the cached content for k, or builds and keeps it.
func (m *machine) shared(k valKey, build func() *regVal) *regVal {
	if v, ok := m.vals[k]; ok {
		return v
	}
	v := build()
	m.vals[k] = v
	return v
}

func (m *machine) run(exprs []nfnl.Expr) []nftjson.Stmt {
	m.regs = [regBytes]*regVal{}
	m.l3, m.l4 = 0, 0
	switch m.fam {
	case nfnl.FamilyIPv4:
		m.l3 = 4
	case nfnl.FamilyIPv6:
		m.l3 = 6
	}
	for _, e := range exprs {
		if !m.step(e) {
			break
		}
	}
	return m.out
}

// step runs one expression; false ends the rule (a verdict).
func (m *machine) step(e nfnl.Expr) bool {
	switch x := e.(type) {
	case *nfnl.Payload:
		if x.SReg != 0 {
			m.out = append(m.out, nftjson.Mangle{Key: m.payloadVal(x).left, Value: nftjson.Literal{}})
			return true
		}
		m.load(x.DReg, m.shared(valKey{0, x.Base, x.Offset, x.Len, 0, m.l3, m.l4}, func() *regVal { return m.payloadVal(x) }))
	case *nfnl.Meta:
		if x.Attrs&(1<<3) != 0 { // NFTA_META_SREG: a store
			m.out = append(m.out, nftjson.Mangle{Key: m.metaVal(x.Key).left, Value: m.storedValue(x.SReg)})
			return true
		}
		m.load(x.DReg, m.shared(valKey{kind: 1, a: x.Key}, func() *regVal { return m.metaVal(x.Key) }))
	case *nfnl.Ct:
		if x.Attrs&(1<<4) != 0 { // NFTA_CT_SREG: a store
			key := m.ctVal(x).left
			if _, ok := key.(nftjson.OtherExpr); ok {
				key = nftjson.Ct{Key: fmt.Sprintf("key %d", x.Key)}
			}
			m.out = append(m.out, nftjson.Mangle{Key: key, Value: m.storedValue(x.SReg)})
			return true
		}
		m.load(x.DReg, m.shared(valKey{2, x.Key, uint32(x.Dir), x.Attrs &^ (1 << 4), 0, m.l3, 0}, func() *regVal { return m.ctVal(x) }))
	case *nfnl.Fib:
		m.load(x.DReg, m.shared(valKey{kind: 3, a: x.Result, b: x.Flags}, func() *regVal { return fibVal(x) }))
	case *nfnl.Bitwise:
		m.load(x.DReg, masked(m.reg(x.SReg), x))
	case *nfnl.Immediate:
		if x.Verdict != nil || x.DReg == nfnl.RegVerdict {
			return m.verdict(x.Verdict)
		}
		m.load(x.DReg, &regVal{left: nftjson.OtherExpr{Kind: "immediate value"}, len: len(x.Data), imm: x.Data})
	case *nfnl.Cmp:
		m.cmp(x)
	case *nfnl.Range:
		m.rangeMatch(x)
	case *nfnl.Lookup:
		return m.lookup(x)
	case *nfnl.Match:
		m.xtMatch(x)
	case *nfnl.Target:
		m.xtTarget(x)
		return false
	case *nfnl.Counter:
		m.out = append(m.out, stmtCounter)
	case *nfnl.Log:
		m.out = append(m.out, stmtLog)
	case *nfnl.Limit:
		m.out = append(m.out, history("limit", x.Flags&nfnl.LimitInvert != 0))
	case *nfnl.Quota:
		m.out = append(m.out, history("quota", x.Flags&1 != 0))
	case *nfnl.Connlimit:
		m.out = append(m.out, history("ct count", x.Flags&1 != 0))
	case *nfnl.Last:
		m.out = append(m.out, history("last", false))
	case *nfnl.Reject:
		// The kernel rejects every family the table sees; the family
		// dependency nft writes before "reject with icmp" is a
		// comparison of its own in the bytecode.
		m.out = append(m.out, nftjson.Reject{})
		return false
	case *nfnl.Nat:
		m.nat(x)
		return false
	case *nfnl.Masq:
		m.out = append(m.out, nftjson.OtherStmt{Kind: "masquerade", Raw: json.RawMessage(`{"masquerade":null}`)})
		return false
	case *nfnl.Redir:
		raw := `{"redirect":null}`
		if x.RegProtoMin != 0 {
			p, err := m.immPort(x.RegProtoMin, x.RegProtoMax)
			if err != nil {
				m.out = append(m.out, notUnderstood("redirect "+err.Error()))
				return false
			}
			raw = fmt.Sprintf(`{"redirect":{"port":%d}}`, p)
		}
		m.out = append(m.out, nftjson.OtherStmt{Kind: "redirect", Raw: json.RawMessage(raw)})
		return false
	case *nfnl.Dynset:
		op := map[uint32]string{0: "add", 1: "update", 2: "delete"}[x.Op]
		if op == "" {
			m.out = append(m.out, notUnderstood(fmt.Sprintf("dynset op %d", x.Op)))
			return false
		}
		raw, _ := json.Marshal(map[string]map[string]string{"set": {"op": op, "set": "@" + x.SetName}})
		m.out = append(m.out, nftjson.OtherStmt{Kind: "set", Raw: raw})
	case *nfnl.Objref:
		m.objref(x)
	case *nfnl.Exthdr:
		m.exthdr(x)
	case *nfnl.Queue:
		m.out = append(m.out, nftjson.OtherStmt{Kind: "queue"})
		return false
	case *nfnl.Dup:
		m.out = append(m.out, nftjson.OtherStmt{Kind: "dup"})
	case *nfnl.Fwd, *nfnl.Tproxy, *nfnl.Synproxy:
		m.out = append(m.out, nftjson.OtherStmt{Kind: e.Name()})
		return false
	case *nfnl.Rt:
		m.load(x.DReg, unknownVal("rt"))
	case *nfnl.Socket:
		m.load(x.DReg, unknownVal("socket"))
	case *nfnl.Numgen:
		m.load(x.DReg, unknownVal("numgen"))
	case *nfnl.Hash:
		m.load(x.DReg, unknownVal("hash"))
	case *nfnl.Byteorder:
		m.load(x.DReg, byteorder(m.reg(x.SReg), x))
	case *nfnl.Notrack:
		m.out = append(m.out, nftjson.Notrack{})
	case *nfnl.Unknown:
		switch x.ExprName {
		case "flow_offload":
			m.out = append(m.out, nftjson.OtherStmt{Kind: "flow"})
			return true
		}
		why := "expression " + x.ExprName
		if x.Err != "" {
			why += " (" + x.Err + ")"
		}
		m.out = append(m.out, notUnderstood(why))
		return false
	default:
		m.out = append(m.out, notUnderstood("expression "+e.Name()))
		return false
	}
	return true
}

func history(kind string, inv bool) nftjson.Stmt {
	if st, ok := historyShared[historyKey{kind, inv}]; ok {
		return st
	}
	return newHistory(kind, inv)
}

func newHistory(kind string, inv bool) nftjson.Stmt {
	raw, _ := json.Marshal(map[string]map[string]bool{kind: {"inv": inv}})
	return nftjson.OtherStmt{Kind: kind, Raw: raw}
}

// The statements most rules end or are counted with, built once: each
// built anew costs an allocation per rule (and history a JSON encoding).
// Statements are values, never changed once made, so rules share them.
var (
	stmtCounter nftjson.Stmt = nftjson.OtherStmt{Kind: "counter"}
	stmtLog     nftjson.Stmt = nftjson.OtherStmt{Kind: "log"}
	stmtVerdict              = map[string]nftjson.Stmt{}
)

type historyKey struct {
	kind string
	inv  bool
}

var historyShared = map[historyKey]nftjson.Stmt{}

func init() {
	for _, k := range []string{"accept", "drop", "continue", "return"} {
		stmtVerdict[k] = nftjson.Verdict{Kind: k}
	}
	for _, k := range []string{"limit", "quota", "ct count", "last"} {
		for _, inv := range []bool{false, true} {
			historyShared[historyKey{k, inv}] = newHistory(k, inv)
		}
	}
}

// jumpStmt is the shared jump or goto statement to a chain.
func (m *machine) jumpStmt(kind, chain string) nftjson.Stmt {
	k := jumpKey{kind, chain}
	if st, ok := m.jumps[k]; ok {
		return st
	}
	st := nftjson.Stmt(nftjson.Verdict{Kind: kind, Target: chain})
	if m.jumps == nil {
		m.jumps = map[jumpKey]nftjson.Stmt{}
	}
	m.jumps[k] = st
	return st
}

type jumpKey struct{ kind, chain string }

// storedValue is the value a meta/ct store writes: a constant, or the
// key another load put in the register.
func (m *machine) storedValue(reg uint32) nftjson.Expr {
	v := m.reg(reg)
	switch {
	case v == nil:
		return nftjson.OtherExpr{Kind: "unknown register"}
	case v.imm != nil:
		if len(v.imm) == 4 {
			return nftjson.Literal{Num: int64(binary.NativeEndian.Uint32(v.imm)), IsNum: true}
		}
		return nftjson.OtherExpr{Kind: "constant"}
	}
	return v.left
}

var cmpOps = map[uint32]string{nfnl.CmpEq: "==", nfnl.CmpNeq: "!=", nfnl.CmpLt: "<",
	nfnl.CmpLte: "<=", nfnl.CmpGt: ">", nfnl.CmpGte: ">="}

func (m *machine) cmp(c *nfnl.Cmp) {
	v := m.reg(c.SReg)
	op, ok := cmpOps[c.Op]
	switch {
	case v == nil:
		m.out = append(m.out, unknownMatch(fmt.Sprintf("comparison of register %d, which nothing loaded", c.SReg)))
		return
	case !ok:
		m.out = append(m.out, unknownMatch(fmt.Sprintf("comparison operator %d", c.Op)))
		return
	case v.value == nil:
		m.out = append(m.out, nftjson.Match{Op: op, Left: v.left, Right: nftjson.Literal{}})
		return
	}
	if v.masked != 0 {
		m.out = append(m.out, flagsMatch(v, op, c.Data))
		return
	}
	// The decoder shares identical comparisons and the machine identical
	// loads: the statement they make is built once (addresses, rarely
	// repeated, are not kept).
	k := cmpStmtKey{v, c}
	if st, ok := m.cmpStmts[k]; ok {
		m.out = append(m.out, st.stmt)
		if op == "==" {
			m.context(v, st.right)
		}
		return
	}
	right, err := m.valueOf(v, c.Data)
	if err != nil {
		m.out = append(m.out, unknownMatch(fmt.Sprintf("%s %s %x: %v", leftName(v.left), op, c.Data, err)))
		return
	}
	st := nftjson.Stmt(nftjson.Match{Op: op, Left: v.left, Right: right})
	m.out = append(m.out, st)
	if !v.addr && len(m.cmpStmts) < maxSharedConds {
		if m.cmpStmts == nil {
			m.cmpStmts = map[cmpStmtKey]cmpStmt{}
		}
		m.cmpStmts[k] = cmpStmt{st, right}
	}
	if op == "==" {
		m.context(v, right)
	}
}

// cmpStmtKey is a comparison of a register's content; cmpStmt the
// statement it reads back as, and its right side.
type cmpStmtKey struct {
	v *regVal
	c *nfnl.Cmp
}

type cmpStmt struct {
	stmt  nftjson.Stmt
	right nftjson.Expr
}

// valueOf prints compared bytes, sharing the printed value between rules
// that compare the same field with the same bytes.
func (m *machine) valueOf(v *regVal, data []byte) (nftjson.Expr, error) {
	if v.addr {
		return v.value(data)
	}
	byData := m.rights[v]
	if e, ok := byData[string(data)]; ok {
		return e, nil
	}
	e, err := v.value(data)
	if err != nil {
		return nil, err
	}
	if byData == nil {
		byData = map[string]nftjson.Expr{}
		m.rights[v] = byData
	}
	byData[string(data)] = e
	return e, nil
}

// context notes a protocol or family equality: later header fields are
// named in it.
func (m *machine) context(v *regVal, right nftjson.Expr) {
	l, ok := right.(nftjson.Literal)
	if !ok || !l.IsNum {
		return
	}
	switch {
	case v.proto:
		m.l4 = uint8(l.Num)
		if p, ok := v.left.(nftjson.Payload); !ok || p.Field != "nexthdr" {
			// What iptables' "-p" compiles to; "ip6 nexthdr" is not it.
			m.bc.proto = l4Names[uint8(l.Num)]
			if m.bc.proto == "" {
				m.bc.proto = strconv.Itoa(int(l.Num))
			}
		}
	case v.family:
		switch l.Num {
		case 2, 0x0800:
			m.l3 = 4
		case 10, 0x86dd:
			m.l3 = 6
		}
	}
}

// flagsMatch reads "key & mask OP value" on a bit set as nft lists it.
func flagsMatch(v *regVal, op string, data []byte) nftjson.Stmt {
	if len(data) != 4 {
		return unknownMatch(leftName(v.left) + ": comparison length")
	}
	val := binary.NativeEndian.Uint32(data)
	names, ok := flagList(v.masked, v.flags)
	if !ok {
		return unknownMatch(fmt.Sprintf("%s & %#x: bits not known", leftName(v.left), v.masked))
	}
	switch {
	case val == 0 && op == "!=":
		// Any of the bits: the state is one of them.
		return nftjson.Match{Op: "in", Left: v.left, Right: names}
	case val == 0 && op == "==":
		return nftjson.Match{Op: "!=", Left: v.left, Right: names}
	case val == v.masked && len(names) == 1 && (op == "==" || op == "!="):
		return nftjson.Match{Op: op, Left: v.left, Right: names[0]}
	}
	return unknownMatch(fmt.Sprintf("%s & %#x %s %#x", leftName(v.left), v.masked, op, val))
}

func (m *machine) rangeMatch(r *nfnl.Range) {
	v := m.reg(r.SReg)
	if v == nil || v.value == nil || v.masked != 0 {
		m.out = append(m.out, unknownMatch("range on an unknown register"))
		return
	}
	lo, err1 := v.value(r.From)
	hi, err2 := v.value(r.To)
	if err1 != nil || err2 != nil {
		m.out = append(m.out, unknownMatch(fmt.Sprintf("range on %s: %v %v", leftName(v.left), err1, err2)))
		return
	}
	op := "=="
	if r.Op == nfnl.RangeNeq {
		op = "!="
	}
	m.out = append(m.out, nftjson.Match{Op: op, Left: v.left, Right: nftjson.Range{Lo: lo, Hi: hi}})
}

func (m *machine) verdict(v *nfnl.Verdict) bool {
	if v == nil {
		m.out = append(m.out, notUnderstood("verdict without a code"))
		return false
	}
	switch v.Code {
	case nfnl.VerdictAccept:
		m.out = append(m.out, stmtVerdict["accept"])
	case nfnl.VerdictDrop:
		m.out = append(m.out, stmtVerdict["drop"])
	case nfnl.VerdictContinue:
		m.out = append(m.out, stmtVerdict["continue"])
		return true
	case nfnl.VerdictReturn:
		m.out = append(m.out, stmtVerdict["return"])
	case nfnl.VerdictJump, nfnl.VerdictGoto:
		kind := "jump"
		if v.Code == nfnl.VerdictGoto {
			kind = "goto"
		}
		if v.Chain == "" {
			m.out = append(m.out, notUnderstood(kind+" to an anonymous chain"))
			break
		}
		m.out = append(m.out, m.jumpStmt(kind, v.Chain))
	case nfnl.VerdictQueue:
		m.out = append(m.out, nftjson.OtherStmt{Kind: "queue"})
	default:
		m.out = append(m.out, notUnderstood(fmt.Sprintf("verdict code %d", v.Code)))
	}
	return false
}

func verdictExpr(v *nfnl.Verdict) (nftjson.VerdictExpr, bool) {
	if v == nil {
		return nftjson.VerdictExpr{}, false
	}
	switch v.Code {
	case nfnl.VerdictAccept:
		return nftjson.VerdictExpr{Kind: "accept"}, true
	case nfnl.VerdictDrop:
		return nftjson.VerdictExpr{Kind: "drop"}, true
	case nfnl.VerdictContinue:
		return nftjson.VerdictExpr{Kind: "continue"}, true
	case nfnl.VerdictReturn:
		return nftjson.VerdictExpr{Kind: "return"}, true
	case nfnl.VerdictJump:
		return nftjson.VerdictExpr{Kind: "jump", Target: v.Chain}, v.Chain != ""
	case nfnl.VerdictGoto:
		return nftjson.VerdictExpr{Kind: "goto", Target: v.Chain}, v.Chain != ""
	}
	return nftjson.VerdictExpr{}, false
}

// keyVals returns the registers a lookup key of n bytes spans: one, or
// the fields of a concatenation (each starting on a 4-byte boundary).
func (m *machine) keyVals(reg uint32, n int) ([]*regVal, bool) {
	off, ok := nfnl.RegOffset(reg)
	if !ok {
		return nil, false
	}
	var out []*regVal
	for used := 0; used < n; {
		var v *regVal
		if off+used < regBytes {
			v = m.regs[off+used]
		}
		if v == nil || v.value == nil || v.masked != 0 || v.len == 0 {
			return nil, false
		}
		out = append(out, v)
		used += (v.len + 3) &^ 3
	}
	return out, true
}

func (m *machine) lookup(l *nfnl.Lookup) bool {
	s := m.sets.find(m.fam, m.table, l.SetName, l.SetID)
	if s == nil {
		m.out = append(m.out, unknownMatch("lookup in set "+l.SetName+", which the dump does not hold"))
		return l.DReg != nfnl.RegVerdict || l.Attrs&(1<<3) == 0
	}
	isVmap := s.Flags&nfnl.SetMap != 0 && s.DataType == 0xffffff00
	keyLen := int(s.KeyLen)
	fields, ok := m.keyVals(l.SReg, keyLen)
	if !ok {
		m.out = append(m.out, unknownMatch("lookup in @"+s.Name+" of a key not understood"))
		if isVmap {
			m.out = append(m.out, notUnderstood("verdict map @"+s.Name+" on a key not understood"))
			return false
		}
		return true
	}
	var left nftjson.Expr = fields[0].left
	if len(fields) > 1 {
		cc := make(nftjson.Concat, len(fields))
		for i, f := range fields {
			cc[i] = f.left
		}
		left = cc
	}
	// A rule may update any set but a constant one (nft's anonymous
	// sets are constant; a netlink client's need not be).
	mutable := s.Flags&nfnl.SetAnonymous == 0 || s.Flags&nfnl.SetConstant == 0
	sk := setKey{s.Family, s.Table, s.Name}
	dynamic := s.Flags&(nfnl.SetEval|nfnl.SetTimeout) != 0 || m.sets.updated[sk]
	if mutable && !dynamic {
		// Read as fixed: a later rule that updates it must have this
		// one read again (decompiled.updates).
		m.sets.fixed[sk] = true
	}
	if mutable && dynamic {
		if isVmap {
			m.out = append(m.out, nftjson.VMap{Key: left, Data: nftjson.SetRef{Name: s.Name}})
			return false
		}
		op := "=="
		if l.Invert() {
			op = "!="
		}
		m.out = append(m.out, nftjson.Match{Op: op, Left: left, Right: nftjson.SetRef{Name: s.Name}})
		return true
	}
	elems, err := setElems(s, fields, isVmap)
	if err != nil {
		m.out = append(m.out, unknownMatch(fmt.Sprintf("lookup in @%s: %v", s.Name, err)))
		if isVmap {
			m.out = append(m.out, notUnderstood("verdict map @"+s.Name+" not read"))
			return false
		}
		return true
	}
	if isVmap {
		m.out = append(m.out, nftjson.VMap{Key: left, Data: elems})
		return false
	}
	if l.DReg != 0 {
		// A data map: its value goes to a register (dnat to a mapped
		// address); the lookup itself requires the key.
		m.out = append(m.out, nftjson.Match{Op: "==", Left: left, Right: elems})
		m.load(l.DReg, unknownVal("value of map @"+s.Name))
		return true
	}
	op := "=="
	if l.Invert() {
		op = "!="
	}
	if len(elems) == 0 {
		// An empty set never holds a key; nft's JSON has no form for it.
		if op == "==" {
			m.out = append(m.out, falseMatch())
		}
		return true
	}
	m.out = append(m.out, nftjson.Match{Op: op, Left: left, Right: elems})
	return true
}

// falseMatch is a match that never holds: an ICMP field, which no TCP
// SYN carries (the nft compiler's kFalse).
func falseMatch() nftjson.Stmt {
	return nftjson.Match{Op: "==", Left: nftjson.Payload{Protocol: "icmp", Field: "type"}, Right: nftjson.Literal{Num: 0, IsNum: true}}
}

// setElems reads a set's elements as values of the key's fields; for a
// verdict map each is a [key, verdict] list.
func setElems(s *nfnl.Set, fields []*regVal, vmap bool) (nftjson.AnonSet, error) {
	type iv struct {
		lo, hi []byte // hi inclusive; nil for a single key
		v      *nfnl.Verdict
	}
	var items []iv
	interval := s.Flags&nfnl.SetInterval != 0 && len(fields) == 1
	if interval {
		// Interval sets hold each interval's start, and its end
		// (exclusive) flagged as such; sorted by key, a start runs to the
		// next boundary, or to the top of the key space.
		es := slices.Clone(s.Elements)
		slices.SortStableFunc(es, func(a, b nfnl.Elem) int {
			if c := bytes.Compare(a.Key, b.Key); c != 0 {
				return c
			}
			return int(b.Flags&nfnl.ElemIntervalEnd) - int(a.Flags&nfnl.ElemIntervalEnd)
		})
		for i, e := range es {
			if e.Flags&nfnl.ElemCatchall != 0 {
				return nil, fmt.Errorf("catch-all element not modelled")
			}
			if e.Flags&nfnl.ElemIntervalEnd != 0 {
				continue
			}
			var hi []byte
			if i+1 < len(es) {
				hi = slices.Clone(es[i+1].Key)
				if !decrement(hi) {
					return nil, fmt.Errorf("empty interval")
				}
			} else {
				hi = bytes.Repeat([]byte{0xff}, len(e.Key))
			}
			if len(e.KeyEnd) > 0 {
				hi = e.KeyEnd
			}
			items = append(items, iv{lo: e.Key, hi: hi, v: e.Verdict})
		}
	} else {
		for _, e := range s.Elements {
			if e.Flags&nfnl.ElemCatchall != 0 {
				return nil, fmt.Errorf("catch-all element not modelled")
			}
			items = append(items, iv{lo: e.Key, hi: e.KeyEnd, v: e.Verdict})
		}
	}
	var out nftjson.AnonSet
	for _, it := range items {
		key, err := elemKey(fields, it.lo, it.hi)
		if err != nil {
			return nil, err
		}
		if !vmap {
			out = append(out, key)
			continue
		}
		ve, ok := verdictExpr(it.v)
		if !ok {
			return nil, fmt.Errorf("element verdict not understood")
		}
		out = append(out, nftjson.List{key, ve})
	}
	return out, nil
}

// elemKey prints a key (or a key range) field by field.
func elemKey(fields []*regVal, lo, hi []byte) (nftjson.Expr, error) {
	var parts nftjson.Concat
	off := 0
	for _, f := range fields {
		if off+f.len > len(lo) || (hi != nil && off+f.len > len(hi)) {
			return nil, fmt.Errorf("element shorter than its key")
		}
		l, err := f.value(lo[off : off+f.len])
		if err != nil {
			return nil, err
		}
		var v nftjson.Expr = l
		if hi != nil && !bytes.Equal(lo[off:off+f.len], hi[off:off+f.len]) {
			h, err := f.value(hi[off : off+f.len])
			if err != nil {
				return nil, err
			}
			v = nftjson.Range{Lo: l, Hi: h}
		}
		parts = append(parts, v)
		off += (f.len + 3) &^ 3
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return parts, nil
}

// decrement subtracts one from a big-endian number; false at zero.
func decrement(b []byte) bool {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] > 0 {
			b[i]--
			return true
		}
		b[i] = 0xff
	}
	return false
}

func (m *machine) immPort(minReg, maxReg uint32) (uint16, error) {
	lo := m.reg(minReg)
	if lo == nil || len(lo.imm) < 2 {
		return 0, fmt.Errorf("port from a register not understood")
	}
	p := binary.BigEndian.Uint16(lo.imm)
	if maxReg != 0 && maxReg != minReg {
		hi := m.reg(maxReg)
		if hi == nil || len(hi.imm) < 2 || binary.BigEndian.Uint16(hi.imm) != p {
			return 0, fmt.Errorf("to a port range")
		}
	}
	return p, nil
}

func (m *machine) nat(n *nfnl.Nat) {
	kind := "snat"
	if n.Type == nfnl.NatDnat {
		kind = "dnat"
	}
	if m.fam == nfnl.FamilyInet && (n.Family == 2 || n.Family == 10) {
		// In an inet table the statement rewrites only its own family.
		m.out = append(m.out, nftjson.Match{Op: "==", Left: nftjson.Meta{Key: "nfproto"}, Right: nftjson.Literal{Num: int64(n.Family), IsNum: true}})
	}
	body := map[string]any{}
	if n.RegAddrMin != 0 {
		v := m.reg(n.RegAddrMin)
		if v == nil || v.imm == nil {
			m.out = append(m.out, notUnderstood(kind+" to an address from a map or expression"))
			return
		}
		var a netip.Addr
		switch {
		case n.Family == 2 && len(v.imm) >= 4:
			a = netip.AddrFrom4([4]byte(v.imm[:4]))
		case n.Family == 10 && len(v.imm) >= 16:
			a = netip.AddrFrom16([16]byte(v.imm[:16]))
		default:
			m.out = append(m.out, notUnderstood(kind+" address not understood"))
			return
		}
		if n.RegAddrMax != 0 && n.RegAddrMax != n.RegAddrMin {
			hi := m.reg(n.RegAddrMax)
			if hi == nil || !bytes.Equal(hi.imm, v.imm) {
				body["addr"] = map[string]any{"range": []string{a.String(), "?"}}
			}
		}
		if _, set := body["addr"]; !set {
			body["addr"] = a.String()
		}
	}
	if n.RegProtoMin != 0 {
		p, err := m.immPort(n.RegProtoMin, n.RegProtoMax)
		if err != nil {
			m.out = append(m.out, notUnderstood(kind+" "+err.Error()))
			return
		}
		body["port"] = p
	}
	raw, _ := json.Marshal(map[string]any{kind: body})
	m.out = append(m.out, nftjson.OtherStmt{Kind: kind, Raw: raw})
}

func (m *machine) objref(o *nfnl.Objref) {
	if o.SetName != "" {
		m.out = append(m.out, notUnderstood("object map @"+o.SetName))
		return
	}
	switch o.Type {
	case 1:
		m.out = append(m.out, nftjson.OtherStmt{Kind: "counter"})
	case 2:
		m.out = append(m.out, history("quota", false))
	case 4:
		m.out = append(m.out, history("limit", false))
	case 5:
		m.out = append(m.out, history("ct count", false))
	case 3:
		m.out = append(m.out, nftjson.OtherStmt{Kind: "ct helper"})
	case 7:
		m.out = append(m.out, nftjson.OtherStmt{Kind: "ct timeout"})
	case 8:
		m.out = append(m.out, nftjson.OtherStmt{Kind: "secmark"})
	case 9:
		m.out = append(m.out, nftjson.OtherStmt{Kind: "ct expectation"})
	default:
		m.out = append(m.out, notUnderstood(fmt.Sprintf("object reference of type %d", o.Type)))
	}
}

func (m *machine) exthdr(x *nfnl.Exthdr) {
	kind := map[uint32]string{nfnl.ExthdrOpIPv6: "exthdr", nfnl.ExthdrOpTCPOpt: "tcp option",
		nfnl.ExthdrOpIPv4: "ip option", nfnl.ExthdrOpSCTP: "sctp chunk"}[x.Op]
	if kind == "" {
		kind = fmt.Sprintf("exthdr op %d", x.Op)
	}
	if x.SReg != 0 {
		m.out = append(m.out, nftjson.Mangle{Key: nftjson.OtherExpr{Kind: kind}, Value: nftjson.Literal{}})
		return
	}
	v := &regVal{left: nftjson.OtherExpr{Kind: kind}, len: int(x.Len), value: func(b []byte) (nftjson.Expr, error) {
		return nftjson.Literal{Num: 0, IsNum: true}, nil
	}}
	if x.Flags&nfnl.ExthdrPresent != 0 {
		v.value = func(b []byte) (nftjson.Expr, error) {
			if len(b) == 1 && b[0] <= 1 {
				return nftjson.Literal{Str: map[byte]string{0: "false", 1: "true"}[b[0]]}, nil
			}
			return nil, errLen
		}
	}
	m.load(x.DReg, v)
}

func (m *machine) xtFam() (xt.Family, error) {
	f, ok := xtFamily(m.fam)
	if !ok {
		return 0, errXtFamily
	}
	return f, nil
}

func (m *machine) xtMatch(x *nfnl.Match) {
	m.out = append(m.out, nftjson.Xt{Type: "match", Name: x.MatchName})
	f, err := m.xtFam()
	if err != nil {
		m.bc.matches = append(m.bc.matches, nil)
		m.bc.matchErrs = append(m.bc.matchErrs, err)
		return
	}
	mt, err := m.dec.Match(f, x.MatchName, x.Rev, x.Info)
	m.bc.matches = append(m.bc.matches, mt)
	m.bc.matchErrs = append(m.bc.matchErrs, err)
}

func (m *machine) xtTarget(x *nfnl.Target) {
	m.out = append(m.out, nftjson.Xt{Type: "target", Name: x.TargetName})
	f, err := m.xtFam()
	if err != nil {
		m.bc.targetErr = err
		return
	}
	t, err := m.dec.Target(f, x.TargetName, x.Rev, x.Info)
	m.bc.target, m.bc.targetErr = &t, err
}
