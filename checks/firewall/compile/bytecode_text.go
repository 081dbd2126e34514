package compile

import (
	"fmt"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
)

// ruleText renders a rule read from bytecode, for messages that name it:
// nft's syntax for native expressions, iptables' for the xt matches and
// target of an iptables-nft rule. It is for people, not for parsing.
func ruleText(stmts []nftjson.Stmt, bc *bcRule) string {
	var parts []string
	xm := 0
	for _, st := range stmts {
		switch s := st.(type) {
		case nftjson.Match:
			op := s.Op
			if op == "==" || op == "in" {
				op = ""
			}
			right := exprText(s.Right)
			if l, ok := s.Right.(nftjson.Literal); ok && l.IsNum && readsProto(s.Left) {
				if n := l4Names[uint8(l.Num)]; n != "" && l.Num < 256 {
					right = n
				}
			}
			parts = append(parts, strings.Join(nonEmpty(exprText(s.Left), op, right), " "))
		case nftjson.Verdict:
			parts = append(parts, strings.TrimSpace(s.Kind+" "+s.Target))
		case nftjson.VMap:
			parts = append(parts, exprText(s.Key)+" vmap "+exprText(s.Data))
		case nftjson.Mangle:
			parts = append(parts, exprText(s.Key)+" set "+exprText(s.Value))
		case nftjson.Reject:
			parts = append(parts, "reject")
		case nftjson.Notrack:
			parts = append(parts, "notrack")
		case nftjson.OtherStmt:
			t := s.Kind
			if len(s.Raw) > 0 && s.Kind != "counter" {
				t = string(s.Raw)
			}
			parts = append(parts, t)
		case nftjson.Xt:
			if s.Type == "match" {
				if xm < len(bc.matches) && bc.matches[xm] != nil {
					r := &iptsave.Rule{Chain: "-", Matches: []*iptsave.Match{bc.matches[xm]}}
					parts = append(parts, strings.TrimPrefix(iptsave.FormatRule(r), "-A - "))
				} else {
					parts = append(parts, "xt match "+s.Name)
				}
				xm++
				continue
			}
			if bc.target != nil {
				r := &iptsave.Rule{Chain: "-", Target: bc.target.Name, TargetOptions: bc.target.Options}
				parts = append(parts, strings.TrimPrefix(iptsave.FormatRule(r), "-A - "))
			} else {
				parts = append(parts, "xt target "+s.Name)
			}
		}
	}
	return strings.Join(parts, " ")
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func exprText(e nftjson.Expr) string {
	switch x := e.(type) {
	case nftjson.Literal:
		if x.IsNum {
			return fmt.Sprint(x.Num)
		}
		return x.Str
	case nftjson.Prefix:
		return fmt.Sprintf("%s/%d", x.Addr, x.Len)
	case nftjson.Range:
		return exprText(x.Lo) + "-" + exprText(x.Hi)
	case nftjson.Payload:
		if x.Protocol == "" {
			return fmt.Sprintf("@%s,%d,%d", x.Base, x.Offset*8, x.Len*8)
		}
		return x.Protocol + " " + x.Field
	case nftjson.Meta:
		return "meta " + x.Key
	case nftjson.Ct:
		return strings.TrimSpace("ct " + x.Dir + " " + x.Key)
	case nftjson.Fib:
		return "fib " + strings.Join(x.Flags, " . ") + " " + x.Result
	case nftjson.Binop:
		return exprText(x.Left) + " " + x.Op + " " + exprText(x.Right)
	case nftjson.Concat:
		var ss []string
		for _, c := range x {
			ss = append(ss, exprText(c))
		}
		return strings.Join(ss, " . ")
	case nftjson.List:
		var ss []string
		for _, c := range x {
			ss = append(ss, exprText(c))
		}
		return strings.Join(ss, ",")
	case nftjson.AnonSet:
		var ss []string
		for _, c := range x {
			if l, ok := c.(nftjson.List); ok && len(l) == 2 {
				ss = append(ss, exprText(l[0])+" : "+exprText(l[1]))
				continue
			}
			ss = append(ss, exprText(c))
		}
		return "{ " + strings.Join(ss, ", ") + " }"
	case nftjson.SetRef:
		return "@" + x.Name
	case nftjson.VerdictExpr:
		return strings.TrimSpace(x.Kind + " " + x.Target)
	case nftjson.OtherExpr:
		return x.Kind
	}
	return fmt.Sprintf("%v", e)
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
