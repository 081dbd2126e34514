package nfnl

import (
	"errors"
	"fmt"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nlsock"
)

// maxDataValue is NFT_DATA_VALUE_MAXLEN: no register value is longer.
const maxDataValue = 64

// maxNestedExprs bounds the expressions of a dynset or set element: the
// kernel allows two (NFT_SET_EXPR_MAX).
const maxNestedExprs = 8

// exprList decodes NFTA_RULE_EXPRESSIONS (or a set's list): NFTA_LIST_ELEM
// entries, each an expression.
func (d *decoder) exprList(b []byte, depth int) ([]Expr, error) {
	// Counted first, so the slice is allocated once at its size: a
	// ruleset holds hundreds of thousands of these.
	n := 0
	for a := (nlsock.AttrsOf(b)); ; n++ {
		if _, _, ok := a.Next(); !ok {
			break
		}
	}
	if n == 0 {
		return nil, nil
	}
	out := make([]Expr, 0, n)
	a := nlsock.AttrsOf(b)
	for {
		typ, p, ok := a.Next()
		if !ok {
			break
		}
		if typ != 1 { // NFTA_LIST_ELEM
			continue
		}
		if depth > 0 && len(out) >= maxNestedExprs {
			return out, fmt.Errorf("more than %d nested expressions", maxNestedExprs)
		}
		e, err := d.expr(p, depth)
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, a.Err()
}

// expr decodes one NFTA_LIST_ELEM: NFTA_EXPR_NAME and NFTA_EXPR_DATA.
func (d *decoder) expr(b []byte, depth int) (Expr, error) {
	var name, data []byte
	hasData := false
	if _, err := walk(b, func(typ uint16, p []byte) {
		switch typ {
		case 1:
			name = p
		case 2:
			data, hasData = p, true
		}
	}); err != nil {
		return nil, fmt.Errorf("expression: %w", err)
	}
	if name == nil {
		return nil, errors.New("expression without a name")
	}
	n := exprName(trimNUL(name))
	if n == "" {
		n = d.str(trimNUL(name))
	}
	// Expressions a ruleset repeats (verdicts, meta keys, masks, xt
	// matches) are decoded once and shared: the same attribute bytes
	// decode to the same expression.
	shared := d.sharedExprs(n, depth)
	if shared != nil {
		if e, ok := shared[string(data)]; ok {
			return e, nil
		}
	}
	e, err := d.exprData(n, data, depth)
	if shared != nil && err == nil && e != nil && len(shared) < maxSharedExprs {
		shared[string(data)] = e
	}
	if err != nil || e == nil {
		u := &Unknown{ExprName: n, Raw: d.bytes(data)}
		if err != nil {
			u.Err = err.Error()
		}
		return u, nil
	}
	_ = hasData
	return e, nil
}

// data decodes an NFTA_DATA nest: a value or a verdict.
// dataValue is the NFTA_DATA_VALUE of b, not copied (nil if b holds
// none). ok is false when b holds anything else (a verdict): data must
// read it then.
func dataValue(b []byte) (val []byte, ok bool) {
	a := nlsock.AttrsOf(b)
	for {
		typ, p, more := a.Next()
		if !more {
			break
		}
		if typ != 1 || len(p) > maxDataValue { // NFTA_DATA_VALUE
			return nil, false
		}
		val = p
	}
	return val, a.Err() == nil
}

func (d *decoder) data(b []byte) (val []byte, v *Verdict, err error) {
	_, err = walk(b, func(typ uint16, p []byte) {
		switch typ {
		case 1: // NFTA_DATA_VALUE
			if len(p) > maxDataValue {
				err = fmt.Errorf("data value of %d bytes (at most %d)", len(p), maxDataValue)
				return
			}
			val = d.bytes(p)
		case 2: // NFTA_DATA_VERDICT
			v, err = d.verdict(p)
		}
	})
	return val, v, err
}

func (d *decoder) verdict(b []byte) (*Verdict, error) {
	v := &Verdict{}
	var f fields
	var code uint32
	seen, err := walk(b, func(typ uint16, p []byte) {
		switch typ {
		case 1:
			f.u32(&code, "verdict code", p)
		case 2:
			v.Chain = d.str(trimNUL(p))
		case 3:
			f.u32(&v.ChainID, "verdict chain id", p)
		}
	})
	if err == nil {
		err = f.err
	}
	if err == nil && seen&(1<<1) == 0 {
		err = errors.New("verdict without a code")
	}
	v.Code = int32(code)
	return v, err
}

func trimNUL(p []byte) []byte {
	for i, c := range p {
		if c == 0 {
			return p[:i]
		}
	}
	return p
}

// maxSharedExprs bounds each table of shared expressions: past it,
// expressions that rarely repeat (comments) cost their entry and save
// nothing.
const maxSharedExprs = 1 << 12

// sharedExprs is the table of shared expressions named n, or nil for
// expressions not shared: nested ones, and those whose attributes hold
// values that rarely repeat (counters, payloads and comparisons, which
// are shared by value instead).
func (d *decoder) sharedExprs(n string, depth int) map[string]Expr {
	if depth > 0 {
		return nil
	}
	switch n {
	case "immediate", "meta", "bitwise", "ct", "match", "target":
	default:
		return nil
	}
	m := d.exprs[n]
	if m == nil {
		m = map[string]Expr{}
		d.exprs[n] = m
	}
	return m
}

// exprName is the name of a common expression without a lookup in the
// interned names (every expression of a ruleset has one); "" for others.
func exprName(p []byte) string {
	switch string(p) {
	case "payload":
		return "payload"
	case "cmp":
		return "cmp"
	case "meta":
		return "meta"
	case "immediate":
		return "immediate"
	case "counter":
		return "counter"
	case "match":
		return "match"
	case "target":
		return "target"
	case "bitwise":
		return "bitwise"
	case "lookup":
		return "lookup"
	case "ct":
		return "ct"
	case "range":
		return "range"
	case "limit":
		return "limit"
	case "log":
		return "log"
	}
	return ""
}

// exprData decodes NFTA_EXPR_DATA of the named expression. It returns
// nil, nil for a name it does not know.
func (d *decoder) exprData(name string, b []byte, depth int) (Expr, error) {
	var f fields
	var seen uint32
	var err error
	switch name {
	case "payload":
		// Decoded on the stack and shared (internPayload): a large
		// ruleset loads the same few fields in every rule, and allocates
		// each only once.
		var e Payload
		a := nlsock.AttrsOf(b)
		for {
			t, p, ok := a.Next()
			if !ok {
				break
			}
			if t < 32 {
				seen |= 1 << t
			}
			switch t {
			case 1:
				f.u32(&e.DReg, "dreg", p)
			case 2:
				f.u32(&e.Base, "base", p)
			case 3:
				f.u32(&e.Offset, "offset", p)
			case 4:
				f.u32(&e.Len, "len", p)
			case 5:
				f.u32(&e.SReg, "sreg", p)
			case 6:
				f.u32(&e.CsumType, "csum type", p)
			case 7:
				f.u32(&e.CsumOffset, "csum offset", p)
			case 8:
				f.u32(&e.CsumFlags, "csum flags", p)
			}
		}
		if err = errs(a.Err(), f.err); err == nil {
			return d.internPayload(e), nil
		}
		return &Payload{DReg: e.DReg, Base: e.Base, Offset: e.Offset, Len: e.Len, SReg: e.SReg,
			CsumType: e.CsumType, CsumOffset: e.CsumOffset, CsumFlags: e.CsumFlags}, err
	case "cmp":
		// Shared like payloads, looked up before the data is copied.
		var sreg, op uint32
		var data []byte
		a := nlsock.AttrsOf(b)
		for {
			t, p, ok := a.Next()
			if !ok {
				break
			}
			if t < 32 {
				seen |= 1 << t
			}
			switch t {
			case 1:
				f.u32(&sreg, "sreg", p)
			case 2:
				f.u32(&op, "op", p)
			case 3:
				v, ok := dataValue(p)
				if !ok {
					var derr error
					v, _, derr = d.data(p)
					f.fail("data", derr)
				}
				data = v
			}
		}
		if err = errs(a.Err(), f.err); err == nil {
			return d.internCmp(sreg, op, data), nil
		}
		return &Cmp{SReg: sreg, Op: op, Data: d.bytes(data)}, err
	case "bitwise":
		e := &Bitwise{}
		seen, err = walk(b, func(t uint16, p []byte) {
			var derr error
			switch t {
			case 1:
				f.u32(&e.SReg, "sreg", p)
			case 2:
				f.u32(&e.DReg, "dreg", p)
			case 3:
				f.u32(&e.Len, "len", p)
			case 4:
				e.Mask, _, derr = d.data(p)
			case 5:
				e.Xor, _, derr = d.data(p)
			case 6:
				f.u32(&e.Op, "op", p)
			case 7:
				e.Data, _, derr = d.data(p)
			}
			f.fail("data", derr)
		})
		return e, errs(err, f.err)
	case "range":
		e := &Range{}
		seen, err = walk(b, func(t uint16, p []byte) {
			var derr error
			switch t {
			case 1:
				f.u32(&e.SReg, "sreg", p)
			case 2:
				f.u32(&e.Op, "op", p)
			case 3:
				e.From, _, derr = d.data(p)
			case 4:
				e.To, _, derr = d.data(p)
			}
			f.fail("data", derr)
		})
		return e, errs(err, f.err)
	case "lookup":
		e := &Lookup{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				e.SetName = d.str(trimNUL(p))
			case 2:
				f.u32(&e.SReg, "sreg", p)
			case 3:
				f.u32(&e.DReg, "dreg", p)
			case 4:
				f.u32(&e.SetID, "set id", p)
			case 5:
				f.u32(&e.Flags, "flags", p)
			}
		})
		e.Attrs = seen
		return e, errs(err, f.err)
	case "meta":
		e := &Meta{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.DReg, "dreg", p)
			case 2:
				f.u32(&e.Key, "key", p)
			case 3:
				f.u32(&e.SReg, "sreg", p)
			}
		})
		e.Attrs = seen
		return e, errs(err, f.err)
	case "ct":
		e := &Ct{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.DReg, "dreg", p)
			case 2:
				f.u32(&e.Key, "key", p)
			case 3:
				v, err := u8(p)
				f.fail("direction", err)
				e.Dir = v
			case 4:
				f.u32(&e.SReg, "sreg", p)
			}
		})
		e.Attrs = seen
		return e, errs(err, f.err)
	case "immediate":
		e := &Immediate{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.DReg, "dreg", p)
			case 2:
				var derr error
				e.Data, e.Verdict, derr = d.data(p)
				f.fail("data", derr)
			}
		})
		return e, errs(err, f.err)
	case "match", "target":
		var nm string
		var rev uint32
		var info []byte
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				nm = d.str(trimNUL(p))
			case 2:
				f.u32(&rev, "rev", p)
			case 3:
				info = d.bytes(p)
			}
		})
		if name == "match" {
			return &Match{MatchName: nm, Rev: rev, Info: info}, errs(err, f.err)
		}
		return &Target{TargetName: nm, Rev: rev, Info: info}, errs(err, f.err)
	case "counter":
		e := &Counter{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u64(&e.Bytes, "bytes", p)
			case 2:
				f.u64(&e.Packets, "packets", p)
			}
		})
		return e, errs(err, f.err)
	case "log":
		e := &Log{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				v, err := be16(p)
				f.fail("group", err)
				e.Group = v
			case 2:
				e.Prefix = d.str(trimNUL(p))
			case 3:
				f.u32(&e.Snaplen, "snaplen", p)
			case 4:
				v, err := be16(p)
				f.fail("qthreshold", err)
				e.QThreshold = v
			case 5:
				f.u32(&e.Level, "level", p)
			case 6:
				f.u32(&e.Flags, "flags", p)
			}
		})
		e.Attrs = seen
		return e, errs(err, f.err)
	case "limit":
		e := &Limit{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u64(&e.Rate, "rate", p)
			case 2:
				f.u64(&e.Unit, "unit", p)
			case 3:
				f.u32(&e.Burst, "burst", p)
			case 4:
				f.u32(&e.Type, "type", p)
			case 5:
				f.u32(&e.Flags, "flags", p)
			}
		})
		return e, errs(err, f.err)
	case "quota":
		e := &Quota{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u64(&e.Bytes, "bytes", p)
			case 2:
				f.u32(&e.Flags, "flags", p)
			case 4:
				f.u64(&e.Consumed, "consumed", p)
			}
		})
		return e, errs(err, f.err)
	case "connlimit":
		e := &Connlimit{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.Count, "count", p)
			case 2:
				f.u32(&e.Flags, "flags", p)
			}
		})
		return e, errs(err, f.err)
	case "last":
		e := &Last{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.Set, "set", p)
			case 2:
				f.u64(&e.Msecs, "msecs", p)
			}
		})
		return e, errs(err, f.err)
	case "reject":
		e := &Reject{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.Type, "type", p)
			case 2:
				v, err := u8(p)
				f.fail("icmp code", err)
				e.Code = v
			}
		})
		return e, errs(err, f.err)
	case "nat":
		e := &Nat{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.Type, "type", p)
			case 2:
				f.u32(&e.Family, "family", p)
			case 3:
				f.u32(&e.RegAddrMin, "reg addr min", p)
			case 4:
				f.u32(&e.RegAddrMax, "reg addr max", p)
			case 5:
				f.u32(&e.RegProtoMin, "reg proto min", p)
			case 6:
				f.u32(&e.RegProtoMax, "reg proto max", p)
			case 7:
				f.u32(&e.Flags, "flags", p)
			}
		})
		e.Attrs = seen
		return e, errs(err, f.err)
	case "masq":
		e := &Masq{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.Flags, "flags", p)
			case 2:
				f.u32(&e.RegProtoMin, "reg proto min", p)
			case 3:
				f.u32(&e.RegProtoMax, "reg proto max", p)
			}
		})
		e.Attrs = seen
		return e, errs(err, f.err)
	case "redir":
		e := &Redir{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.RegProtoMin, "reg proto min", p)
			case 2:
				f.u32(&e.RegProtoMax, "reg proto max", p)
			case 3:
				f.u32(&e.Flags, "flags", p)
			}
		})
		e.Attrs = seen
		return e, errs(err, f.err)
	case "dynset":
		e := &Dynset{}
		var nested [][]byte
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				e.SetName = d.str(trimNUL(p))
			case 2:
				f.u32(&e.SetID, "set id", p)
			case 3:
				f.u32(&e.Op, "op", p)
			case 4:
				f.u32(&e.SRegKey, "sreg key", p)
			case 5:
				f.u32(&e.SRegData, "sreg data", p)
			case 6:
				f.u64(&e.Timeout, "timeout", p)
			case 7: // NFTA_DYNSET_EXPR: one expression
				nested = append(nested[:0], p)
			case 9:
				f.u32(&e.Flags, "flags", p)
			case 10: // NFTA_DYNSET_EXPRESSIONS
				es, err := d.nested(p, depth)
				f.fail("expressions", err)
				e.Exprs = append(e.Exprs, es...)
			}
		})
		for _, p := range nested {
			if depth > 0 {
				f.fail("expr", errors.New("nested too deep"))
				break
			}
			x, err := d.expr(p, depth+1)
			f.fail("expr", err)
			if x != nil {
				e.Exprs = append(e.Exprs, x)
			}
		}
		e.Attrs = seen
		return e, errs(err, f.err)
	case "objref":
		e := &Objref{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.Type, "type", p)
			case 2:
				e.ObjName = d.str(trimNUL(p))
			case 3:
				f.u32(&e.SReg, "set sreg", p)
			case 4:
				e.SetName = d.str(trimNUL(p))
			case 5:
				f.u32(&e.SetID, "set id", p)
			}
		})
		e.Attrs = seen
		return e, errs(err, f.err)
	case "exthdr":
		e := &Exthdr{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.DReg, "dreg", p)
			case 2:
				v, err := u8(p)
				f.fail("type", err)
				e.Type = uint32(v)
			case 3:
				f.u32(&e.Offset, "offset", p)
			case 4:
				f.u32(&e.Len, "len", p)
			case 5:
				f.u32(&e.Flags, "flags", p)
			case 6:
				f.u32(&e.Op, "op", p)
			case 7:
				f.u32(&e.SReg, "sreg", p)
			}
		})
		e.Attrs = seen
		return e, errs(err, f.err)
	case "fib":
		e := &Fib{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.DReg, "dreg", p)
			case 2:
				f.u32(&e.Result, "result", p)
			case 3:
				f.u32(&e.Flags, "flags", p)
			}
		})
		return e, errs(err, f.err)
	case "rt":
		e := &Rt{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.DReg, "dreg", p)
			case 2:
				f.u32(&e.Key, "key", p)
			}
		})
		return e, errs(err, f.err)
	case "socket":
		e := &Socket{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.Key, "key", p)
			case 2:
				f.u32(&e.DReg, "dreg", p)
			case 3:
				f.u32(&e.Level, "level", p)
			}
		})
		e.Attrs = seen
		return e, errs(err, f.err)
	case "numgen":
		e := &Numgen{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.DReg, "dreg", p)
			case 2:
				f.u32(&e.Modulus, "modulus", p)
			case 3:
				f.u32(&e.Type, "type", p)
			case 4:
				f.u32(&e.Offset, "offset", p)
			}
		})
		return e, errs(err, f.err)
	case "hash":
		e := &Hash{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.SReg, "sreg", p)
			case 2:
				f.u32(&e.DReg, "dreg", p)
			case 3:
				f.u32(&e.Len, "len", p)
			case 4:
				f.u32(&e.Modulus, "modulus", p)
			case 5:
				f.u32(&e.Seed, "seed", p)
			case 6:
				f.u32(&e.Offset, "offset", p)
			case 7:
				f.u32(&e.Type, "type", p)
			}
		})
		return e, errs(err, f.err)
	case "queue":
		e := &Queue{}
		seen, err = walk(b, func(t uint16, p []byte) {
			var v uint16
			var err error
			switch t {
			case 1:
				v, err = be16(p)
				e.Num = v
			case 2:
				v, err = be16(p)
				e.Total = v
			case 3:
				v, err = be16(p)
				e.Flags = v
			case 4:
				f.u32(&e.SRegQnum, "sreg qnum", p)
			}
			f.fail("queue", err)
		})
		e.Attrs = seen
		return e, errs(err, f.err)
	case "dup":
		e := &Dup{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.SRegAddr, "sreg addr", p)
			case 2:
				f.u32(&e.SRegDev, "sreg dev", p)
			}
		})
		e.Attrs = seen
		return e, errs(err, f.err)
	case "fwd":
		e := &Fwd{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.SRegDev, "sreg dev", p)
			case 2:
				f.u32(&e.SRegAddr, "sreg addr", p)
			case 3:
				f.u32(&e.NFProto, "nfproto", p)
			}
		})
		e.Attrs = seen
		return e, errs(err, f.err)
	case "tproxy":
		e := &Tproxy{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.Family, "family", p)
			case 2:
				f.u32(&e.RegAddr, "reg addr", p)
			case 3:
				f.u32(&e.RegPort, "reg port", p)
			}
		})
		e.Attrs = seen
		return e, errs(err, f.err)
	case "synproxy":
		e := &Synproxy{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				v, err := be16(p)
				f.fail("mss", err)
				e.MSS = v
			case 2:
				v, err := u8(p)
				f.fail("wscale", err)
				e.Wscale = v
			case 3:
				f.u32(&e.Flags, "flags", p)
			}
		})
		e.Attrs = seen
		return e, errs(err, f.err)
	case "notrack":
		_, err = walk(b, func(uint16, []byte) {})
		return &Notrack{}, err
	case "xfrm":
		e := &Xfrm{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.DReg, "dreg", p)
			case 2:
				f.u32(&e.Key, "key", p)
			case 3:
				v, err := u8(p)
				f.fail("dir", err)
				e.Dir = v
			case 4:
				f.u32(&e.SPNum, "spnum", p)
			}
		})
		e.Attrs = seen
		return e, errs(err, f.err)
	case "osf":
		e := &Osf{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.DReg, "dreg", p)
			case 2:
				v, err := u8(p)
				f.fail("ttl", err)
				e.TTL = v
			case 3:
				f.u32(&e.Flags, "flags", p)
			}
		})
		e.Attrs = seen
		return e, errs(err, f.err)
	case "byteorder":
		e := &Byteorder{}
		seen, err = walk(b, func(t uint16, p []byte) {
			switch t {
			case 1:
				f.u32(&e.SReg, "sreg", p)
			case 2:
				f.u32(&e.DReg, "dreg", p)
			case 3:
				f.u32(&e.Op, "op", p)
			case 4:
				f.u32(&e.Len, "len", p)
			case 5:
				f.u32(&e.Size, "size", p)
			}
		})
		return e, errs(err, f.err)
	}
	return nil, nil
}

// nested decodes a list of expressions inside an expression (dynset) or
// set element, one level deep at most.
func (d *decoder) nested(b []byte, depth int) ([]Expr, error) {
	if depth > 0 {
		return nil, errors.New("nested too deep")
	}
	return d.exprList(b, depth+1)
}

func errs(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
