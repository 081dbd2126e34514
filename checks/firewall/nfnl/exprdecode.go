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
	// The first error inside the walk is kept apart from the walk's own:
	// overwritten, a verdict without a code would read as a drop and an
	// oversized value as no value.
	var inner error
	_, err = walk(b, func(typ uint16, p []byte) {
		if inner != nil {
			return
		}
		switch typ {
		case 1: // NFTA_DATA_VALUE
			if len(p) > maxDataValue {
				inner = fmt.Errorf("data value of %d bytes (at most %d)", len(p), maxDataValue)
				return
			}
			val = d.bytes(p)
		case 2: // NFTA_DATA_VERDICT
			v, inner = d.verdict(p)
		}
	})
	if err == nil {
		err = inner
	}
	return val, v, err
}

func (d *decoder) verdict(b []byte) (*Verdict, error) {
	v := &Verdict{}
	seen, err := fill(d, v, verdictAttrs, b)
	if err == nil && seen&(1<<1) == 0 {
		err = errors.New("verdict without a code")
	}
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
// nil, nil for a name it does not know; with an error, the expression
// is not used.
func (d *decoder) exprData(name string, b []byte, depth int) (Expr, error) {
	switch name {
	case "payload":
		// Decoded into the decoder's scratch and shared (internPayload):
		// a large ruleset loads the same few fields in every rule, and
		// allocates each only once.
		e := &d.payload
		*e = Payload{}
		if _, err := fill(d, e, payloadAttrs, b); err != nil {
			return nil, err
		}
		return d.internPayload(*e), nil
	case "cmp":
		// Shared like payloads, looked up before the data is copied.
		e := &d.cmp
		*e = Cmp{}
		if _, err := fill(d, e, cmpAttrs, b); err != nil {
			return nil, err
		}
		return d.internCmp(e.SReg, e.Op, e.Data), nil
	case "bitwise":
		return decodeAs(d, b, &bitwiseAttrs)
	case "range":
		return decodeAs(d, b, &rangeAttrs)
	case "lookup":
		return decodeAs(d, b, &lookupAttrs)
	case "meta":
		return decodeAs(d, b, &metaAttrs)
	case "ct":
		return decodeAs(d, b, &ctAttrs)
	case "immediate":
		return decodeAs(d, b, &immediateAttrs)
	case "match":
		return decodeAs(d, b, &matchAttrs)
	case "target":
		return decodeAs(d, b, &targetAttrs)
	case "counter":
		return decodeAs(d, b, &counterAttrs)
	case "log":
		return decodeAs(d, b, &logAttrs)
	case "limit":
		return decodeAs(d, b, &limitAttrs)
	case "quota":
		return decodeAs(d, b, &quotaAttrs)
	case "connlimit":
		return decodeAs(d, b, &connlimitAttrs)
	case "last":
		return decodeAs(d, b, &lastAttrs)
	case "reject":
		return decodeAs(d, b, &rejectAttrs)
	case "nat":
		return decodeAs(d, b, &natAttrs)
	case "masq":
		return decodeAs(d, b, &masqAttrs)
	case "redir":
		return decodeAs(d, b, &redirAttrs)
	case "dynset":
		return d.dynset(b, depth)
	case "objref":
		return decodeAs(d, b, &objrefAttrs)
	case "exthdr":
		return decodeAs(d, b, &exthdrAttrs)
	case "fib":
		return decodeAs(d, b, &fibAttrs)
	case "rt":
		return decodeAs(d, b, &rtAttrs)
	case "socket":
		return decodeAs(d, b, &socketAttrs)
	case "numgen":
		return decodeAs(d, b, &numgenAttrs)
	case "hash":
		return decodeAs(d, b, &hashAttrs)
	case "queue":
		return decodeAs(d, b, &queueAttrs)
	case "dup":
		return decodeAs(d, b, &dupAttrs)
	case "fwd":
		return decodeAs(d, b, &fwdAttrs)
	case "tproxy":
		return decodeAs(d, b, &tproxyAttrs)
	case "synproxy":
		return decodeAs(d, b, &synproxyAttrs)
	case "notrack":
		return decodeAs(d, b, &notrackAttrs)
	case "xfrm":
		return decodeAs(d, b, &xfrmAttrs)
	case "osf":
		return decodeAs(d, b, &osfAttrs)
	case "byteorder":
		return decodeAs(d, b, &byteorderAttrs)
	}
	return nil, nil
}

// dynset decodes a dynset; its NFTA_DYNSET_EXPR (the last one sent) is
// decoded after the other attributes, so it follows the expressions of
// NFTA_DYNSET_EXPRESSIONS.
func (d *decoder) dynset(b []byte, depth int) (*Dynset, error) {
	e, err := decodeAs(d, b, &dynsetAttrs[min(depth, 1)])
	var f fields
	if p, ok := lastAttr(b, 7); ok {
		if depth > 0 {
			f.fail("expr", errNestedTooDeep)
		} else {
			x, err := d.expr(p, depth+1)
			f.fail("expr", err)
			if x != nil {
				e.Exprs = append(e.Exprs, x)
			}
		}
	}
	return e, errs(err, f.err)
}

// nested decodes a list of expressions inside an expression (dynset) or
// set element, one level deep at most.
func (d *decoder) nested(b []byte, depth int) ([]Expr, error) {
	if depth > 0 {
		return nil, errNestedTooDeep
	}
	return d.exprList(b, depth+1)
}

func errs(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
