package compile

import (
	"strconv"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
)

// iptCompiler compiles the rules of iptables-save dumps. Large rulesets
// repeat the same few matches thousands of times ("-p tcp", "--dport
// 6379", "--ctstate RELATED,ESTABLISHED", a trusted host in one rule per
// Redis port), so the conditions it builds are kept by their text and
// shared between rules: conditions are immutable once built.
type iptCompiler struct {
	sets  *ipsets
	conds map[condID]eval.Cond
	// scratch collects one module's conditions.
	scratch []eval.Cond
}

// condID identifies a condition by what it was compiled from. kind
// names the option; field, fam and neg complete it; value is the option's
// text as written.
type condID struct {
	kind  string
	fam   eval.Family
	field uint8
	proto uint8
	neg   bool
	value string
}

func newIptCompiler(sets *ipsets) *iptCompiler {
	return &iptCompiler{sets: sets, conds: map[condID]eval.Cond{}}
}

// cached returns the condition stored under k, or builds it. build
// reports whether its result may be shared: conditions that name a rule
// (unknowns carrying the rule's origin) are not.
func (c *iptCompiler) cached(k condID, build func() (eval.Cond, bool)) eval.Cond {
	if cond, ok := c.conds[k]; ok {
		return cond
	}
	cond, share := build()
	if share {
		c.conds[k] = cond
	}
	return cond
}

// protoCond is "-p NAME" without "!" as the protocol modules imply it.
func (c *iptCompiler) protoCond(p uint8) eval.Cond {
	return c.cached(condID{kind: "proto", proto: p}, func() (eval.Cond, bool) {
		return eval.Proto{Protos: []uint8{p}}, true
	})
}

// lineOrigins names each rule "SOURCE line N", as messages locate them.
// The names share one string: a ruleset of 10,000 rules costs one
// allocation here rather than 10,000.
func lineOrigins(source string, rules []*iptsave.Rule) []string {
	const suffix = " line "
	buf := make([]byte, 0, len(rules)*(len(source)+len(suffix)+6))
	ends := make([]int, len(rules))
	for i, r := range rules {
		buf = append(buf, source...)
		buf = append(buf, suffix...)
		buf = strconv.AppendInt(buf, int64(r.Line), 10)
		ends[i] = len(buf)
	}
	return splitAt(string(buf), ends)
}

// splitAt cuts s at the given increasing offsets.
func splitAt(s string, ends []int) []string {
	out := make([]string, len(ends))
	start := 0
	for i, end := range ends {
		out[i] = s[start:end]
		start = end
	}
	return out
}

// portCond is a port match of protocol p ("--dport 6379", "--dports
// 80,443", "--sport 1024:").
func (c *iptCompiler) portCond(f eval.PortField, p uint8, neg bool, value string) (eval.Cond, error) {
	var err error
	cond := c.cached(condID{kind: "port", field: uint8(f), proto: p, neg: neg, value: value}, func() (eval.Cond, bool) {
		var rs []eval.PortRange
		if rs, err = parseIptPorts(value); err != nil {
			return nil, false
		}
		return eval.Port{Field: f, Protos: []uint8{p}, Ranges: rs, Neg: neg}, true
	})
	return cond, err
}
