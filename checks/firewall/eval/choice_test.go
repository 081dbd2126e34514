package eval

import (
	"strings"
	"testing"

	"go4.org/netipx"
)

// A choice lets the client in when either branch does; an environment
// unknown on the same rule wins (the client cannot pick it); the source
// stays refused when neither branch accepts.
func TestChosenConditions(t *testing.T) {
	limit := Choice("while under the limit of %s", "while over the limit of %s")
	unknown := Const{Value: Unknown, Reason: "mark set elsewhere"}
	cases := []struct {
		name     string
		rules    []*Rule
		policy   VerdictKind
		accepted []string
		undec    []string
		choice   string
	}{
		{"limit accept, policy drop", []*Rule{rule(Accept, src4(false, "192.0.2.0/24"), limit)}, Drop,
			[]string{"192.0.2.0/24"}, nil, "while under the limit of test"},
		{"limit drop, policy accept", []*Rule{rule(Drop, dport(6379), limit)}, Accept,
			[]string{"0.0.0.0/1", "128.0.0.0/1"}, nil, "while over the limit of test"},
		{"negated choice", []*Rule{rule(Accept, src4(false, "192.0.2.0/24"), Not{C: limit})}, Drop,
			[]string{"192.0.2.0/24"}, nil, "while over the limit of test"},
		{"either branch refused", []*Rule{rule(Drop, limit), rule(Drop)}, Accept, nil, nil, ""},
		{"unknown wins over choice", []*Rule{rule(Accept, src4(false, "192.0.2.0/24"), limit, unknown)}, Drop,
			nil, []string{"192.0.2.0/24"}, ""},
		{"ECN SYN escapes a bare-SYN drop", []*Rule{rule(Drop, TCPFlags{Mask: 0xff, Comp: TCPSyn})}, Accept,
			[]string{"0.0.0.0/1", "128.0.0.0/1"}, nil, "(e.g. syn,ecn,cwr)"},
		{"no first SYN escapes fin|syn|rst|ack == syn", []*Rule{rule(Drop, TCPFlags{Mask: TCPFin | TCPSyn | TCPRst | TCPAck, Comp: TCPSyn})}, Accept,
			nil, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs := &Ruleset{BaseChains: []*BaseChain{base(Input, 0, c.policy, both4and6, c.rules...)}}
			res := mustEval(t, rs, IPv4, 6379)
			var b netipx.IPSetBuilder
			b.AddSet(set(t, c.accepted...))
			b.RemovePrefix(IPv4.Loopback()) // never in Accepted
			want, _ := b.IPSet()
			if !res.Accepted.Equal(want) || !res.Undecided.Equal(set(t, c.undec...)) {
				t.Errorf("accepted %v undecided %v", res.Accepted.Prefixes(), res.Undecided.Prefixes())
			}
			if got := strings.Join(res.Choices, "\n"); !strings.Contains(got, c.choice) || (c.choice == "" && got != "") {
				t.Errorf("choices %q, want %q", res.Choices, c.choice)
			}
		})
	}
}
