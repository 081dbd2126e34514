// Package ufw reads ufw's own configuration (ufw.conf, the defaults file,
// the tuple comments of user.rules and user6.rules) and explains the
// kernel's verdict in ufw's terms.
package ufw

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/cidr"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/describe"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/frontend"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/system"
)

// Config is ufw's own configuration: what the user asked for, in ufw's terms.
// The kernel's ruleset stays the truth; this only explains it.
type Config struct {
	// Enabled is ENABLED= of ufw.conf.
	Enabled bool
	// InputPolicy is DEFAULT_INPUT_POLICY of /etc/default/ufw (ACCEPT,
	// DROP or REJECT), "" when unknown.
	InputPolicy string
	// Rules are the "### tuple ###" lines of user.rules and user6.rules,
	// in order (ufw's first match wins).
	Rules []Rule
}

// Rule is one ufw rule as its tuple comment records it.
type Rule struct {
	Action string // allow, deny, reject, limit
	Proto  string // tcp, udp, any
	Ports  []eval.PortRange
	Src    netip.Prefix
	Family eval.Family
	// Specific marks a rule restricted to a destination address, an
	// interface or a source port, which the summary does not follow.
	Specific bool
	// Number is the rule's number in `ufw status numbered`.
	Number int
	// Tuple is the rule in ufw's own fields, for naming it and the
	// commands that change it.
	Tuple Tuple
}

// Read reads ufw's files under dir (normally /etc/ufw) and the defaults
// beside it (dir/../default/ufw). ok=false means ufw is not installed.
func Read(ctx context.Context, sys system.System, dir string) (u *Config, ok bool, err error) {
	conf, err := sys.ReadFile(ctx, filepath.Join(dir, "ufw.conf"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	u = &Config{Enabled: strings.EqualFold(shellVar(conf, "ENABLED"), "yes")}
	ipv6 := true
	if def, err := sys.ReadFile(ctx, filepath.Join(filepath.Dir(dir), "default", "ufw")); err == nil {
		u.InputPolicy = strings.ToUpper(shellVar(def, "DEFAULT_INPUT_POLICY"))
		// ufw neither loads nor numbers user6.rules with IPV6=no.
		ipv6 = !strings.EqualFold(shellVar(def, "IPV6"), "no")
	}
	for _, f := range []struct {
		name string
		fam  eval.Family
	}{{"user.rules", eval.IPv4}, {"user6.rules", eval.IPv6}} {
		if f.fam == eval.IPv6 && !ipv6 {
			continue
		}
		data, err := sys.ReadFile(ctx, filepath.Join(dir, f.name))
		if err != nil {
			return nil, true, err
		}
		rules, err := parseTuples(data, f.fam)
		if err != nil {
			return nil, true, fmt.Errorf("%s: %w", f.name, err)
		}
		u.Rules = append(u.Rules, rules...)
	}
	number(u.Rules)
	return u, true, nil
}

// shellVar reads NAME=value (optionally quoted) from a shell-style file.
func shellVar(data []byte, name string) string {
	sc := bufio.NewScanner(bytes.NewReader(data))
	v := ""
	for sc.Scan() {
		if val, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), name+"="); ok {
			v = strings.Trim(val, `"'`)
		}
	}
	return v
}

// parseTuples reads "### tuple ### ACTION PROTO DPORT DST SPORT SRC
// [DAPP SAPP] DIRECTION [comment=HEX]" lines as ufw's backend does:
// DIRECTION may carry "_IFACE", ACTION "route:" and "_log"; the ports may
// be lists and ranges ("80,443", "6000:6007") or name an application.
// Every tuple is kept, so the rules number as `ufw status numbered` does.
func parseTuples(data []byte, fam eval.Family) ([]Rule, error) {
	var out []Rule
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		t, ok := strings.CutPrefix(sc.Text(), "### tuple ###")
		if !ok {
			continue
		}
		tp, err := parseTuple(t)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		r := Rule{Action: tp.Action, Proto: tp.Proto, Family: fam, Tuple: tp,
			Specific: tp.IfaceIn != "" || !isAny(tp.Dst) || tp.SPort != "any"}
		src := tp.Src
		if isAny(src) {
			src = fam.All().String()
		}
		p, err := cidr.Parse(src)
		if err != nil {
			return nil, fmt.Errorf("line %d: source %q", n, tp.Src)
		}
		r.Src = p
		if tp.DPort == "any" {
			r.Ports = []eval.PortRange{{Lo: 0, Hi: 65535}}
		} else {
			for _, part := range strings.Split(tp.DPort, ",") {
				lo, hi, isRange := strings.Cut(part, ":")
				a, err1 := strconv.ParseUint(lo, 10, 16)
				b := a
				var err2 error
				if isRange {
					b, err2 = strconv.ParseUint(hi, 10, 16)
				}
				if err1 != nil || err2 != nil {
					return nil, fmt.Errorf("line %d: port %q", n, tp.DPort)
				}
				r.Ports = append(r.Ports, eval.PortRange{Lo: uint16(a), Hi: uint16(b)})
			}
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

func isAny(s string) bool { return s == "0.0.0.0/0" || s == "::/0" || s == "any" }

func (r Rule) covers(q eval.Query) bool {
	// Outgoing and routed rules do not admit clients to the host.
	if r.Tuple.Forward || r.Tuple.Direction != "in" {
		return false
	}
	if r.Family != q.Family || (r.Proto != "tcp" && r.Proto != "any") {
		return false
	}
	for _, p := range r.Ports {
		if q.Port >= p.Lo && q.Port <= p.Hi {
			return true
		}
	}
	return false
}

// hit is what one rule decides: the sources it matches first.
type hit struct {
	rule int // index in Rules
	set  *netipx.IPSet
}

// decide runs the family's sources through the rules for the port, first
// match wins as in ufw-user-input; rest is left to the default policy.
func decide(rules []Rule, q eval.Query) (hits []hit, rest *netipx.IPSet) {
	var rb netipx.IPSetBuilder
	rb.AddPrefix(q.Family.All())
	rb.RemovePrefix(q.Family.Loopback())
	for i, r := range rules {
		if !r.covers(q) {
			continue
		}
		var m netipx.IPSetBuilder
		m.AddPrefix(r.Src)
		cur, _ := rb.IPSet()
		m.Intersect(cur)
		h, _ := m.IPSet()
		hits = append(hits, hit{i, h})
		rb.RemoveSet(h)
	}
	rest, _ = rb.IPSet()
	return hits, rest
}

// admits is what rules and policy let in to the port.
func admits(rules []Rule, policy string, q eval.Query) *netipx.IPSet {
	hits, rest := decide(rules, q)
	var acc netipx.IPSetBuilder
	for _, h := range hits {
		if a := rules[h.rule].Action; a == "allow" || a == "limit" {
			acc.AddSet(h.set)
		}
	}
	if policy == "ACCEPT" {
		acc.AddSet(rest)
	}
	s, _ := acc.IPSet()
	return s
}

// Allowed is what ufw's rules and default policy admit to the port: the
// first matching rule decides each source, as in ufw-user-input.
// specific reports a rule restricted to a destination or interface, which
// this summary counts as if it applied everywhere.
func (u *Config) Allowed(q eval.Query) (allowed *netipx.IPSet, rules []Rule, specific bool) {
	hits, _ := decide(u.Rules, q)
	for _, h := range hits {
		r := u.Rules[h.rule]
		rules = append(rules, r)
		specific = specific || r.Specific
	}
	return admits(u.Rules, u.InputPolicy, q), rules, specific
}

// says is ufw's view of a port in its own terms.
func says(u *Config, q eval.Query) string {
	allowed, rules, specific := u.Allowed(q)
	policy := u.InputPolicy
	if policy == "" {
		policy = "unknown"
	}
	who := "nowhere"
	if !describe.Empty(allowed) {
		who = describe.Ranges(allowed, q.Family)
		if describe.AllButLoopback(allowed, q.Family) {
			who = "anywhere"
		}
	}
	s := fmt.Sprintf("%v allowed from %s (%d matching rule(s), default incoming %s)", q, who, len(rules), strings.ToLower(policy))
	if specific {
		s += "; some rules are limited to a destination or interface, counted as if they were not"
	}
	return s
}

// Port is ufw's view of a port, when ufw runs; a host port published to
// the Redis port goes through FORWARD, which ufw's input rules do not see.
func (u *Config) Port(q eval.Query) []frontend.Finding {
	if !u.Enabled || q.To != 0 {
		return nil
	}
	return []frontend.Finding{{Text: "ufw: " + says(u, q)}}
}

// Notes says when ufw is inactive: its rules are then not what runs.
func (u *Config) Notes([]eval.Query) []frontend.Finding {
	if u.Enabled {
		return nil
	}
	return []frontend.Finding{{Text: "ufw is inactive (ENABLED=no in ufw.conf): its rules are not in the kernel's ruleset"}}
}

// The frontend.Explainer of ufw.
var _ frontend.Explainer = (*Config)(nil)
