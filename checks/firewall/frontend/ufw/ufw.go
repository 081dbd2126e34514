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
	// Specific marks a rule restricted to a destination address or an
	// interface, which the summary does not follow.
	Specific bool
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
	if def, err := sys.ReadFile(ctx, filepath.Join(filepath.Dir(dir), "default", "ufw")); err == nil {
		u.InputPolicy = strings.ToUpper(shellVar(def, "DEFAULT_INPUT_POLICY"))
	}
	for _, f := range []struct {
		name string
		fam  eval.Family
	}{{"user.rules", eval.IPv4}, {"user6.rules", eval.IPv6}} {
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
// [DAPP SAPP] DIRECTION" lines; DIRECTION may carry "_IFACE", the ports may be lists
// and ranges ("80,443", "6000:6007") or name an application.
func parseTuples(data []byte, fam eval.Family) ([]Rule, error) {
	var out []Rule
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		t, ok := strings.CutPrefix(sc.Text(), "### tuple ### ")
		if !ok {
			continue
		}
		f := strings.Fields(t)
		if len(f) < 7 {
			return nil, fmt.Errorf("line %d: short tuple", n)
		}
		// Application rules insert "DAPP SAPP" before the direction.
		dir := f[len(f)-1]
		if !strings.HasPrefix(dir, "in") {
			continue // outgoing or routed rules do not admit clients
		}
		r := Rule{Action: strings.TrimSuffix(f[0], "_log-all"), Proto: f[1], Family: fam,
			Specific: dir != "in" || !isAny(f[3])}
		r.Action = strings.TrimSuffix(r.Action, "_log")
		src := f[5]
		if isAny(src) {
			src = fam.All().String()
		}
		p, err := cidr.Parse(src)
		if err != nil {
			return nil, fmt.Errorf("line %d: source %q", n, f[5])
		}
		r.Src = p
		if f[2] == "any" {
			r.Ports = []eval.PortRange{{Lo: 0, Hi: 65535}}
		} else {
			for _, part := range strings.Split(f[2], ",") {
				lo, hi, isRange := strings.Cut(part, ":")
				a, err1 := strconv.ParseUint(lo, 10, 16)
				b := a
				var err2 error
				if isRange {
					b, err2 = strconv.ParseUint(hi, 10, 16)
				}
				if err1 != nil || err2 != nil {
					return nil, fmt.Errorf("line %d: port %q", n, f[2])
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

// Allowed is what ufw's rules and default policy admit to the port: the
// first matching rule decides each source, as in ufw-user-input.
// specific reports a rule restricted to a destination or interface, which
// this summary counts as if it applied everywhere.
func (u *Config) Allowed(q eval.Query) (allowed *netipx.IPSet, rules []Rule, specific bool) {
	var rest, acc netipx.IPSetBuilder
	rest.AddPrefix(q.Family.All())
	rest.RemovePrefix(q.Family.Loopback())
	for _, r := range u.Rules {
		if !r.covers(q) {
			continue
		}
		rules = append(rules, r)
		specific = specific || r.Specific
		var m netipx.IPSetBuilder
		m.AddPrefix(r.Src)
		cur, _ := rest.IPSet()
		m.Intersect(cur)
		hit, _ := m.IPSet()
		if r.Action == "allow" || r.Action == "limit" {
			acc.AddSet(hit)
		}
		rest.RemoveSet(hit)
	}
	if u.InputPolicy == "ACCEPT" {
		cur, _ := rest.IPSet()
		acc.AddSet(cur)
	}
	allowed, _ = acc.IPSet()
	return allowed, rules, specific
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

// Fix completes a CRITICAL finding when the kernel accepts sources that
// ufw's own rules do not: "ufw allows 6379 only from X, but the kernel
// also accepts …".
func (u *Config) Fix(q eval.Query, res *eval.Result, trust *netipx.IPSet) string {
	if u == nil || !u.Enabled {
		return ""
	}
	port := q.Port
	if q.To != 0 {
		port = q.To
	}
	allowed, _, _ := u.Allowed(eval.Query{Family: q.Family, Port: port})
	extra := describe.Minus(res.Accepted, allowed)
	if describe.Empty(extra) {
		return ""
	}
	who := "nowhere"
	if !describe.Empty(allowed) {
		who = describe.Ranges(allowed, q.Family)
	}
	return fmt.Sprintf("; ufw allows %d only from %s, but the kernel also accepts %s", port, who, describe.Untrusted(extra, q.Family, trust))
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
