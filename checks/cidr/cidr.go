// Package cidr parses the address-or-prefix lists of flags such as --allow
// and --trusted.
package cidr

import (
	"fmt"
	"net/netip"
	"strings"
)

// Parse reads an address ("192.0.2.1", "[2001:db8::1]") as a single-address
// prefix, or a CIDR block, masked.
func Parse(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Is4In6() {
			return netip.Prefix{}, fmt.Errorf("%s: IPv4-mapped prefix", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ParseList parses each value, also split on commas, and names the flag in
// the error.
func ParseList(flag string, values []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v := range values {
		for _, w := range strings.Split(v, ",") {
			w = strings.TrimSpace(w)
			if w == "" {
				continue
			}
			p, err := Parse(w)
			if err != nil {
				return nil, fmt.Errorf("%s %q: not an address or CIDR", flag, w)
			}
			out = append(out, p)
		}
	}
	return out, nil
}
