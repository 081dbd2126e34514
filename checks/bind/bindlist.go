package bind

import (
	"net/netip"
	"strings"
)

// Kind is what a bind entry means.
type Kind int

const (
	Specific Kind = iota // one address (or a host name)
	Loopback             // 127.0.0.0/8 or ::1
	AllIPv4              // 0.0.0.0 or *
	AllIPv6              // :: or ::*
	Hostname             // resolved by redis-server with getaddrinfo
	NoListen             // bind "" on 7.0+: no TCP listener at all
)

// Entry is one address of a bind list.
type Entry struct {
	Text     string // as written, prefix included
	Addr     netip.Addr
	Optional bool // "-" prefix: skipped when the address is not available
	Kind     Kind
}

// Wildcard reports an entry that opens every interface of a family.
func (e Entry) Wildcard() bool { return e.Kind == AllIPv4 || e.Kind == AllIPv6 }

// ParseEntry classifies one word of a bind line.
func ParseEntry(w string) Entry {
	e := Entry{Text: w}
	s := w
	if strings.HasPrefix(s, "-") {
		e.Optional = true
		s = s[1:]
	}
	switch s {
	case "*", "0.0.0.0":
		e.Kind = AllIPv4
		e.Addr = netip.IPv4Unspecified()
		return e
	case "::*", "::":
		e.Kind = AllIPv6
		e.Addr = netip.IPv6Unspecified()
		return e
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		// redis-server hands an address without a colon to getaddrinfo
		// for IPv4, which reads the numbers inet_aton reads: "0", "0.0"
		// and "0x0" bind every interface as 0.0.0.0 does, "127.1" is
		// loopback. Anything else is a name getaddrinfo looks up.
		var ok bool
		if a, ok = parseInetAton(s); !ok {
			e.Kind = Hostname
			return e
		}
	}
	// A zone does not narrow the wildcard: the kernel ignores the scope of
	// any address but a link-local one, and "::%1" listens on every IPv6
	// interface. Nor does it change which network an address is in.
	a = a.Unmap().WithZone("")
	e.Addr = a
	switch {
	case a.IsUnspecified() && a.Is4():
		e.Kind = AllIPv4
	case a.IsUnspecified():
		e.Kind = AllIPv6
	case a.IsLoopback():
		e.Kind = Loopback
	default:
		e.Kind = Specific
	}
	return e
}

// Spec is the effective bind of a server: where it came from and what it
// means on the server's version.
type Spec struct {
	Source  string // "running config", "config file /etc/redis/redis.conf:87", …
	Text    string // the bind value as Redis stores it ("" when absent)
	Present bool   // a bind line exists (files) / a value was returned (live)
	Entries []Entry
	// Meaning notes the version rule that applied, for findings.
	Meaning string
	// Uncertain is set when the version needed to read the value is unknown.
	Uncertain bool
}

// AllInterfacesDefault is what 7.x uses when no bind line is given.
const AllInterfacesDefault = "* -::*"

// FromFile interprets a config file's (possibly absent) bind line for a
// server of the given major version (0 = unknown).
func FromFile(present bool, args []string, major int, source string) Spec {
	s := Spec{Source: source, Present: present, Text: strings.Join(args, " ")}
	if present {
		if len(args) == 1 && args[0] == "" {
			return emptyBind(s, major, false)
		}
		for _, a := range args {
			s.Entries = append(s.Entries, ParseEntry(a))
		}
		return s
	}
	// No bind line: every version listens everywhere; only how differs.
	switch {
	case major >= 7:
		s.Meaning = "no bind line: Redis 7 binds its default \"" + AllInterfacesDefault + "\" (all interfaces)"
	case major > 0:
		s.Meaning = "no bind line: Redis 6 and older listen on all interfaces"
	default:
		s.Meaning = "no bind line: Redis listens on all interfaces"
	}
	s.Entries = []Entry{ParseEntry("*"), ParseEntry("-::*")}
	return s
}

// FromLive interprets CONFIG GET bind for a server of the given major
// version. The empty value flips meaning between versions: all interfaces
// on 6.x, no listener on 7.x.
func FromLive(value string, major int, source string) Spec {
	s := Spec{Source: source, Present: true, Text: value}
	if strings.TrimSpace(value) == "" {
		return emptyBind(s, major, true)
	}
	for _, w := range strings.Fields(value) {
		s.Entries = append(s.Entries, ParseEntry(w))
	}
	return s
}

func emptyBind(s Spec, major int, live bool) Spec {
	switch {
	case major >= 7:
		s.Meaning = "empty bind: Redis 7 opens no TCP listener"
		s.Entries = []Entry{{Text: `""`, Kind: NoListen}}
	case major > 0 && live:
		s.Meaning = "empty bind value: Redis 6 listens on all interfaces"
		s.Entries = []Entry{ParseEntry("*"), ParseEntry("::")}
	case major > 0:
		// bind "" in a 6.x file is not a documented form; assume the worst.
		s.Meaning = "bind \"\" on Redis 6: treated as all interfaces"
		s.Entries = []Entry{ParseEntry("*"), ParseEntry("::")}
	default:
		s.Meaning = "empty bind: all interfaces on Redis 6, no listener on Redis 7; the version is unknown"
		s.Uncertain = true
		s.Entries = []Entry{ParseEntry("*"), ParseEntry("::")}
	}
	return s
}

// parseInetAton reads an IPv4 address as the C library's inet_aton does
// (and getaddrinfo with it, before any name lookup): one to four parts
// separated by dots, each decimal, octal (leading 0) or hexadecimal (0x),
// the last part filling the bytes the others left ("127.1" is 127.0.0.1,
// "0" is 0.0.0.0, "3221225985" is 192.0.2.1). ok is false for anything
// else, a name.
func parseInetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		v, ok := parseCNumber(p)
		if !ok {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	last := len(vals) - 1
	var n uint64
	for i := 0; i < last; i++ {
		if vals[i] > 0xff {
			return netip.Addr{}, false
		}
		n |= vals[i] << (24 - 8*i)
	}
	if vals[last] > 0xffffffff>>(8*last) {
		return netip.Addr{}, false
	}
	n |= vals[last]
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

// parseCNumber reads one part of an inet_aton address: digits only, no
// sign, base from the prefix as strtoul with base 0; at most 32 bits.
func parseCNumber(p string) (uint64, bool) {
	base := uint64(10)
	switch {
	case len(p) >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'):
		base, p = 16, p[2:]
	case len(p) >= 2 && p[0] == '0':
		base, p = 8, p[1:]
	}
	if p == "" {
		return 0, false
	}
	var v uint64
	for _, c := range []byte(p) {
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		v = v*base + d
		if v > 0xffffffff {
			return 0, false
		}
	}
	return v, true
}
