package compile

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
)

// natTargetOf compiles the iptables nat targets: DNAT --to-destination
// ADDR[:PORT], REDIRECT [--to-ports PORT], SNAT and MASQUERADE. A range of
// addresses or ports (load spreading) is undecided: its members may meet
// different fates.
func natTargetOf(r *iptsave.Rule, fam eval.Family, origin string) (eval.Verdict, error) {
	n := &eval.NatTarget{Origin: origin}
	opts := map[string]string{}
	for _, o := range r.TargetOptions {
		if len(o.Values) > 0 {
			opts[o.Name] = o.Values[0]
		} else {
			opts[o.Name] = ""
		}
	}
	switch r.Target {
	case "SNAT", "MASQUERADE":
		n.Source = true
		// The new source of an SNAT to one address; MASQUERADE's and a
		// range's are left unknown.
		if v, ok := opts["--to-source"]; ok && r.Target == "SNAT" && !strings.Contains(v, " ") {
			var to eval.NatTarget
			if parseNatDest(v, fam, &to) == nil {
				n.Addr = to.Addr
				n.SrcPort = to.Port != 0
			}
		}
		if _, ok := opts["--to-ports"]; ok {
			n.SrcPort = true
		}
	case "REDIRECT":
		n.Redirect = true
		if v, ok := opts["--to-ports"]; ok {
			p, err := singlePort(v)
			if err != nil {
				return eval.Verdict{}, err
			}
			n.Port = p
		}
	case "DNAT":
		v, ok := opts["--to-destination"]
		if !ok || strings.Contains(v, " ") {
			return eval.Verdict{}, fmt.Errorf("DNAT without one --to-destination")
		}
		if err := parseNatDest(v, fam, n); err != nil {
			return eval.Verdict{}, err
		}
	default:
		return eval.Verdict{}, fmt.Errorf("target %s not modelled", r.Target)
	}
	return eval.Verdict{Kind: eval.Nat, Nat: n}, nil
}

// parseNatDest reads "ADDR", "ADDR:PORT", "[ADDR6]:PORT" or ":PORT".
func parseNatDest(v string, fam eval.Family, n *eval.NatTarget) error {
	addr, port := v, ""
	switch {
	case strings.HasPrefix(v, "["):
		end := strings.Index(v, "]")
		if end < 0 {
			return fmt.Errorf("bad DNAT destination %q", v)
		}
		addr, port = v[1:end], strings.TrimPrefix(v[end+1:], ":")
	case fam == eval.IPv4 || strings.Count(v, ":") == 1:
		addr, port, _ = strings.Cut(v, ":")
	}
	if addr != "" {
		if strings.Contains(addr, "-") {
			return fmt.Errorf("DNAT to an address range %s (load spreading) not modelled", addr)
		}
		a, err := netip.ParseAddr(addr)
		if err != nil || eval.FamilyOf(a.Unmap()) != fam {
			return fmt.Errorf("bad DNAT address %q", addr)
		}
		n.Addr = a.Unmap()
	}
	if port != "" {
		p, err := singlePort(port)
		if err != nil {
			return err
		}
		n.Port = p
	}
	if addr == "" && port == "" {
		return fmt.Errorf("bad DNAT destination %q", v)
	}
	return nil
}

// singlePort reads one port; a range "A-B" is refused unless A == B.
func singlePort(s string) (uint16, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	p, err := strconv.ParseUint(lo, 10, 16)
	if err != nil || p == 0 {
		return 0, fmt.Errorf("bad NAT port %q", s)
	}
	if isRange && hi != lo {
		return 0, fmt.Errorf("NAT to a port range %s (load spreading) not modelled", s)
	}
	return uint16(p), nil
}

// nftNat compiles nft's dnat, redirect, snat and masquerade statements:
// {"dnat": {"addr": A, "port": P, "family": F}}, {"redirect": {"port": P}}.
func (t *nftTable) nftNat(kind string, raw json.RawMessage, origin string) (eval.Verdict, error) {
	n := &eval.NatTarget{Origin: origin}
	var body map[string]struct {
		Addr   json.RawMessage `json:"addr"`
		Port   json.RawMessage `json:"port"`
		Family string          `json:"family"`
	}
	if kind == "snat" || kind == "masquerade" {
		// The new source of an snat to one address; masquerade's and a
		// range's or map's are left unknown.
		n.Source = true
		if json.Unmarshal(raw, &body) == nil {
			var s string
			if json.Unmarshal(body[kind].Addr, &s) == nil {
				if a, err := netip.ParseAddr(s); err == nil {
					n.Addr = a.Unmap()
				}
			}
			n.SrcPort = len(body[kind].Port) > 0
		}
		return eval.Verdict{Kind: eval.Nat, Nat: n}, nil
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		// "redirect": null keeps the port.
		var null map[string]any
		if json.Unmarshal(raw, &null) == nil && null[kind] == nil && kind == "redirect" {
			n.Redirect = true
			return eval.Verdict{Kind: eval.Nat, Nat: n}, nil
		}
		return eval.Verdict{}, fmt.Errorf("%s statement not understood", kind)
	}
	b := body[kind]
	n.Redirect = kind == "redirect"
	if len(b.Port) > 0 {
		var p uint16
		if err := json.Unmarshal(b.Port, &p); err != nil || p == 0 {
			return eval.Verdict{}, fmt.Errorf("%s to port %s not modelled", kind, b.Port)
		}
		n.Port = p
	}
	if len(b.Addr) > 0 && kind == "dnat" {
		var s string
		if err := json.Unmarshal(b.Addr, &s); err != nil {
			return eval.Verdict{}, fmt.Errorf("dnat to %s (a range, map or expression) not modelled", b.Addr)
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return eval.Verdict{}, fmt.Errorf("dnat address %q not understood", s)
		}
		n.Addr = a.Unmap()
	}
	// "dnat to :PORT" keeps the address and rewrites the port, like
	// DNAT --to-destination :PORT.
	if kind == "dnat" && !n.Addr.IsValid() && n.Port == 0 {
		return eval.Verdict{}, fmt.Errorf("dnat without an address or port not understood")
	}
	return eval.Verdict{Kind: eval.Nat, Nat: n}, nil
}

// ctStatusCond is "ct status" / --ctstatus for a connection's first
// packet: only the DNAT (and SNAT) bits can be set so early, and SNAT is
// decided after the hooks that filter new connections.
func ctStatusCond(names []string, neg bool) eval.Cond {
	var states eval.CtState
	for _, s := range names {
		if strings.EqualFold(s, "dnat") {
			states |= eval.CtDNAT
		}
	}
	if states == 0 {
		return constCond(negate(eval.False, neg))
	}
	return eval.Conntrack{States: states, Neg: neg}
}
