package unixsock

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/sockdiag"
)

// Listener is one listening UNIX stream socket as the kernel reports it.
type Listener struct {
	Inode uint64
	// Name is the bound address: a path (possibly relative to the binder's
	// working directory), "@name" for the abstract namespace, "" unbound.
	Name string
	// VFSIno and VFSDev identify the socket file the listener was bound to
	// (sock_diag only; zero from /proc/net/unix).
	VFSIno uint64
	VFSDev uint64 // kernel-internal encoding: major<<20 | minor
}

// Abstract reports a socket of the abstract namespace, which has no file
// and so no permissions: anyone in the network namespace can connect.
func (l Listener) Abstract() bool { return strings.HasPrefix(l.Name, "@") }

// Layouts from linux/unix_diag.h.
const (
	unixDiagReqLen = 24 // unix_diag_req
	unixDiagMsgLen = 16 // unix_diag_msg

	udiagShowName = 0x1
	udiagShowVFS  = 0x2

	unixDiagName = 0
	unixDiagVFS  = 1

	sockStream  = 1
	stateListen = 10
)

// ErrDiagMessage means a malformed or unexpected netlink message.
var ErrDiagMessage = sockdiag.ErrMessage

// diagErrno is an error the kernel answered a dump request with.
type diagErrno = sockdiag.Errno

// diagRequest builds the SOCK_DIAG_BY_FAMILY dump of listening AF_UNIX
// sockets with their names and socket-file identities.
func diagRequest(seq uint32) []byte {
	const afUnix = 1
	msg, r := sockdiag.Request(seq, unixDiagReqLen)
	ne := binary.NativeEndian
	r[0] = afUnix
	ne.PutUint32(r[4:], 1<<stateListen)
	ne.PutUint32(r[12:], udiagShowName|udiagShowVFS)
	return msg
}

// parseDiag decodes one datagram of the dump: the stream listeners it holds
// and whether the dump is complete.
func parseDiag(b []byte, seq uint32) (out []Listener, done bool, err error) {
	done, err = sockdiag.Walk(b, seq, func(body []byte) error {
		l, ok, err := parseDiagMsg(body)
		if ok {
			out = append(out, l)
		}
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return out, done, nil
}

// parseDiagMsg decodes a unix_diag_msg and its attributes.
func parseDiagMsg(m []byte) (Listener, bool, error) {
	if len(m) < unixDiagMsgLen {
		return Listener{}, false, fmt.Errorf("%w: unix_diag_msg of %d bytes", ErrDiagMessage, len(m))
	}
	ne := binary.NativeEndian
	if m[0] != 1 {
		return Listener{}, false, fmt.Errorf("%w: address family %d", ErrDiagMessage, m[0])
	}
	l := Listener{Inode: uint64(ne.Uint32(m[4:]))}
	keep := m[1] == sockStream && m[2] == stateListen
	attrs := m[unixDiagMsgLen:]
	for len(attrs) >= 4 {
		alen, typ := int(ne.Uint16(attrs[0:])), ne.Uint16(attrs[2:])
		if alen < 4 || alen > len(attrs) {
			return Listener{}, false, fmt.Errorf("%w: attribute length %d of %d", ErrDiagMessage, alen, len(attrs))
		}
		v := attrs[4:alen]
		switch typ {
		case unixDiagName:
			l.Name = sunPath(v)
		case unixDiagVFS:
			if len(v) < 8 {
				return Listener{}, false, fmt.Errorf("%w: VFS attribute of %d bytes", ErrDiagMessage, len(v))
			}
			l.VFSIno, l.VFSDev = uint64(ne.Uint32(v[0:])), uint64(ne.Uint32(v[4:]))
		}
		if a := (alen + 3) &^ 3; a < len(attrs) {
			attrs = attrs[a:]
		} else {
			attrs = nil
		}
	}
	return l, keep, nil
}

// sunPath renders a sun_path as /proc/net/unix does: the abstract
// namespace's leading NUL (and any other NUL) as '@'.
func sunPath(v []byte) string {
	if len(v) > 0 && v[0] != 0 {
		if i := indexByte(v, 0); i >= 0 {
			v = v[:i]
		}
		return string(v)
	}
	return strings.ReplaceAll(string(v), "\x00", "@")
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// MaxTableSize caps /proc/net/unix; a busy host has tens of thousands of
// sockets at about 100 bytes a line.
const MaxTableSize = 32 << 20

// ErrTooLarge means a table or dump exceeded its cap.
var ErrTooLarge = errors.New("socket table larger than the cap")

// ErrTable means a /proc/net/unix line that does not parse.
var ErrTable = errors.New("malformed /proc/net/unix line")

// parseProcNetUnix reads /proc/net/unix and returns its listening stream
// sockets. Columns: Num RefCount Protocol Flags Type St Inode [Path]; the
// path runs to the end of the line and may hold spaces.
func parseProcNetUnix(r io.Reader) ([]Listener, error) {
	const soAcceptCon = 1 << 16
	lr := &io.LimitedReader{R: r, N: MaxTableSize + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 4096), 4096)
	var out []Listener
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			first = false
			if strings.HasPrefix(line, "Num") {
				continue
			}
		}
		f, rest := fields7(line)
		if len(f) < 7 {
			return nil, fmt.Errorf("%w: %q", ErrTable, line)
		}
		flags, err1 := strconv.ParseUint(f[3], 16, 32)
		typ, err2 := strconv.ParseUint(f[4], 16, 16)
		ino, err3 := strconv.ParseUint(f[6], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("%w: %q", ErrTable, line)
		}
		if flags&soAcceptCon == 0 || typ != sockStream {
			continue
		}
		l := Listener{Inode: ino}
		l.Name = rest
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTable, err)
	}
	if lr.N <= 0 {
		return nil, ErrTooLarge
	}
	return out, nil
}

// fields7 splits the seven fixed columns off a line; the rest is the path,
// which may itself hold spaces.
func fields7(line string) ([]string, string) {
	var f []string
	for len(f) < 7 {
		line = strings.TrimLeft(line, " ")
		if line == "" {
			return f, ""
		}
		i := strings.IndexByte(line, ' ')
		if i < 0 {
			f, line = append(f, line), ""
			continue
		}
		f, line = append(f, line[:i]), line[i:]
	}
	if strings.HasPrefix(line, " ") {
		line = line[1:]
	}
	return f, line
}
