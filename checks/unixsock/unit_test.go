package unixsock

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

func aclBytes(es ...ACLEntry) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 2)
	for _, e := range es {
		b = binary.LittleEndian.AppendUint16(b, e.Tag)
		b = binary.LittleEndian.AppendUint16(b, e.Perm)
		b = binary.LittleEndian.AppendUint32(b, e.ID)
	}
	return b
}

func TestParseACL(t *testing.T) {
	good := aclBytes(ACLEntry{aclUserObj, 7, 0}, ACLEntry{aclUser, 1, 1000}, ACLEntry{aclGroupObj, 5, 0},
		ACLEntry{aclMask, 5, 0}, ACLEntry{aclOther, 0, 0})
	acl, err := ParseACL(good)
	if err != nil || len(acl) != 5 || !acl.extended() || acl[1].ID != 1000 {
		t.Fatalf("%v %v", acl, err)
	}
	for name, b := range map[string][]byte{
		"empty":     nil,
		"version 1": append([]byte{1, 0, 0, 0}, good[4:]...),
		"torn":      good[:len(good)-3],
		"no other":  aclBytes(ACLEntry{aclUserObj, 7, 0}, ACLEntry{aclGroupObj, 5, 0}),
		"bad tag":   aclBytes(ACLEntry{aclUserObj, 7, 0}, ACLEntry{0x40, 7, 0}, ACLEntry{aclGroupObj, 5, 0}, ACLEntry{aclOther, 0, 0}),
		"bad perm":  aclBytes(ACLEntry{aclUserObj, 8, 0}, ACLEntry{aclGroupObj, 5, 0}, ACLEntry{aclOther, 0, 0}),
		"twice":     aclBytes(ACLEntry{aclUserObj, 7, 0}, ACLEntry{aclUserObj, 7, 0}, ACLEntry{aclGroupObj, 5, 0}, ACLEntry{aclOther, 0, 0}),
	} {
		if _, err := ParseACL(b); !errors.Is(err, ErrACL) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzParseACL(f *testing.F) {
	f.Add(aclBytes(ACLEntry{aclUserObj, 7, 0}, ACLEntry{aclGroupObj, 5, 0}, ACLEntry{aclOther, 0, 0}))
	f.Fuzz(func(t *testing.T, b []byte) {
		acl, err := ParseACL(b)
		if err != nil && !errors.Is(err, ErrACL) {
			t.Fatalf("untyped error %v", err)
		}
		if err == nil && len(acl) != (len(b)-4)/8 {
			t.Fatal("entries lost")
		}
	})
}

// The kernel's rules, case by case: owner bits bind the owner even when
// others may; a matching group entry that refuses does not fall through to
// other; the mask limits named entries and the owning group.
func TestComponentAllows(t *testing.T) {
	acl := ACL{{aclUserObj, 0, 0}, {aclUser, 1, 7}, {aclGroupObj, 1, 0}, {aclGroup, 0, 9}, {aclMask, 1, 0}, {aclOther, 1, 0}}
	masked := ACL{{aclUserObj, 7, 0}, {aclUser, 1, 7}, {aclGroupObj, 1, 0}, {aclMask, 0, 0}, {aclOther, 0, 0}}
	cases := []struct {
		c    Component
		p    Principal
		want bool
	}{
		{Component{Need: permX, Mode: 0o007, UID: 5, GID: 6}, Principal{UID: 5}, false},
		{Component{Need: permX, Mode: 0o007, UID: 5, GID: 6}, Principal{UID: 8}, true},
		{Component{Need: permX, Mode: 0o701, UID: 5, GID: 6}, Principal{UID: 8, GIDs: []uint32{6}}, false},
		{Component{Need: permW, Mode: 0o770, UID: 5, GID: 6}, Principal{UID: 8, GIDs: []uint32{6}}, true},
		{Component{Need: permW, Mode: 0o770, UID: 5, GID: 6}, Principal{Unnamed: true}, false},
		{Component{Need: permW, Mode: 0o000, UID: 5, GID: 6}, Principal{UID: 0}, true},
		{Component{Need: permX, UID: 5, GID: 6, ACL: acl}, Principal{UID: 7}, true},
		{Component{Need: permX, UID: 5, GID: 6, ACL: acl}, Principal{UID: 5}, false},
		{Component{Need: permX, UID: 5, GID: 6, ACL: acl}, Principal{UID: 8, GIDs: []uint32{9}}, false},
		{Component{Need: permX, UID: 5, GID: 6, ACL: acl}, Principal{UID: 8, GIDs: []uint32{9, 6}}, true},
		{Component{Need: permX, UID: 5, GID: 6, ACL: acl}, Principal{Unnamed: true}, true},
		{Component{Need: permX, UID: 5, GID: 6, ACL: masked}, Principal{UID: 7}, false},
		{Component{Need: permX, UID: 5, GID: 6, ACL: masked}, Principal{UID: 8, GIDs: []uint32{6}}, false},
	}
	for i, c := range cases {
		if got := c.c.allows(c.p).ok; got != c.want {
			t.Errorf("case %d: %+v for %+v: %v, want %v", i, c.c, c.p, got, c.want)
		}
	}
}

// A fake file system for the walk: symlinks, relative and absolute, "..",
// loops and a non-socket at the end.
func TestWalk(t *testing.T) {
	fs := map[string]fileInfo{
		"/":             {Mode: sIFDIR | 0o755},
		"/run":          {Mode: sIFDIR | 0o755},
		"/run/redis":    {Mode: sIFDIR | 0o750, GID: 7},
		"/run/redis/s":  {Mode: sIFSOCK | 0o770, Ino: 42},
		"/var":          {Mode: sIFDIR | 0o755},
		"/var/run":      {Mode: sIFLNK, Symlink: "../run"},
		"/var/abs":      {Mode: sIFLNK, Symlink: "/run/redis/s"},
		"/var/loop":     {Mode: sIFLNK, Symlink: "/var/loop"},
		"/var/file":     {Mode: 0o100644},
		"/run/redis/up": {Mode: sIFLNK, Symlink: "../redis/s"},
	}
	stat := func(p string) (fileInfo, error) {
		if fi, ok := fs[p]; ok {
			return fi, nil
		}
		return fileInfo{}, errors.New("no such file")
	}
	paths := func(ch Chain) string {
		var s []string
		for _, c := range ch {
			s = append(s, c.Path)
		}
		return strings.Join(s, " ")
	}
	for in, want := range map[string]string{
		"/run/redis/s":     "/ /run /run/redis /run/redis/s",
		"/var/run/redis/s": "/ /var /run /run/redis /run/redis/s",
		"/var/abs":         "/ /var /run /run/redis /run/redis/s",
		"/run/redis/up":    "/ /run /run/redis /run/redis/s",
	} {
		ch, fi, err := walk(in, stat)
		if err != nil || paths(ch) != want || fi.Ino != 42 {
			t.Errorf("%s: %q %v, want %q", in, paths(ch), err, want)
		}
		if in == "/var/run/redis/s" && (len(ch[1].Entries) != 1 || ch[1].Entries[0].Name != "/var/run") {
			t.Errorf("%s: /var holds %v, want the symlink /var/run", in, ch[1].Entries)
		}
		if ch.Socket().Need != permW || ch[0].Need != permX {
			t.Errorf("%s: needs %v", in, ch)
		}
	}
	for _, in := range []string{"/var/loop", "/var/file", "/run/nothing", "relative/s", "/run/redis"} {
		if _, _, err := walk(in, stat); !errors.Is(err, ErrWalk) {
			t.Errorf("%s: %v", in, err)
		}
	}
}

func TestParseProcNetUnix(t *testing.T) {
	table := `Num       RefCount Protocol Flags    Type St Inode Path
0000000016665c5a: 00000003 00000000 00000000 0001 03   588
00000000aaaa0001: 00000002 00000000 00010000 0001 01 21000 /run/redis/redis.sock
00000000aaaa0002: 00000002 00000000 00010000 0001 01 21001 @abstract
00000000aaaa0003: 00000002 00000000 00010000 0002 01 21002 /run/dgram
00000000aaaa0004: 00000002 00000000 00010000 0001 01 21003 /tmp/with space.sock
00000000aaaa0005: 00000002 00000000 00010000 0001 01 21004
`
	ls, err := parseProcNetUnix(strings.NewReader(table))
	if err != nil {
		t.Fatal(err)
	}
	want := []Listener{{Inode: 21000, Name: "/run/redis/redis.sock"}, {Inode: 21001, Name: "@abstract"},
		{Inode: 21003, Name: "/tmp/with space.sock"}, {Inode: 21004}}
	if len(ls) != len(want) {
		t.Fatalf("got %+v", ls)
	}
	for i := range want {
		if ls[i] != want[i] {
			t.Errorf("%d: %+v, want %+v", i, ls[i], want[i])
		}
	}
	if !ls[1].Abstract() || ls[0].Abstract() {
		t.Error("abstract")
	}
	if _, err := parseProcNetUnix(strings.NewReader("Num\nxx: 1 2\n")); !errors.Is(err, ErrTable) {
		t.Errorf("short line: %v", err)
	}
}

func FuzzParseProcNetUnix(f *testing.F) {
	f.Add("00000000aaaa0001: 00000002 00000000 00010000 0001 01 21000 /run/redis/redis.sock\n")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := parseProcNetUnix(strings.NewReader(s)); err != nil && !errors.Is(err, ErrTable) && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("untyped error %v", err)
		}
	})
}

func FuzzParseDiag(f *testing.F) {
	f.Add([]byte{})
	f.Add(append(unixDiagMsg(1, sockStream, stateListen, 100, "/run/redis/redis.sock", 7, 8), doneMsg(1)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, err := parseDiag(b, 1)
		var e diagErrno
		if err != nil && !errors.Is(err, ErrDiagMessage) && !errors.As(err, &e) {
			t.Fatalf("untyped error %v", err)
		}
	})
}
