package nfnl

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir(t), name+".rec"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeLimits(t *testing.T) {
	rec := fixture(t, "sets")
	for _, tc := range []struct {
		lim  Limits
		name string
	}{
		{Limits{MaxRules: 2}, "MaxRules"},
		{Limits{MaxElements: 3}, "MaxElements"},
		{Limits{MaxSets: 1}, "MaxSets"},
		{Limits{MaxMessages: 5}, "MaxMessages"},
		{Limits{MaxMessageBytes: 64}, "MaxMessageBytes"},
	} {
		_, err := DecodeLimits(bytes.NewReader(rec), tc.lim)
		var le *LimitError
		if !errors.As(err, &le) || le.Limit != tc.name {
			t.Errorf("%+v: got %v, want a %s LimitError", tc.lim, err, tc.name)
			continue
		}
		if le.Where == "" || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%s: error does not say where: %v", tc.name, err)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	rec := fixture(t, "families")
	for name, in := range map[string][]byte{
		"empty":        nil,
		"bad magic":    []byte("nft-recording 1\n"),
		"no attempt":   []byte(recordMagic),
		"truncated":    rec[:len(rec)-7],
		"mid dump":     rec[:len(recordMagic)+5+0+5+40],
		"unknown kind": append([]byte(recordMagic), 'Q', 0, 0, 0, 0),
	} {
		if _, err := Decode(bytes.NewReader(in)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// A recording of two attempts decodes the last.
func TestDecodeLastAttempt(t *testing.T) {
	a, b := fixture(t, "families"), fixture(t, "sets")
	both := append(append([]byte{}, a...), b[len(recordMagic):]...)
	rs, err := Decode(bytes.NewReader(both))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Decode(bytes.NewReader(b))
	if len(rs.Rules) != len(want.Rules) || len(rs.Sets) != len(want.Sets) {
		t.Errorf("decoded %d rules %d sets, want the last attempt's %d and %d", len(rs.Rules), len(rs.Sets), len(want.Rules), len(want.Sets))
	}
}

func TestRegOffset(t *testing.T) {
	for r, want := range map[uint32]int{1: 0, 2: 16, 4: 48, 8: 0, 9: 4, 12: 16, 23: 60} {
		if got, ok := RegOffset(r); !ok || got != want {
			t.Errorf("RegOffset(%d) = %d %v, want %d", r, got, ok, want)
		}
	}
	for _, r := range []uint32{0, 5, 7, 24} {
		if _, ok := RegOffset(r); ok {
			t.Errorf("RegOffset(%d) ok", r)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, name := range []string{"families", "sets", "iptables-nft", "rare"} {
		addMessageSeeds(f, fixture(f, name))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		rs, err := DecodeLimits(bytes.NewReader(in), Limits{MaxMessageBytes: 1 << 16, MaxMessages: 1 << 12, MaxRules: 1 << 10, MaxElements: 1 << 12, MaxSets: 1 << 10})
		if err != nil {
			return
		}
		for _, r := range rs.Rules {
			_ = r.Bytecode()
			_ = r.UserDataLine()
		}
		for _, s := range rs.Sets {
			_ = s.ElementsBytecode()
		}
	})
}

// addMessageSeeds seeds a fuzz target with each netlink message of a
// recording as a recording of its own (the message, then its dump's
// NLMSG_DONE). Whole recordings (7-21 KB) stalled the fuzzer: every
// mutant that finds new coverage is minimised first, at a cost that grows
// with the square of the input's length. TestDecodeFixtures reads the
// recordings whole.
func addMessageSeeds(f *testing.F, rec []byte) {
	type frame struct {
		kind byte
		msg  []byte
	}
	var msgs []frame
	done := map[byte][]byte{}
	b := rec[len(recordMagic):]
	for len(b) >= 5 {
		k, n := b[0], int(binary.BigEndian.Uint32(b[1:5]))
		if n > len(b)-5 {
			f.Fatalf("recording frame of %d bytes past its end", n)
		}
		dgram := b[5 : 5+n]
		b = b[5+n:]
		for len(dgram) >= 16 {
			l := int(binary.LittleEndian.Uint32(dgram))
			if l < 16 || l > len(dgram) {
				break
			}
			m := dgram[:l]
			if binary.LittleEndian.Uint16(m[4:]) == 3 { // NLMSG_DONE
				done[k] = m
			} else {
				msgs = append(msgs, frame{k, m})
			}
			dgram = dgram[(l+3)&^3:]
		}
	}
	put := func(buf []byte, k byte, m []byte) []byte {
		buf = append(buf, k, 0, 0, 0, 0)
		binary.BigEndian.PutUint32(buf[len(buf)-4:], uint32(len(m)))
		return append(buf, m...)
	}
	for _, m := range msgs {
		seed := put([]byte(recordMagic), 'A', nil)
		seed = put(seed, m.kind, m.msg)
		if d := done[m.kind]; d != nil {
			seed = put(seed, m.kind, d)
		}
		f.Add(seed)
	}
}

func TestRuleComment(t *testing.T) {
	rs, err := Decode(bytes.NewReader(fixture(t, "families")))
	if err != nil {
		t.Fatal(err)
	}
	r := &Rule{UserData: []byte{1, 1, 9, 0, 3, 'h', 'i', 0}}
	if got := r.Comment(); got != "hi" {
		t.Errorf("Comment() = %q, want hi", got)
	}
	if got := (&Rule{UserData: []byte{0, 9, 'x'}}).Comment(); got != "" {
		t.Errorf("a truncated TLV gave comment %q", got)
	}
	if c := rs.Chain(FamilyIPv4, "t4", "in"); c == nil || !c.HasHook || c.Hooknum != 1 || !c.HasPolicy || c.Policy != 0 || c.Type != "filter" {
		t.Errorf("chain ip t4 in: %+v", c)
	}
	if c := rs.Chain(FamilyNetdev, "tn", "ing"); c == nil || len(c.Devices) != 1 || c.Devices[0] != "lo" || c.Priority != -500 {
		t.Errorf("chain netdev tn ing: %+v", c)
	}
}

func TestNetlinkErrorIs(t *testing.T) {
	err := error(&NetlinkError{Errno: 1, Where: "rule dump"}) // EPERM
	if !errors.Is(err, os.ErrPermission) {
		t.Errorf("%v is not os.ErrPermission", err)
	}
	if !strings.Contains(err.Error(), "EPERM") || !strings.Contains(err.Error(), "rule dump") {
		t.Errorf("error text %q names neither the errno nor the dump", err)
	}
}

// A dump the kernel could not finish ends with NLMSG_DONE carrying the
// error (netlink_dump's dump_done_errno): the rules before it are not the
// whole chain, and the reading fails instead of judging part of it.
func TestDumpFailedPartWay(t *testing.T) {
	msg := func(typ uint16, seq uint32, body []byte) []byte {
		b := make([]byte, 16, 16+len(body))
		binary.NativeEndian.PutUint32(b[0:], uint32(16+len(body)))
		binary.NativeEndian.PutUint16(b[4:], typ)
		binary.NativeEndian.PutUint16(b[6:], 2) // NLM_F_MULTI
		binary.NativeEndian.PutUint32(b[8:], seq)
		return append(b, body...)
	}
	emsgsize := make([]byte, 4)
	e := -int32(syscall.EMSGSIZE)
	binary.NativeEndian.PutUint32(emsgsize, uint32(e))
	d := newDecoder(Limits{})
	d.seq = 5
	done, err := d.datagram(kindRules, msg(3, 5, emsgsize)) // NLMSG_DONE
	var ne *NetlinkError
	if done || !errors.As(err, &ne) || ne.Errno != int32(syscall.EMSGSIZE) {
		t.Errorf("DONE carrying EMSGSIZE: done %v, err %v; want a NetlinkError", done, err)
	}
	// A plain end of dump, and an answer to another request.
	if done, err := d.datagram(kindRules, msg(3, 5, make([]byte, 4))); !done || err != nil {
		t.Errorf("DONE: done %v, err %v", done, err)
	}
	if _, err := d.datagram(kindRules, msg(3, 4, make([]byte, 4))); err == nil || !strings.Contains(err.Error(), "answer to request 4 while waiting for 5") {
		t.Errorf("a stale answer: %v", err)
	}
}

// BenchmarkDecode decodes the recording of the rarer expressions: the
// decoder's own cost, without the kernel's.
func BenchmarkDecode(b *testing.B) {
	rec := fixture(b, "rare")
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(rec)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeFixtures decodes the other recordings: rulesets of nft
// families, of sets and maps, and of iptables-nft.
func BenchmarkDecodeFixtures(b *testing.B) {
	for _, name := range []string{"families", "sets", "iptables-nft"} {
		b.Run(name, func(b *testing.B) {
			rec := fixture(b, name)
			b.SetBytes(int64(len(rec)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(bytes.NewReader(rec)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRender renders every rule and set element of the recording of
// the rarer expressions, as the listing compared with nft's.
func BenchmarkRender(b *testing.B) {
	rs, err := Decode(bytes.NewReader(fixture(b, "rare")))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range rs.Rules {
			_ = r.Bytecode()
		}
		for _, s := range rs.Sets {
			_ = s.ElementsBytecode()
		}
	}
}

// BenchmarkDecodeMany decodes the iptables-nft recording with its rule
// dumps repeated to about 20,000 rules: the cost per rule of a large
// ruleset, apart from the fixed cost of a reading.
func BenchmarkDecodeMany(b *testing.B) {
	rec := fixture(b, "iptables-nft")
	var head, rules, tail []byte
	for p := rec[len(recordMagic):]; len(p) >= 5; {
		n := 5 + int(binary.BigEndian.Uint32(p[1:]))
		switch {
		case dumpKind(p[0]) == kindRules:
			rules = append(rules, p[:n]...)
		case rules == nil:
			head = append(head, p[:n]...)
		default:
			tail = append(tail, p[:n]...)
		}
		p = p[n:]
	}
	rs, err := Decode(bytes.NewReader(rec))
	if err != nil {
		b.Fatal(err)
	}
	times := 20000 / len(rs.Rules)
	want := times * len(rs.Rules)
	many := append([]byte(recordMagic), head...)
	many = append(many, bytes.Repeat(rules, times)...)
	many = append(many, tail...)
	b.SetBytes(int64(len(many)))
	b.ReportAllocs()
	for b.Loop() {
		rs, err := Decode(bytes.NewReader(many))
		if err != nil {
			b.Fatal(err)
		}
		if len(rs.Rules) != want {
			b.Fatalf("decoded %d rules, want %d", len(rs.Rules), want)
		}
	}
}
