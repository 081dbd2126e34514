package system

import (
	endian "encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// nlMsg builds one netlink message.
func nlMsg(typ, flags uint16, seq uint32, body []byte) []byte {
	b := make([]byte, nlmsgHeader, nlmsgHeader+len(body)+3)
	endian.NativeEndian.PutUint32(b[0:], uint32(nlmsgHeader+len(body)))
	endian.NativeEndian.PutUint16(b[4:], typ)
	endian.NativeEndian.PutUint16(b[6:], flags)
	endian.NativeEndian.PutUint32(b[8:], seq)
	b = append(b, body...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func attr(typ uint16, v []byte) []byte {
	b := make([]byte, 4, 4+len(v)+3)
	endian.NativeEndian.PutUint16(b[0:], uint16(4+len(v)))
	endian.NativeEndian.PutUint16(b[2:], typ)
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func u32(v uint32) []byte { return endian.NativeEndian.AppendUint32(nil, v) }

// routeMsg is an RTM_NEWROUTE body: rtmsg then attributes.
func routeMsg(fam, dstLen, table, typ uint8, attrs ...[]byte) []byte {
	b := []byte{fam, dstLen, 0, 0, table, 0, 0, typ, 0, 0, 0, 0}
	for _, a := range attrs {
		b = append(b, a...)
	}
	return b
}

func linkMsg(idx int32, name string) []byte {
	b := make([]byte, ifinfomsgLen)
	endian.NativeEndian.PutUint32(b[4:], uint32(idx))
	return append(b, attr(unix.IFLA_IFNAME, append([]byte(name), 0))...)
}

func errMsg(errno syscall.Errno) []byte { return u32(uint32(-int32(errno))) }

func TestRTDecoderRoutes(t *testing.T) {
	d := newRTDecoder(RouteLimits{})
	d.seq, d.req = 7, "routes"
	dg := append(nlMsg(unix.RTM_NEWROUTE, unix.NLM_F_MULTI, 7, routeMsg(unix.AF_INET, 24, 254, unix.RTN_UNICAST,
		attr(unix.RTA_DST, []byte{192, 0, 2, 0}), attr(unix.RTA_OIF, u32(3)), attr(unix.RTA_TABLE, u32(254)))),
		nlMsg(unix.RTM_NEWROUTE, unix.NLM_F_MULTI, 7, routeMsg(unix.AF_INET6, 0, 252, unix.RTN_UNICAST,
			attr(unix.RTA_GATEWAY, netip.MustParseAddr("2001:db8::fe").AsSlice()), attr(unix.RTA_TABLE, u32(1000)),
			attr(unix.RTA_OIF, u32(9))))...)
	// A cache entry is not a route.
	cloned := routeMsg(unix.AF_INET, 32, 254, unix.RTN_UNICAST, attr(unix.RTA_DST, []byte{203, 0, 113, 1}))
	endian.NativeEndian.PutUint32(cloned[8:], unix.RTM_F_CLONED)
	dg = append(dg, nlMsg(unix.RTM_NEWROUTE, unix.NLM_F_MULTI, 7, cloned)...)
	if done, err := d.datagram(dg, unix.RTM_NEWROUTE); err != nil || done {
		t.Fatalf("done %v, err %v", done, err)
	}
	if done, err := d.datagram(nlMsg(unix.NLMSG_DONE, unix.NLM_F_MULTI, 7, u32(0)), unix.RTM_NEWROUTE); err != nil || !done {
		t.Fatalf("done %v, err %v", done, err)
	}
	d.seq, d.req = 8, "interfaces"
	if _, err := d.datagram(nlMsg(unix.RTM_NEWLINK, unix.NLM_F_MULTI, 8, linkMsg(3, "eth0")), unix.RTM_NEWLINK); err != nil {
		t.Fatal(err)
	}
	got := d.result()
	want := []Route{
		{Type: "unicast", Table: 254, Dst: netip.MustParsePrefix("192.0.2.0/24"), Dev: "eth0"},
		{Type: "unicast", Table: 1000, Dst: netip.MustParsePrefix("::/0"), Dev: "if9",
			Gateway: netip.MustParseAddr("2001:db8::fe")},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("route %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestRTDecoderMalformed(t *testing.T) {
	route := func(attrs ...[]byte) []byte {
		return nlMsg(unix.RTM_NEWROUTE, unix.NLM_F_MULTI, 1, routeMsg(unix.AF_INET, 24, 254, unix.RTN_UNICAST, attrs...))
	}
	dst := attr(unix.RTA_DST, []byte{192, 0, 2, 0})
	overrun := append([]byte(nil), dst...)
	endian.NativeEndian.PutUint16(overrun[0:], 64) // longer than what follows
	whole := route(dst)
	for _, c := range []struct {
		name, want string
		dg         []byte
	}{
		{"truncated header", "shorter than a message header", whole[:10]},
		{"message longer than the datagram", "message length", whole[:len(whole)-4]},
		{"attribute overrun", "attribute 1 of length 64", route(overrun)},
		{"attribute header cut", "shorter than an attribute header", route(dst[:2])},
		{"address of the wrong size", "destination of 16 bytes", route(attr(unix.RTA_DST, make([]byte, 16)))},
		{"interface index cut", "interface index of 2 bytes", route(attr(unix.RTA_OIF, []byte{1, 0}))},
		{"wrong sequence", "answer to request 2 while waiting for 1",
			nlMsg(unix.RTM_NEWROUTE, unix.NLM_F_MULTI, 2, routeMsg(unix.AF_INET, 24, 254, unix.RTN_UNICAST, dst))},
		{"unexpected type", "unexpected message type 16", nlMsg(unix.RTM_NEWLINK, unix.NLM_F_MULTI, 1, linkMsg(1, "lo"))},
		{"error", "operation not permitted", nlMsg(unix.NLMSG_ERROR, 0, 1, errMsg(unix.EPERM))},
		{"truncated error", "truncated error message", nlMsg(unix.NLMSG_ERROR, 0, 1, []byte{1, 2})},
		{"dump's own error", "invalid argument", nlMsg(unix.NLMSG_DONE, unix.NLM_F_MULTI, 1, errMsg(unix.EINVAL))},
		{"short rtmsg", "route message of 4 bytes", nlMsg(unix.RTM_NEWROUTE, unix.NLM_F_MULTI, 1, []byte{2, 24, 0, 0})},
		{"prefix too long", "prefix length 33",
			nlMsg(unix.RTM_NEWROUTE, unix.NLM_F_MULTI, 1, routeMsg(unix.AF_INET, 33, 254, unix.RTN_UNICAST))},
		{"other family", "address family 7",
			nlMsg(unix.RTM_NEWROUTE, unix.NLM_F_MULTI, 1, routeMsg(7, 0, 254, unix.RTN_UNICAST))},
	} {
		d := newRTDecoder(RouteLimits{})
		d.seq, d.req = 1, "routes"
		_, err := d.datagram(c.dg, unix.RTM_NEWROUTE)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}

	var ne *NetlinkError
	d := newRTDecoder(RouteLimits{})
	d.seq = 1
	if _, err := d.datagram(nlMsg(unix.NLMSG_ERROR, 0, 1, errMsg(unix.EPERM)), unix.RTM_NEWROUTE); !errors.As(err, &ne) || ne.Errno != unix.EPERM {
		t.Errorf("error message: %v, want a NetlinkError with EPERM", err)
	}
}

func TestRTDecoderLimitsAndInterrupt(t *testing.T) {
	d := newRTDecoder(RouteLimits{MaxRoutes: 1, MaxLinks: 1})
	d.seq, d.req = 1, "routes"
	r := nlMsg(unix.RTM_NEWROUTE, unix.NLM_F_MULTI|unix.NLM_F_DUMP_INTR, 1, routeMsg(unix.AF_INET, 0, 254, unix.RTN_UNICAST))
	if _, err := d.datagram(r, unix.RTM_NEWROUTE); err != nil {
		t.Fatal(err)
	}
	if !d.intr {
		t.Error("an interrupted dump is not noticed")
	}
	if _, err := d.datagram(r, unix.RTM_NEWROUTE); err == nil || !strings.Contains(err.Error(), "more than 1 routes") {
		t.Errorf("route cap: %v", err)
	}
	l := nlMsg(unix.RTM_NEWLINK, unix.NLM_F_MULTI, 1, linkMsg(1, "lo"))
	if _, err := d.datagram(append(l, l...), unix.RTM_NEWLINK); err == nil || !strings.Contains(err.Error(), "more than 1 interfaces") {
		t.Errorf("interface cap: %v", err)
	}
}

// FuzzRTDecoder feeds arbitrary datagrams to the decoder: it must answer
// with routes or an error, within its caps, never panic.
func FuzzRTDecoder(f *testing.F) {
	f.Add(nlMsg(unix.RTM_NEWROUTE, unix.NLM_F_MULTI, 1, routeMsg(unix.AF_INET, 24, 254, unix.RTN_UNICAST,
		attr(unix.RTA_DST, []byte{192, 0, 2, 0}), attr(unix.RTA_OIF, u32(1)))), uint16(unix.RTM_NEWROUTE))
	f.Add(nlMsg(unix.RTM_NEWROUTE, unix.NLM_F_MULTI, 1, routeMsg(unix.AF_INET6, 48, 254, unix.RTN_BLACKHOLE,
		attr(unix.RTA_DST, netip.MustParseAddr("2001:db8:1::").AsSlice()), attr(unix.RTA_MULTIPATH, nil))), uint16(unix.RTM_NEWROUTE))
	f.Add(nlMsg(unix.RTM_NEWLINK, unix.NLM_F_MULTI, 1, linkMsg(2, "eth0")), uint16(unix.RTM_NEWLINK))
	f.Add(nlMsg(unix.NLMSG_DONE, unix.NLM_F_MULTI, 1, u32(0)), uint16(unix.RTM_NEWROUTE))
	f.Add(nlMsg(unix.NLMSG_ERROR, 0, 1, errMsg(unix.ENOBUFS)), uint16(unix.RTM_NEWLINK))
	f.Add([]byte{20, 0, 0, 0, 24, 0}, uint16(unix.RTM_NEWROUTE))
	f.Fuzz(func(t *testing.T, dg []byte, want uint16) {
		if want != unix.RTM_NEWLINK {
			want = unix.RTM_NEWROUTE
		}
		d := newRTDecoder(RouteLimits{MaxRoutes: 8, MaxLinks: 8})
		d.seq, d.req = 1, "fuzz"
		_, err := d.datagram(dg, want)
		if len(d.routes) > 8 || len(d.links) > 8 {
			t.Fatalf("caps exceeded: %d routes, %d interfaces", len(d.routes), len(d.links))
		}
		if err != nil {
			return
		}
		for _, r := range d.result() {
			if !r.Dst.IsValid() || r.Dst != r.Dst.Masked() {
				t.Fatalf("route with destination %v", r.Dst)
			}
		}
	})
}
