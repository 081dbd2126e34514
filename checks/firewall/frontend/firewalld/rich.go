package firewalld

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// RichRule is a firewalld rich rule, from its string form (D-Bus,
// firewall-cmd) or its zone XML element. Only what decides whether a new
// TCP connection is accepted is kept; String gives one canonical form so
// runtime and permanent rules can be compared.
type RichRule struct {
	Family   string // "", "ipv4", "ipv6"
	Priority int
	Source   RichAddr
	// Destination is kept only to say the rule is limited to it.
	Destination RichAddr
	// Element is "", "service", "port", "protocol", "source-port",
	// "icmp-block", "icmp-type", "masquerade" or "forward-port".
	Element     string
	Name        string // service name
	Port, Proto string // port and source-port
	Value       string // protocol value
	// Action is "accept", "reject", "drop", "mark" or "" (log only).
	Action string
	// Limit is a rate limit on the action: history-dependent.
	Limit bool
	// Log, Audit, NFLog mark the rule's logging parts.
	Log, Audit, NFLog bool
}

// RichAddr is a rule's source or destination.
type RichAddr struct {
	Kind   string // "", "address", "mac", "ipset"
	Value  string
	Invert bool
}

// ErrRichRule marks a rich rule that cannot be read.
var ErrRichRule = errors.New("bad rich rule")

func (r RichRule) String() string {
	var b strings.Builder
	b.WriteString("rule")
	if r.Family != "" {
		fmt.Fprintf(&b, ` family="%s"`, r.Family)
	}
	if r.Priority != 0 {
		fmt.Fprintf(&b, ` priority="%s"`, strconv.Itoa(r.Priority))
	}
	for _, a := range []struct {
		name string
		v    RichAddr
	}{{"source", r.Source}, {"destination", r.Destination}} {
		if a.v.Kind == "" {
			continue
		}
		b.WriteString(" " + a.name)
		if a.v.Invert {
			b.WriteString(" not")
		}
		fmt.Fprintf(&b, ` %s="%s"`, a.v.Kind, a.v.Value)
	}
	switch r.Element {
	case "service", "icmp-block", "icmp-type":
		fmt.Fprintf(&b, ` %s name="%s"`, r.Element, r.Name)
	case "port", "source-port":
		fmt.Fprintf(&b, ` %s port="%s" protocol="%s"`, r.Element, r.Port, r.Proto)
	case "protocol":
		fmt.Fprintf(&b, ` protocol value="%s"`, r.Value)
	case "masquerade", "forward-port":
		b.WriteString(" " + r.Element)
	}
	for _, l := range []struct {
		on   bool
		name string
	}{{r.Log, "log"}, {r.NFLog, "nflog"}, {r.Audit, "audit"}} {
		if l.on {
			b.WriteString(" " + l.name)
		}
	}
	if r.Action != "" {
		b.WriteString(" " + r.Action)
	}
	if r.Limit {
		b.WriteString(" limit")
	}
	return b.String()
}

// maxRichRule caps a rich rule's length.
const maxRichRule = 4096

// ParseRichRule reads the string form: `rule family="ipv4" source
// address="198.51.100.5" port port="6379" protocol="tcp" accept`.
func ParseRichRule(s string) (RichRule, error) {
	var r RichRule
	if len(s) > maxRichRule {
		return r, fmt.Errorf("%w: longer than %d bytes", ErrRichRule, maxRichRule)
	}
	toks, err := richTokens(s)
	if err != nil {
		return r, err
	}
	if len(toks) == 0 || toks[0].key != "rule" || toks[0].hasVal {
		return r, fmt.Errorf("%w: does not start with \"rule\"", ErrRichRule)
	}
	// section is the keyword the following attributes belong to.
	section := "rule"
	var addr *RichAddr
	for _, t := range toks[1:] {
		if !t.hasVal {
			switch t.key {
			case "source", "destination":
				addr = &r.Source
				if t.key == "destination" {
					addr = &r.Destination
				}
			case "not":
				if addr == nil || section != "source" && section != "destination" {
					return r, fmt.Errorf("%w: \"not\" outside source or destination", ErrRichRule)
				}
				addr.Invert = true
				continue
			case "service", "port", "protocol", "source-port", "icmp-block", "icmp-type", "masquerade", "forward-port":
				if r.Element != "" {
					return r, fmt.Errorf("%w: two elements (%s, %s)", ErrRichRule, r.Element, t.key)
				}
				r.Element = t.key
			case "log":
				r.Log = true
			case "nflog":
				r.NFLog = true
			case "audit":
				r.Audit = true
			case "accept", "reject", "drop", "mark":
				if r.Action != "" {
					return r, fmt.Errorf("%w: two actions", ErrRichRule)
				}
				r.Action = t.key
			case "limit":
				if section == "accept" || section == "reject" || section == "drop" || section == "mark" {
					r.Limit = true
				}
			default:
				return r, fmt.Errorf("%w: unknown keyword %q", ErrRichRule, t.key)
			}
			if t.key != "limit" {
				section = t.key
			}
			continue
		}
		if err := r.setAttr(section, addr, t.key, t.val); err != nil {
			return r, err
		}
	}
	return r, r.complete()
}

// complete checks that the element has the attributes it needs.
func (r *RichRule) complete() error {
	missing := ""
	switch r.Element {
	case "service", "icmp-block", "icmp-type":
		if r.Name == "" {
			missing = "name"
		}
	case "port", "source-port":
		if r.Port == "" || r.Proto == "" {
			missing = "port and protocol"
		}
	case "protocol":
		if r.Value == "" {
			missing = "value"
		}
	}
	if missing != "" {
		return fmt.Errorf("%w: %s without %s", ErrRichRule, r.Element, missing)
	}
	return nil
}

// setAttr stores key=value of the current section.
func (r *RichRule) setAttr(section string, addr *RichAddr, key, val string) error {
	if strings.ContainsAny(val, "\"\x00") {
		return fmt.Errorf("%w: a quote inside a value", ErrRichRule)
	}
	switch section {
	case "rule":
		switch key {
		case "family":
			if val != "ipv4" && val != "ipv6" {
				return fmt.Errorf("%w: family %q", ErrRichRule, val)
			}
			r.Family = val
		case "priority":
			n, err := strconv.Atoi(val)
			if err != nil || n < -32768 || n > 32767 {
				return fmt.Errorf("%w: priority %q", ErrRichRule, val)
			}
			r.Priority = n
		default:
			return fmt.Errorf("%w: rule attribute %q", ErrRichRule, key)
		}
	case "source", "destination":
		if key != "address" && key != "mac" && key != "ipset" {
			return fmt.Errorf("%w: %s attribute %q", ErrRichRule, section, key)
		}
		if addr.Kind != "" {
			return fmt.Errorf("%w: %s given twice", ErrRichRule, section)
		}
		addr.Kind, addr.Value = key, val
	case "service", "icmp-block", "icmp-type":
		if key != "name" {
			return fmt.Errorf("%w: %s attribute %q", ErrRichRule, section, key)
		}
		r.Name = val
	case "port", "source-port":
		switch key {
		case "port":
			if _, _, err := portRange(val); err != nil {
				return fmt.Errorf("%w: %v", ErrRichRule, err)
			}
			r.Port = val
		case "protocol":
			r.Proto = val
		default:
			return fmt.Errorf("%w: %s attribute %q", ErrRichRule, section, key)
		}
	case "protocol":
		if key != "value" {
			return fmt.Errorf("%w: protocol attribute %q", ErrRichRule, key)
		}
		r.Value = val
	}
	// forward-port, log, nflog, audit, reject type, mark set, limit
	// value: not needed to decide the port.
	return nil
}

type richToken struct {
	key, val string
	hasVal   bool
}

// richTokens splits the string into words and key="value" pairs; values
// may be quoted with " or '.
func richTokens(s string) ([]richToken, error) {
	var out []richToken
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
			i++
		}
		if i >= len(s) {
			break
		}
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' && s[j] != '=' {
			j++
		}
		t := richToken{key: s[i:j]}
		i = j
		if i < len(s) && s[i] == '=' {
			i++
			t.hasVal = true
			if i < len(s) && (s[i] == '"' || s[i] == '\'') {
				q := s[i]
				end := strings.IndexByte(s[i+1:], q)
				if end < 0 {
					return nil, fmt.Errorf("%w: unterminated quote", ErrRichRule)
				}
				t.val = s[i+1 : i+1+end]
				i += end + 2
			} else {
				j = i
				for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' {
					j++
				}
				t.val = s[i:j]
				i = j
			}
		}
		if strings.ContainsAny(t.val, "\"\x00") {
			return nil, fmt.Errorf("%w: a quote inside a value", ErrRichRule)
		}
		if t.key == "" {
			return nil, fmt.Errorf("%w: empty keyword", ErrRichRule)
		}
		out = append(out, t)
	}
	return out, nil
}
