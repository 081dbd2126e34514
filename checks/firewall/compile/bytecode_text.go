package compile

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
)

// ruleText renders a rule read from bytecode, for messages that name it:
// nft's syntax for native expressions, iptables' for the xt matches and
// target of an iptables-nft rule. It is for people, not for parsing.
func ruleText(stmts []nftjson.Stmt, bc *bcRule) string {
	return string(appendRuleText(nil, stmts, bc))
}

// appendRuleText is ruleText into a buffer the caller reuses (one
// rendering per rule of a large ruleset).
func appendRuleText(buf []byte, stmts []nftjson.Stmt, bc *bcRule) []byte {
	b := bytes.NewBuffer(buf[:0])
	sep := func() {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
	}
	xm := 0
	for _, st := range stmts {
		sep()
		switch s := st.(type) {
		case nftjson.Match:
			writeExpr(b, s.Left)
			if s.Op != "==" && s.Op != "in" {
				b.WriteString(" " + s.Op)
			}
			if l, ok := s.Right.(nftjson.Literal); ok && l.IsNum && readsProto(s.Left) && l.Num >= 0 && l.Num < 256 && l4Names[uint8(l.Num)] != "" {
				b.WriteString(" " + l4Names[uint8(l.Num)])
				continue
			}
			if l, ok := s.Right.(nftjson.Literal); ok && l.IsNum && isMetaKey(s.Left, "nfproto") && nfprotoNames[l.Num] != "" {
				b.WriteString(" " + nfprotoNames[l.Num])
				continue
			}
			if l, ok := s.Right.(nftjson.Literal); !ok || l.IsNum || l.Str != "" {
				b.WriteByte(' ')
				writeExpr(b, s.Right)
			}
		case nftjson.Verdict:
			b.WriteString(s.Kind)
			if s.Target != "" {
				b.WriteString(" " + s.Target)
			}
		case nftjson.VMap:
			writeExpr(b, s.Key)
			b.WriteString(" vmap ")
			writeExpr(b, s.Data)
		case nftjson.Mangle:
			writeExpr(b, s.Key)
			b.WriteString(" set ")
			writeExpr(b, s.Value)
		case nftjson.Reject:
			b.WriteString("reject")
		case nftjson.Notrack:
			b.WriteString("notrack")
		case nftjson.Passive:
			b.WriteString(s.Kind)
		case nftjson.OtherStmt:
			if len(s.Raw) > 0 && s.Kind != "counter" {
				b.Write(s.Raw)
			} else {
				b.WriteString(s.Kind)
			}
		case nftjson.Xt:
			if s.Type == "match" {
				if xm < len(bc.matches) && bc.matches[xm] != nil {
					b.WriteString(iptsave.FormatSpec(&iptsave.Rule{Matches: []*iptsave.Match{bc.matches[xm]}}))
				} else {
					b.WriteString("xt match " + s.Name)
				}
				xm++
				continue
			}
			if bc.target != nil {
				b.WriteString(iptsave.FormatSpec(&iptsave.Rule{Target: bc.target.Name, TargetOptions: bc.target.Options}))
			} else {
				b.WriteString("xt target " + s.Name)
			}
		}
	}
	return b.Bytes()
}

func writeExpr(b *bytes.Buffer, e nftjson.Expr) {
	switch x := e.(type) {
	case nftjson.Literal:
		if x.IsNum {
			b.WriteString(strconv.FormatInt(x.Num, 10))
			return
		}
		b.WriteString(x.Str)
	case nftjson.Prefix:
		b.WriteString(x.Addr + "/" + strconv.Itoa(x.Len))
	case nftjson.Range:
		writeExpr(b, x.Lo)
		b.WriteByte('-')
		writeExpr(b, x.Hi)
	case nftjson.Payload:
		if x.Protocol == "" {
			b.WriteString("@" + x.Base + "," + strconv.FormatInt(x.Offset*8, 10) + "," + strconv.FormatInt(x.Len*8, 10))
			return
		}
		b.WriteString(x.Protocol + " " + x.Field)
	case nftjson.Meta:
		b.WriteString("meta " + x.Key)
	case nftjson.Ct:
		b.WriteString("ct ")
		if x.Dir != "" {
			b.WriteString(x.Dir + " ")
		}
		b.WriteString(x.Key)
	case nftjson.Fib:
		b.WriteString("fib " + strings.Join(x.Flags, " . ") + " " + x.Result)
	case nftjson.Binop:
		writeExpr(b, x.Left)
		b.WriteString(" " + x.Op + " ")
		writeExpr(b, x.Right)
	case nftjson.Concat:
		for i, c := range x {
			if i > 0 {
				b.WriteString(" . ")
			}
			writeExpr(b, c)
		}
	case nftjson.List:
		for i, c := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeExpr(b, c)
		}
	case nftjson.AnonSet:
		b.WriteString("{ ")
		for i, c := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			if l, ok := c.(nftjson.List); ok && len(l) == 2 {
				writeExpr(b, l[0])
				b.WriteString(" : ")
				writeExpr(b, l[1])
				continue
			}
			writeExpr(b, c)
		}
		b.WriteString(" }")
	case nftjson.SetRef:
		b.WriteString("@" + x.Name)
	case nftjson.VerdictExpr:
		b.WriteString(x.Kind)
		if x.Target != "" {
			b.WriteString(" " + x.Target)
		}
	case nftjson.OtherExpr:
		b.WriteString(x.Kind)
	default:
		b.WriteString("?")
	}
}

// readsProto reports a load of a transport protocol number, printed by
// name.
func readsProto(e nftjson.Expr) bool {
	switch x := e.(type) {
	case nftjson.Meta:
		return x.Key == "l4proto"
	case nftjson.Payload:
		return x.Field == "protocol" || x.Field == "nexthdr"
	case nftjson.Ct:
		return x.Key == "protocol"
	}
	return false
}

// nfprotoNames are the families "meta nfproto" compares with, as nft
// prints them.
var nfprotoNames = map[int64]string{2: "ipv4", 10: "ipv6"}

func isMetaKey(e nftjson.Expr, key string) bool {
	m, ok := e.(nftjson.Meta)
	return ok && m.Key == key
}
