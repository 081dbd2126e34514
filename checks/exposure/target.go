package exposure

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/redisport"
)

// DefaultPorts are Redis, its cluster bus and Sentinel, as --ports
// writes them.
var DefaultPorts = redisport.Join(redisport.Defaults())

// MaxAttempts caps one run. A /22 times three ports fits; a /16 does not:
// it is refused as bad input rather than silently truncated, so a check
// never reports a sweep it did not make.
const MaxAttempts = 4096

// Target is one --target as given.
type Target struct {
	Text string
	// Host is a name to resolve; empty for address and CIDR targets.
	Host string
	// Prefix holds a literal address (as a full-length prefix) or a CIDR
	// block; invalid for names.
	Prefix netip.Prefix
	// Port is the explicit port, or 0 for --ports.
	Port int
}

// ErrBadTarget wraps every target syntax error.
var ErrBadTarget = errors.New("bad --target")

func badTarget(text, format string, args ...any) error {
	return fmt.Errorf("%w %q: %s", ErrBadTarget, text, fmt.Sprintf(format, args...))
}

// ParseTarget reads HOST, HOST:PORT, [IPv6]:PORT, a bare IPv6 address or a
// CIDR block.
func ParseTarget(text string) (Target, error) {
	s := strings.TrimSpace(text)
	t := Target{Text: s}
	if s == "" {
		return t, badTarget(text, "empty")
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return t, badTarget(text, "not a CIDR block (CIDR targets take their ports from --ports)")
		}
		t.Prefix = p.Masked()
		return t, checkAddr(text, t.Prefix.Addr())
	}
	host := s
	switch {
	case strings.HasPrefix(s, "["):
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			if strings.HasSuffix(s, "]") {
				h, p = s[1:len(s)-1], ""
			} else {
				return t, badTarget(text, "want [IPv6]:PORT")
			}
		}
		host = h
		if p != "" {
			port, err := parsePort(p)
			if err != nil {
				return t, badTarget(text, "%v", err)
			}
			t.Port = port
		}
	case strings.Count(s, ":") == 1:
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			return t, badTarget(text, "want HOST:PORT")
		}
		port, err := parsePort(p)
		if err != nil {
			return t, badTarget(text, "%v", err)
		}
		host, t.Port = h, port
	}
	if a, err := netip.ParseAddr(host); err == nil {
		t.Prefix = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		return t, checkAddr(text, a.Unmap())
	}
	if strings.HasPrefix(s, "[") || strings.Contains(host, ":") {
		return t, badTarget(text, "not an IPv6 address")
	}
	if !validName(host) {
		return t, badTarget(text, "not a host name or address")
	}
	t.Host = host
	return t, nil
}

// checkAddr refuses addresses a connection attempt cannot mean: "any"
// would connect to this host itself.
func checkAddr(text string, a netip.Addr) error {
	switch {
	case a.IsUnspecified():
		return badTarget(text, "the unspecified address means this host, not a target")
	case a.IsMulticast():
		return badTarget(text, "multicast address")
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return badTarget(text, "broadcast address")
	}
	return nil
}

func validName(h string) bool {
	if len(h) == 0 || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("port %q is not in 1-65535", s)
	}
	return p, nil
}

// ParsePorts reads a comma-separated port list, dropping repeats.
func ParsePorts(s string) ([]int, error) {
	var out []int
	seen := map[int]bool{}
	for _, f := range strings.Split(s, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		p, err := parsePort(f)
		if err != nil {
			return nil, fmt.Errorf("--ports: %v", err)
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("--ports: no port given")
	}
	return out, nil
}

// Addresses lists the addresses of an address or CIDR target. The network
// and broadcast addresses of IPv4 blocks of /30 and wider are skipped: a
// connection to them is refused by this host's own stack (ENETUNREACH),
// which would make every on-link sweep UNKNOWN.
func (t Target) Addresses() []netip.Addr {
	if !t.Prefix.IsValid() {
		return nil
	}
	p := t.Prefix
	n := t.addressCount()
	out := make([]netip.Addr, 0, n)
	a := p.Addr()
	skipEnds := p.Addr().Is4() && p.Bits() <= 30
	for i := uint64(0); i < n; i++ {
		last := i == n-1
		if !(skipEnds && (i == 0 || last)) {
			out = append(out, a)
		}
		a = a.Next()
	}
	return out
}

// addressCount is the size of the block, saturated above MaxAttempts+1 so
// a /8 or a /64 is counted without overflow.
func (t Target) addressCount() uint64 {
	if !t.Prefix.IsValid() {
		return 1 // a name: at least one address
	}
	host := t.Prefix.Addr().BitLen() - t.Prefix.Bits()
	if host >= 20 {
		return MaxAttempts + 1
	}
	return 1 << host
}

// AttemptCount estimates the attempts of the targets (names count as one
// address; the scan checks again once they are resolved).
func AttemptCount(targets []Target, ports []int) uint64 {
	var n uint64
	for _, t := range targets {
		per := uint64(len(ports))
		if t.Port != 0 {
			per = 1
		}
		c := t.addressCount()
		if c > MaxAttempts {
			return MaxAttempts + 1
		}
		if t.Prefix.IsValid() && t.Prefix.Addr().Is4() && t.Prefix.Bits() <= 30 {
			c -= 2
		}
		n += c * per
		if n > MaxAttempts {
			return MaxAttempts + 1
		}
	}
	return n
}

// Attempt is one address and port to connect to.
type Attempt struct {
	// Target is the --target this attempt came from.
	Target string
	// Name is the host name it was resolved from (used as TLS SNI).
	Name string
	Addr netip.AddrPort
}

func (a Attempt) String() string {
	if a.Addr.IsValid() {
		return a.Addr.String()
	}
	return a.Target
}

// attempts expands resolved targets over the ports.
func attempts(t Target, addrs []netip.Addr, ports []int) []Attempt {
	if t.Port != 0 {
		ports = []int{t.Port}
	}
	out := make([]Attempt, 0, len(addrs)*len(ports))
	for _, a := range addrs {
		for _, p := range ports {
			out = append(out, Attempt{Target: t.Text, Name: t.Host, Addr: netip.AddrPortFrom(a, uint16(p))})
		}
	}
	return out
}
