package ufw

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
)

// Tuple is a rule in the fields of its "### tuple ###" comment, as ufw's
// backend reads them back (backend_iptables.py, _read_rules).
type Tuple struct {
	Action    string // allow, deny, reject, limit
	LogType   string // "", log, log-all
	Forward   bool   // a route rule
	Proto     string
	DPort     string
	Dst       string
	SPort     string
	Src       string
	DApp      string // application names, spaces unescaped
	SApp      string
	Direction string // in, out
	IfaceIn   string
	IfaceOut  string
	Comment   string // decoded
	V6        bool
}

// parseTuple reads what follows "### tuple ###".
func parseTuple(line string) (Tuple, error) {
	var t Tuple
	if body, h, ok := strings.Cut(line, " comment="); ok {
		line = body
		c, err := hex.DecodeString(strings.TrimSpace(h))
		if err != nil {
			return t, fmt.Errorf("comment %q", h)
		}
		t.Comment = string(c)
	}
	f := strings.Fields(line)
	if len(f) < 6 || len(f) > 9 {
		return t, fmt.Errorf("tuple of %d fields", len(f))
	}
	t.Direction = "in" // the old format had no direction
	if len(f) == 7 || len(f) == 9 {
		d := f[len(f)-1]
		t.Direction, _, _ = strings.Cut(d, "_")
		for _, part := range strings.Split(d, "!") {
			if v, ok := strings.CutPrefix(part, "in_"); ok {
				t.IfaceIn = v
			} else if v, ok := strings.CutPrefix(part, "out_"); ok {
				t.IfaceOut = v
			}
		}
	}
	action := f[0]
	if a, ok := strings.CutPrefix(action, "route:"); ok {
		t.Forward, action = true, a
	}
	action, log, _ := strings.Cut(action, "_")
	t.Action, t.LogType = action, log
	t.Proto, t.DPort, t.Dst, t.SPort, t.Src = f[1], f[2], f[3], f[4], f[5]
	if len(f) >= 8 {
		if f[6] != "-" {
			t.DApp = strings.ReplaceAll(f[6], "%20", " ")
		}
		if f[7] != "-" {
			t.SApp = strings.ReplaceAll(f[7], "%20", " ")
		}
	}
	return t, nil
}

// appTuple identifies an application rule: ufw lists the tuples of one
// application rule (one per port list of the profile) as a single rule.
func (t Tuple) appTuple() string {
	if t.DApp == "" && t.SApp == "" {
		return ""
	}
	d, s := t.DApp, t.SApp
	if d == "" {
		d = t.DPort
	}
	if s == "" {
		s = t.SPort
	}
	k := fmt.Sprintf("%s %s %s %s", d, t.Dst, s, t.Src)
	if t.IfaceIn == "" && t.IfaceOut == "" {
		return k + " " + t.Direction
	}
	return k + " in_" + t.IfaceIn + " out_" + t.IfaceOut
}

// number numbers rules as `ufw status numbered` does: user.rules then
// user6.rules, the tuples of one application rule counted once.
func number(rules []Rule) {
	seen := map[string]int{}
	n := 0
	for i := range rules {
		t := &rules[i].Tuple
		t.V6 = rules[i].Family == eval.IPv6
		if k := t.appTuple(); k != "" {
			if m, ok := seen[k]; ok {
				rules[i].Number = m
				continue
			}
			seen[k] = n + 1
		}
		n++
		rules[i].Number = n
	}
}

// Status is the rule as `ufw status numbered` prints it (To, Action,
// From, with single spaces): "6379/tcp ALLOW IN Anywhere".
func (t Tuple) Status() string {
	loc := func(addr, port, app string) string {
		s := ""
		if !isAny(addr) {
			s = addr
		}
		showProto := t.DApp == "" && t.SApp == ""
		if app != "" {
			port = app
			if t.V6 && addr == "::/0" {
				port += " (v6)"
			}
		}
		if port != "any" {
			if s == "" {
				s = port
			} else {
				s += " " + port
			}
			if showProto && t.Proto != "any" {
				s += "/" + t.Proto
			}
		}
		if port == "any" {
			if isAny(addr) {
				s = "Anywhere"
				if showProto && t.Proto != "any" && t.Dst == t.Src && t.DPort == t.SPort {
					s += "/" + t.Proto
				}
				if addr == "::/0" {
					s += " (v6)"
				}
			} else if showProto && t.Proto != "any" && t.DPort == t.SPort {
				s += "/" + t.Proto
			}
		} else if t.V6 && t.Src == "::/0" && t.Dst == "::/0" && !strings.Contains(s, " (v6)") {
			s += " (v6)"
		}
		return s
	}
	dst := loc(t.Dst, t.DPort, t.DApp)
	src := loc(t.Src, t.SPort, t.SApp)
	if t.Forward {
		if t.IfaceIn != "" {
			src += " on " + t.IfaceIn
		}
		if t.IfaceOut != "" {
			dst += " on " + t.IfaceOut
		}
	} else {
		if t.IfaceIn != "" {
			dst += " on " + t.IfaceIn
		}
		if t.IfaceOut != "" {
			src += " on " + t.IfaceOut
		}
	}
	dir := strings.ToUpper(t.Direction)
	if t.Forward {
		dir = "FWD"
	}
	s := dst + " " + strings.ToUpper(t.Action) + " " + dir + " " + src
	var attrs []string
	if t.LogType != "" {
		attrs = append(attrs, t.LogType)
	}
	if t.Direction == "out" {
		attrs = append(attrs, "out")
	}
	if len(attrs) > 0 {
		s += " (" + strings.Join(attrs, ", ") + ")"
	}
	if t.Comment != "" {
		s += " # " + t.Comment
	}
	return s
}

// Command is the rule as the user types it after "ufw" (`ufw show added`,
// parser.py get_command), without its comment: "allow 6379/tcp". ufw
// deletes a rule given this text whatever its comment.
func (t Tuple) Command() string {
	quote := func(app string) string {
		if strings.Contains(app, " ") {
			return "'" + app + "'"
		}
		return app
	}
	res := t.Action
	if t.Forward {
		res = "route " + res
	}
	if isAny(t.Dst) && isAny(t.Src) && t.SPort == "any" && t.SApp == "" && t.IfaceIn == "" && t.IfaceOut == "" && t.DPort != "any" {
		if t.Direction == "out" {
			res += " out"
		}
		if t.LogType != "" {
			res += " " + t.LogType
		}
		if t.DApp != "" {
			return res + " " + quote(t.DApp)
		}
		res += " " + t.DPort
		if t.Proto != "any" {
			res += "/" + t.Proto
		}
		return res
	}
	if t.IfaceIn != "" {
		res += " in on " + t.IfaceIn
	}
	if t.IfaceOut != "" {
		res += " out on " + t.IfaceOut
	} else if t.Direction == "out" {
		res += " out"
	}
	if t.LogType != "" {
		res += " " + t.LogType
	}
	for _, e := range []struct{ dir, loc, port, app string }{{"from", t.Src, t.SPort, t.SApp}, {"to", t.Dst, t.DPort, t.DApp}} {
		loc := e.loc
		if isAny(loc) {
			loc = "any"
		}
		if loc != "any" || e.port != "any" || e.app != "" {
			res += " " + e.dir + " " + loc
			if e.app != "" {
				res += " app " + quote(e.app)
			} else if e.port != "any" {
				res += " port " + e.port
			}
		}
	}
	if !strings.Contains(res, " to ") && !strings.Contains(res, " from ") && t.IfaceIn == "" && t.IfaceOut == "" {
		res += " to any"
	}
	if t.Proto != "any" && t.DApp == "" && t.SApp == "" {
		res += " proto " + t.Proto
	}
	return res
}
