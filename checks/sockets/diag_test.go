package sockets

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
)

// Netlink framing values the test datagrams are built with
// (linux/netlink.h), spelled out here so that the parser is checked
// against the kernel's numbers rather than against its own constants.
const (
	nlmsgHdrLen  = 16
	nlmsgDone    = 3
	nlmFDumpIntr = 0x10
)

// diagMsg builds one inet_diag_msg netlink message as the kernel sends it.
func diagMsg(seq uint32, state uint8, ap netip.AddrPort, uid, inode uint32) []byte {
	b := make([]byte, nlmsgHdrLen+inetDiagMsgLen)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], 20)
	ne.PutUint32(b[8:], seq)
	m := b[nlmsgHdrLen:]
	m[0], m[1] = 2, state
	if ap.Addr().Is6() {
		m[0] = 10
	}
	binary.BigEndian.PutUint16(m[4:], ap.Port())
	a := ap.Addr().AsSlice()
	copy(m[8:], a)
	ne.PutUint32(m[64:], uid)
	ne.PutUint32(m[68:], inode)
	return b
}

func nlDone(seq uint32) []byte {
	b := make([]byte, nlmsgHdrLen+4)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], nlmsgDone)
	ne.PutUint32(b[8:], seq)
	return b
}

func TestParseDiag(t *testing.T) {
	var dgram []byte
	dgram = append(dgram, diagMsg(7, tcpListen, netip.MustParseAddrPort("127.0.0.1:6379"), 101, 21423)...)
	dgram = append(dgram, diagMsg(7, tcpListen, netip.MustParseAddrPort("[2001:db8::1]:26379"), 0, 9)...)
	dgram = append(dgram, diagMsg(7, 1, netip.MustParseAddrPort("192.0.2.1:6379"), 0, 10)...) // established
	ls, done, err := parseDiag(dgram, 7)
	if err != nil || done {
		t.Fatalf("err %v, done %v", err, done)
	}
	if len(ls) != 2 || ls[0].Addr.String() != "127.0.0.1:6379" || ls[0].UID != 101 || ls[0].Inode != 21423 ||
		ls[1].Addr.String() != "[2001:db8::1]:26379" {
		t.Fatalf("got %+v", ls)
	}
	if _, done, err := parseDiag(nlDone(7), 7); err != nil || !done {
		t.Fatalf("done message: %v %v", done, err)
	}
	if _, _, err := parseDiag(nlDone(8), 7); !errors.Is(err, ErrDiagMessage) {
		t.Fatalf("wrong sequence accepted: %v", err)
	}
	intr := diagMsg(7, tcpListen, netip.MustParseAddrPort("127.0.0.1:6379"), 0, 1)
	binary.NativeEndian.PutUint16(intr[6:], nlmFDumpIntr)
	if _, _, err := parseDiag(intr, 7); !errors.Is(err, ErrDiagMessage) {
		t.Fatalf("interrupted dump accepted: %v", err)
	}
	failed := nlDone(7)
	binary.NativeEndian.PutUint32(failed[nlmsgHdrLen:], uint32(0xfffffff0)) // -16, EBUSY
	var errno diagErrno
	if _, _, err := parseDiag(failed, 7); !errors.As(err, &errno) || errno != 16 {
		t.Fatalf("failed dump accepted: %v", err)
	}
	if _, _, err := parseDiag(dgram[:len(dgram)-5], 7); !errors.Is(err, ErrDiagMessage) {
		t.Fatalf("truncated datagram accepted: %v", err)
	}
}

func FuzzParseDiag(f *testing.F) {
	f.Add(append(diagMsg(1, tcpListen, netip.MustParseAddrPort("127.0.0.1:6379"), 1, 2), nlDone(1)...))
	f.Add(diagMsg(1, tcpListen, netip.MustParseAddrPort("[::]:6379"), 0, 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		ls, _, err := parseDiag(b, 1)
		if err != nil {
			var e diagErrno
			if !errors.Is(err, ErrDiagMessage) && !errors.As(err, &e) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for _, l := range ls {
			if !l.Addr.IsValid() {
				t.Fatal("invalid address")
			}
		}
	})
}

// Both live sources must show a listener this test opens, at the exact
// address and with the same owner and inode: the parsers are checked
// against the real kernel, not only fixtures. The rest of the host's
// sockets may change between the two reads.
func TestLiveSourcesShowOwnListener(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("skipped: no /proc/net/tcp on this system")
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			if strings.HasPrefix(addr, "[") {
				continue // no IPv6 loopback here
			}
			t.Fatal(err)
		}
		want := netip.MustParseAddrPort(ln.Addr().String())
		dumped, derr := dumpListeners()
		table, terr := ReadTables("/proc")
		ln.Close()
		if derr != nil {
			t.Fatalf("sock_diag: %v", derr)
		}
		if terr != nil {
			t.Fatal(terr)
		}
		i := slices.IndexFunc(dumped, func(l Listener) bool { return l.Addr == want })
		j := slices.IndexFunc(table, func(l Listener) bool { return l.Addr == want })
		if i < 0 || j < 0 || dumped[i] != table[j] {
			t.Fatalf("listener %v: dump %v, table %v", want, i >= 0, j >= 0)
		}
	}
}
