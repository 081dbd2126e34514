// Package sockets lists the listening TCP sockets of a network namespace:
// what is really bound, whatever any configuration says. It asks the kernel
// through sock_diag (diag.go) and reads /proc/net/tcp and tcp6 where that is
// refused or another host's tables are given. Both are open to any user and
// describe the caller's network namespace.
package sockets

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Listener is one socket in LISTEN state.
type Listener struct {
	Addr  netip.AddrPort
	UID   int
	Inode uint64
}

// Wildcard reports a listener bound to all addresses of its family.
func (l Listener) Wildcard() bool { return l.Addr.Addr().IsUnspecified() }

// MaxTableSize caps one table: a busy host has tens of thousands of sockets
// at about 150 bytes each.
const MaxTableSize = 64 << 20

const stateListen = "0A"

// ParseError reports a malformed line.
type ParseError struct {
	Line int
	Err  error
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *ParseError) Unwrap() error { return e.Err }

// ErrTooLarge means the table exceeded MaxTableSize.
var ErrTooLarge = errors.New("socket table too large")

// Parse reads a /proc/net/tcp or tcp6 table and returns its listeners.
func Parse(r io.Reader) ([]Listener, error) {
	lr := &io.LimitedReader{R: r, N: MaxTableSize + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 512), 4096)
	var out []Listener
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if line == 1 && len(f) > 0 && f[0] == "sl" {
			continue
		}
		if len(f) == 0 {
			continue
		}
		if len(f) < 10 {
			return nil, &ParseError{line, errors.New("too few fields")}
		}
		if f[3] != stateListen {
			continue
		}
		ap, err := parseHexAddrPort(f[1])
		if err != nil {
			return nil, &ParseError{line, err}
		}
		uid, err := strconv.Atoi(f[7])
		if err != nil {
			return nil, &ParseError{line, fmt.Errorf("uid %q", f[7])}
		}
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil {
			return nil, &ParseError{line, fmt.Errorf("inode %q", f[9])}
		}
		out = append(out, Listener{Addr: ap, UID: uid, Inode: inode})
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{line + 1, err}
	}
	if lr.N <= 0 {
		return nil, ErrTooLarge
	}
	return out, nil
}

// parseHexAddrPort decodes "0100007F:18EB" (IPv4) or the 32-hex-digit IPv6
// form. The kernel prints each 32-bit word in host byte order.
func parseHexAddrPort(s string) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("address %q", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("port %q", p)
	}
	raw, err := hex.DecodeString(a)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("address %q", a)
	}
	b := make([]byte, len(raw))
	for i := 0; i < len(raw); i += 4 {
		binary.BigEndian.PutUint32(b[i:], binary.NativeEndian.Uint32(raw[i:]))
	}
	addr, _ := netip.AddrFromSlice(b)
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// ReadTables reads tcp and tcp6 under procRoot (normally "/proc"). A missing
// tcp6 (IPv6 disabled) is not an error; a missing tcp is.
func ReadTables(procRoot string) ([]Listener, error) {
	var all []Listener
	for _, name := range []string{"tcp", "tcp6"} {
		f, err := os.Open(filepath.Join(procRoot, "net", name))
		if err != nil {
			if name == "tcp6" && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, err
		}
		ls, err := Parse(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(procRoot, "net", name), err)
		}
		all = append(all, ls...)
	}
	return all, nil
}

// Listening returns the listeners of the caller's network namespace when
// procRoot is "/proc", through sock_diag and, if the kernel or a sandbox
// refuses that, through the /proc tables; with any other procRoot (a copy of
// another host's tables, a test fixture), from the tables under it.
func Listening(procRoot string) ([]Listener, error) {
	if filepath.Clean(procRoot) == "/proc" {
		if ls, err := dumpListeners(); err == nil {
			return ls, nil
		}
	}
	return ReadTables(procRoot)
}

// OnPorts keeps the listeners whose port is in ports.
func OnPorts(ls []Listener, ports map[uint16]bool) []Listener {
	var out []Listener
	for _, l := range ls {
		if ports[l.Addr.Port()] {
			out = append(out, l)
		}
	}
	return out
}
