package unixsock

import (
	"encoding/binary"
	"errors"
	"testing"
)

// unixDiagMsg builds one netlink message as the kernel sends it: the
// unix_diag_msg and NAME and VFS attributes.
func unixDiagMsg(seq uint32, typ, state uint8, ino uint32, name string, vfsIno, vfsDev uint32) []byte {
	ne := binary.NativeEndian
	attr := func(t uint16, v []byte) []byte {
		a := make([]byte, 4, 4+len(v)+3)
		ne.PutUint16(a[0:], uint16(4+len(v)))
		ne.PutUint16(a[2:], t)
		a = append(a, v...)
		for len(a)%4 != 0 {
			a = append(a, 0)
		}
		return a
	}
	m := make([]byte, unixDiagMsgLen)
	m[0], m[1], m[2] = 1, typ, state
	ne.PutUint32(m[4:], ino)
	nameBytes := []byte(name)
	if len(name) > 0 && name[0] == '@' {
		nameBytes[0] = 0
	}
	m = append(m, attr(unixDiagName, nameBytes)...)
	vfs := make([]byte, 8)
	ne.PutUint32(vfs[0:], vfsIno)
	ne.PutUint32(vfs[4:], vfsDev)
	m = append(m, attr(unixDiagVFS, vfs)...)
	h := make([]byte, 16)
	ne.PutUint32(h[0:], uint32(16+len(m)))
	ne.PutUint16(h[4:], 20)
	ne.PutUint32(h[8:], seq)
	return append(h, m...)
}

func doneMsg(seq uint32) []byte {
	b := make([]byte, 20)
	binary.NativeEndian.PutUint32(b[0:], 20)
	binary.NativeEndian.PutUint16(b[4:], 3)
	binary.NativeEndian.PutUint32(b[8:], seq)
	return b
}

func TestParseDiag(t *testing.T) {
	var d []byte
	d = append(d, unixDiagMsg(1, sockStream, stateListen, 100, "/run/redis/redis.sock", 7, 8)...)
	d = append(d, unixDiagMsg(1, sockStream, stateListen, 101, "@abstract", 0, 0)...)
	d = append(d, unixDiagMsg(1, 2, stateListen, 102, "/dgram", 0, 0)...) // datagram: no listener
	d = append(d, unixDiagMsg(1, sockStream, 1, 103, "/est", 0, 0)...)    // not listening
	d = append(d, doneMsg(1)...)
	ls, done, err := parseDiag(d, 1)
	if err != nil || !done || len(ls) != 2 {
		t.Fatalf("%+v %v %v", ls, done, err)
	}
	if ls[0] != (Listener{Inode: 100, Name: "/run/redis/redis.sock", VFSIno: 7, VFSDev: 8}) || ls[1].Name != "@abstract" || !ls[1].Abstract() {
		t.Errorf("%+v", ls)
	}
	if _, _, err := parseDiag(d[:len(d)-30], 1); !errors.Is(err, ErrDiagMessage) {
		t.Errorf("torn: %v", err)
	}
	if _, _, err := parseDiag(d, 2); !errors.Is(err, ErrDiagMessage) {
		t.Errorf("sequence: %v", err)
	}
}
