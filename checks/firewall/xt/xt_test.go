package xt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
)

// lay builds a structure as the kernel holds it: size bytes (padded to 8
// as nf_tables sends them), fields written at their C offsets on amd64
// (checked with offsetof against the uapi headers).
type lay []byte

func newLay(size int) lay { return make(lay, align(size)) }

func (l lay) u8(off int, v uint8) lay   { l[off] = v; return l }
func (l lay) u16(off int, v uint16) lay { binary.NativeEndian.PutUint16(l[off:], v); return l }
func (l lay) u32(off int, v uint32) lay { binary.NativeEndian.PutUint32(l[off:], v); return l }
func (l lay) u64(off int, v uint64) lay { binary.NativeEndian.PutUint64(l[off:], v); return l }
func (l lay) be16(off int, v uint16) lay {
	binary.BigEndian.PutUint16(l[off:], v)
	return l
}
func (l lay) str(off int, s string) lay { copy(l[off:], s); return l }
func (l lay) ip(off int, s string) lay {
	a := netip.MustParseAddr(s)
	copy(l[off:], a.AsSlice())
	return l
}

// render prints options as iptables-save does after "-m module".
func render(module string, opts []iptsave.Option) string {
	r := &iptsave.Rule{Chain: "X", Matches: []*iptsave.Match{{Module: module, Options: opts}}}
	return strings.TrimPrefix(iptsave.FormatRule(r), "-A X ")
}

func renderTarget(t Target) string {
	r := &iptsave.Rule{Chain: "X", Target: t.Name, TargetOptions: t.Options}
	return strings.TrimPrefix(iptsave.FormatRule(r), "-A X ")
}

func testSets(index uint16) (string, error) {
	switch index {
	case 0:
		return "trusted", nil
	case 3:
		return "bad", nil
	}
	return "", fmt.Errorf("no set with index %d", index)
}

// ctInfo3 builds an xt_conntrack_mtinfo3.
func ctInfo3() lay { return newLay(164) }

func TestMatches(t *testing.T) {
	d := &Decoder{SetName: testSets}
	tests := []struct {
		name string
		fam  Family
		mod  string
		rev  uint32
		info lay
		want string
	}{
		{"tcp dport", IPv4, "tcp", 0, newLay(12).u16(2, 0xffff).u16(4, 6379).u16(6, 6379), "-m tcp --dport 6379"},
		{"tcp sport range inverted, flags", IPv4, "tcp", 0,
			newLay(12).u16(0, 1000).u16(2, 2000).u16(4, 0).u16(6, 0xffff).u8(9, 0x17).u8(10, 0x02).u8(11, 0x01),
			"-m tcp ! --sport 1000:2000 --tcp-flags FIN,SYN,RST,ACK SYN"},
		{"tcp not flags", IPv6, "tcp", 0,
			newLay(12).u16(2, 0xffff).u16(6, 0xffff).u8(9, 0x3f).u8(10, 0).u8(11, 0x04),
			"-m tcp ! --tcp-flags FIN,SYN,RST,PSH,ACK,URG NONE"},
		{"udp dport", IPv4, "udp", 0, newLay(10).u16(2, 0xffff).u16(4, 53).u16(6, 53), "-m udp --dport 53"},
		{"multiport", IPv4, "multiport", 1,
			newLay(48).u8(0, 1).u8(1, 4).u16(2, 6379).u16(4, 16379).u16(6, 26379).u16(8, 26380).u8(32+2, 1),
			"-m multiport --dports 6379,16379,26379:26380"},
		{"multiport inverted sports", IPv4, "multiport", 1,
			newLay(48).u8(0, 0).u8(1, 1).u16(2, 22).u8(47, 1), "-m multiport ! --sports 22"},
		{"multiport either", IPv4, "multiport", 1,
			newLay(48).u8(0, 2).u8(1, 2).u16(2, 80).u16(4, 80).u8(32, 1), "-m multiport --ports 80:80"},
		{"conntrack ctstate", IPv4, "conntrack", 3,
			ctInfo3().u16(146, ctState).u16(150, 1<<1|1<<2), "-m conntrack --ctstate RELATED,ESTABLISHED"},
		{"conntrack state alias", IPv4, "conntrack", 3,
			ctInfo3().u16(146, ctState|ctAlias).u16(150, 1<<3), "-m state --state NEW"},
		{"conntrack rev1 invalid", IPv4, "conntrack", 1,
			newLay(152).u16(146, ctState).u16(148, ctState).u8(150, 1), "-m conntrack ! --ctstate INVALID"},
		{"conntrack rev2 dnat status", IPv4, "conntrack", 2,
			newLay(156).u16(146, ctState|ctStatus).u16(150, 1<<7).u16(152, 0), "-m conntrack --ctstate DNAT --ctstatus NONE"},
		{"conntrack orig dst and port", IPv4, "conntrack", 3,
			ctInfo3().u16(146, ctOrigDst|ctOrigDPort|ctProto).u16(136, 6).ip(32, "192.0.2.7").ip(48, "255.255.255.255").
				u16(140, 6379).u16(156, 6380),
			"-m conntrack --ctproto 6 --ctorigdst 192.0.2.7 --ctorigdstport 6379:6380"},
		{"conntrack v6 orig src prefix", IPv6, "conntrack", 3,
			ctInfo3().u16(146, ctOrigSrc|ctDirection).u16(148, ctOrigSrc).ip(0, "2001:db8::").ip(16, "ffff:ffff::"),
			"-m conntrack ! --ctorigsrc 2001:db8::/32 --ctdir ORIGINAL"},
		{"rpfilter", IPv4, "rpfilter", 0, newLay(8).u8(0, 1|8), "-m rpfilter --loose --invert"},
		{"rpfilter plain", IPv6, "rpfilter", 0, newLay(1), "-m rpfilter"},
		{"state", IPv4, "state", 0, newLay(4).u32(0, 1<<2|1<<1), "-m state --state RELATED,ESTABLISHED"},
		{"helper", IPv4, "helper", 0, newLay(34).str(4, "ftp"), "-m helper --helper ftp"},
		{"helper inverted", IPv6, "helper", 0, newLay(34).u32(0, 1).str(4, "sip"), "-m helper ! --helper sip"},
		{"comment", IPv4, "comment", 0, newLay(256).str(0, "allow redis"), `-m comment --comment "allow redis"`},
		{"addrtype", IPv4, "addrtype", 1, newLay(8).u16(2, 1<<2).u32(4, 2|4), "-m addrtype ! --dst-type LOCAL --limit-iface-in"},
		{"set rev1", IPv4, "set", 1, newLay(4).u16(0, 0).u8(2, 1).u8(3, 1<<1), "-m set --match-set trusted src"},
		{"set rev4 inverted two dims", IPv4, "set", 4,
			newLay(48).u16(0, 3).u8(2, 2).u8(3, 1|1<<1).u8(16, 0).u8(32, 0),
			"-m set ! --match-set bad src,dst"},
		{"set rev3 counters", IPv4, "set", 3,
			newLay(48).u16(0, 0).u8(2, 1).u8(3, 1<<1).u8(8, 4).u64(16, 10).u32(40, 1<<3),
			"-m set --match-set trusted src ! --update-counters --packets-gt 10"},
		{"iprange", IPv4, "iprange", 1,
			newLay(68).ip(0, "192.0.2.1").ip(16, "192.0.2.9").u8(64, 1|0x10), "-m iprange ! --src-range 192.0.2.1-192.0.2.9"},
		{"iprange v6 dst", IPv6, "iprange", 1,
			newLay(68).ip(32, "2001:db8::1").ip(48, "2001:db8::9").u8(64, 2), "-m iprange --dst-range 2001:db8::1-2001:db8::9"},
		{"mac", IPv4, "mac", 0, newLay(12).str(0, "\x02\x00\x00\xaa\xbb\xcc").u32(8, 1), "-m mac ! --mac-source 02:00:00:aa:bb:cc"},
		{"mark", IPv4, "mark", 1, newLay(12).u32(0, 1).u32(4, 0xff), "-m mark --mark 0x1/0xff"},
		{"mark full mask inverted", IPv4, "mark", 1, newLay(12).u32(0, 0x10).u32(4, 0xffffffff).u8(8, 1), "-m mark ! --mark 0x10"},
		{"limit", IPv4, "limit", 0, newLay(40).u32(0, 10000/5).u32(4, 5), "-m limit --limit 5/sec"},
		{"limit per minute burst", IPv4, "limit", 0, newLay(40).u32(0, 10000*60/3).u32(4, 10), "-m limit --limit 3/min --limit-burst 10"},
		{"hashlimit rev1 above", IPv4, "hashlimit", 1,
			newLay(56).str(0, "redis").u32(16, hlSIP|hlInvert).u32(20, 10000/4).u32(24, 5).u8(44, 32).u8(45, 32),
			"-m hashlimit --hashlimit-above 4/sec --hashlimit-burst 5 --hashlimit-mode srcip --hashlimit-name redis"},
		{"hashlimit rev3 upto", IPv4, "hashlimit", 3,
			newLay(312).str(0, "r").u64(256, 1000000/10).u64(264, 20).u32(272, hlSIP|hlDPT).u8(296, 24).u8(297, 32),
			"-m hashlimit --hashlimit-upto 10/sec --hashlimit-burst 20 --hashlimit-mode srcip,dstport --hashlimit-srcmask 24 --hashlimit-name r"},
		{"recent rev0 update", IPv4, "recent", 0,
			newLay(212).u32(0, 60).u32(4, 4).u8(8, 4).str(10, "ssh").u8(210, 0),
			"-m recent --update --seconds 60 --hitcount 4 --name ssh --rsource"},
		{"recent rev1 set", IPv4, "recent", 1,
			newLay(228).u8(8, 2).str(10, "DEFAULT").ip(212, "255.255.255.255"),
			"-m recent --set --name DEFAULT --mask 255.255.255.255 --rsource"},
		{"connlimit above", IPv4, "connlimit", 1,
			newLay(32).ip(0, "255.255.255.0").u32(16, 10).u32(20, 0),
			"-m connlimit --connlimit-above 10 --connlimit-mask 24 --connlimit-saddr"},
		{"connlimit upto v6", IPv6, "connlimit", 1,
			newLay(32).ip(0, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").u32(16, 3).u32(20, 1|2),
			"-m connlimit --connlimit-upto 3 --connlimit-mask 128 --connlimit-daddr"},
		{"time", IPv4, "time", 0,
			newLay(24).u32(4, 1<<31-1).u32(8, 8*3600).u32(12, 17*3600).u32(16, 0xfffffffe).u8(20, 0x3e),
			"-m time --timestart 08:00:00 --timestop 17:00:00 --weekdays Mon,Tue,Wed,Thu,Fri --datestop 2038-01-19T03:14:07"},
		{"owner", IPv4, "owner", 1, newLay(20).u32(0, 33).u32(4, 33).u8(16, 1).u8(17, 1), "-m owner ! --uid-owner 33"},
		{"icmp", IPv4, "icmp", 0, newLay(4).u8(0, 8).u8(1, 0).u8(2, 0xff), "-m icmp --icmp-type 8"},
		{"icmp6 with code", IPv6, "icmp6", 0, newLay(4).u8(0, 1).u8(1, 4).u8(2, 4), "-m icmp6 --icmpv6-type 1/4"},
		{"physdev", IPv4, "physdev", 0, newLay(66).str(0, "veth0").u8(64, 0).u8(65, 1|4), "-m physdev --physdev-in veth0 --physdev-is-bridged"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := d.Match(tc.fam, tc.mod, tc.rev, tc.info)
			if err != nil {
				t.Fatal(err)
			}
			if got := render(m.Module, m.Options); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			// The unpadded structure decodes the same.
			if m2, err := d.Match(tc.fam, tc.mod, tc.rev, tc.info[:matches[tc.mod][tc.rev].size]); err != nil || render(m2.Module, m2.Options) != tc.want {
				t.Errorf("unpadded: %v", err)
			}
		})
	}
}

func TestTargets(t *testing.T) {
	d := &Decoder{SetName: testSets}
	tests := []struct {
		name string
		fam  Family
		tg   string
		rev  uint32
		info lay
		want string
	}{
		{"reject v4", IPv4, "REJECT", 0, newLay(4).u32(0, 3), "-j REJECT --reject-with icmp-port-unreachable"},
		{"reject v4 reset", IPv4, "REJECT", 0, newLay(4).u32(0, 7), "-j REJECT --reject-with tcp-reset"},
		{"reject v6", IPv6, "REJECT", 0, newLay(4).u32(0, 4), "-j REJECT --reject-with icmp6-port-unreachable"},
		{"log", IPv4, "LOG", 0, newLay(32).u8(0, 6).u8(1, 0x01).str(2, "[UFW BLOCK] "),
			`-j LOG --log-prefix "[UFW BLOCK] " --log-level 6 --log-tcp-sequence`},
		{"dnat rev2", IPv4, "DNAT", 2, newLay(44).u32(0, natMapIPs|natProtoSpec).ip(4, "172.17.0.2").ip(20, "172.17.0.2").
			be16(36, 6379).be16(38, 6379), "-j DNAT --to-destination 172.17.0.2:6379"},
		{"dnat rev1 v6", IPv6, "DNAT", 1, newLay(40).u32(0, natMapIPs|natProtoSpec).ip(4, "2001:db8::2").ip(20, "2001:db8::2").
			be16(36, 6379).be16(38, 6379), `-j DNAT --to-destination "[2001:db8::2]:6379"`},
		{"dnat rev0 address only", IPv4, "DNAT", 0, newLay(20).u32(0, 1).u32(4, natMapIPs).ip(8, "10.0.0.5").ip(12, "10.0.0.5"),
			"-j DNAT --to-destination 10.0.0.5"},
		{"dnat range random", IPv4, "DNAT", 2, newLay(44).u32(0, natMapIPs|natRandom).ip(4, "10.0.0.5").ip(20, "10.0.0.9"),
			"-j DNAT --to-destination 10.0.0.5-10.0.0.9 --random"},
		{"redirect v4", IPv4, "REDIRECT", 0, newLay(20).u32(0, 1).u32(4, natProtoSpec).be16(16, 6380).be16(18, 6380),
			"-j REDIRECT --to-ports 6380"},
		{"redirect v6", IPv6, "REDIRECT", 0, newLay(40).u32(0, natProtoSpec).be16(36, 6380).be16(38, 6390),
			"-j REDIRECT --to-ports 6380-6390"},
		{"masquerade", IPv4, "MASQUERADE", 0, newLay(20).u32(0, 1).u32(4, natRandomFully), "-j MASQUERADE --random-fully"},
		{"set add", IPv4, "SET", 2, newLay(16).u16(0, 3).u8(2, 1).u8(3, 1<<1).u16(4, invalidSetID).u32(8, 1).u32(12, 600),
			"-j SET --add-set bad src --exist --timeout 600"},
		{"ct notrack", IPv4, "CT", 2, newLay(72).u16(0, 1), "-j CT --notrack"},
		{"ct helper zone", IPv4, "CT", 1, newLay(72).u16(2, 5).str(12, "ftp"), "-j CT --helper ftp --zone 5"},
		{"notrack alias", IPv4, "CT", 2, newLay(72).u16(0, 1|2), "-j NOTRACK"},
		{"notrack", IPv4, "NOTRACK", 0, lay{}, "-j NOTRACK"},
		{"mark", IPv4, "MARK", 2, newLay(8).u32(0, 0x10).u32(4, 0xffffffff), "-j MARK --set-xmark 0x10/0xffffffff"},
		{"connmark save", IPv4, "CONNMARK", 1, newLay(13).u32(4, 0xffffffff).u32(8, 0xffffffff).u8(12, 1),
			"-j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff"},
		{"connmark rev2 restore", IPv4, "CONNMARK", 2, newLay(15).u32(4, 0xff).u32(8, 0xff).u8(14, 2),
			"-j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xff"},
		{"nflog by name", IPv4, "NFLOG", 0, newLay(88), "-j NFLOG"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg, err := d.Target(tc.fam, tc.tg, tc.rev, tc.info)
			if err != nil {
				t.Fatal(err)
			}
			if got := renderTarget(tg); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestNotDecoded: anything not fitting is an error that names it, and the
// match handed back is one the compiler cannot take for understood.
func TestNotDecoded(t *testing.T) {
	d := &Decoder{}
	tests := []struct {
		name string
		mod  string
		rev  uint32
		info []byte
	}{
		{"unknown module", "u32", 0, make([]byte, 1984)},
		{"unknown revision", "conntrack", 4, make([]byte, 168)},
		{"short", "tcp", 0, make([]byte, 8)},
		{"long", "tcp", 0, make([]byte, 24)},
		{"bad invflags", "tcp", 0, newLay(12).u8(11, 0x40)},
		{"set without names", "set", 1, newLay(4).u8(2, 1)},
		{"unterminated comment", "comment", 0, []byte(strings.Repeat("x", 256))},
		{"multiport count", "multiport", 1, newLay(48).u8(1, 16)},
		{"helper invert", "helper", 0, newLay(34).u32(0, 2).str(4, "ftp")},
		{"helper unterminated", "helper", 0, newLay(34).str(4, strings.Repeat("x", 30))},
		{"conntrack unknown state bit", "conntrack", 3, ctInfo3().u16(146, ctState).u16(150, 1<<12)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := d.Match(IPv4, tc.mod, tc.rev, tc.info)
			var xe *Error
			if !errors.As(err, &xe) || !errors.Is(err, ErrNotDecoded) || xe.Name != tc.mod || xe.Rev != tc.rev {
				t.Fatalf("got %v", err)
			}
			if m == nil || m.Module != tc.mod || len(m.Options) != 1 || !m.Options[0].Guessed {
				t.Errorf("match handed back: %+v", m)
			}
		})
	}
	tg, err := d.Target(IPv4, "TPROXY", 1, make([]byte, 24))
	if !errors.Is(err, ErrNotDecoded) || len(tg.Options) != 1 || !tg.Options[0].Guessed {
		t.Errorf("TPROXY: %+v, %v", tg, err)
	}
	if _, err := d.Target(IPv4, "DNAT", 2, newLay(44).u32(0, natNetmap|natMapIPs)); !errors.Is(err, ErrNotDecoded) {
		t.Errorf("NETMAP flag: %v", err)
	}
	if _, err := d.Target(IPv4, "REJECT", 0, newLay(4).u32(0, 9)); !errors.Is(err, ErrNotDecoded) {
		t.Errorf("reject type 9: %v", err)
	}
}

// FuzzMatch: no blob makes a decoder panic or read past it.
func FuzzMatch(f *testing.F) {
	f.Add("conntrack", uint32(3), []byte(ctInfo3()))
	f.Add("tcp", uint32(0), []byte(newLay(12)))
	f.Add("set", uint32(4), []byte(newLay(48)))
	f.Fuzz(func(t *testing.T, name string, rev uint32, info []byte) {
		d := &Decoder{SetName: testSets}
		for _, fam := range []Family{IPv4, IPv6} {
			d.Match(fam, name, rev, info)
			d.Target(fam, name, rev, info)
		}
	})
}
