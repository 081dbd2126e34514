package bind

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// A server that binds only loopback answering at a network address is
// reached through something that forwards to it.
func TestJudgeForwarded(t *testing.T) {
	const warn = "over the network, although"
	reached := func(peer, bind string) *Live {
		l := live("7.2.4", bind)
		if peer != "" {
			l.Peer = netip.MustParseAddrPort(peer)
		}
		return l
	}
	cases := []struct {
		name    string
		in      Facts
		want    result.State
		mention string
	}{
		{"remote forwarder in front of loopback", Facts{Target: "192.0.2.10:7000", TargetPort: 7000,
			Live: reached("192.0.2.10:7000", "127.0.0.1 -::1")},
			result.Warning, `WARNING: the server was reached at 192.0.2.10:7000 over the network, although running config binds only loopback ("127.0.0.1 -::1"): something forwards to it`},
		{"IPv6 peer", Facts{Target: "[2001:db8::10]:6379", TargetPort: 6379,
			Live: reached("[2001:db8::10]:6379", "127.0.0.1")},
			result.Warning, "ss -tlnp for port 6379"},
		{"no TCP listener, reached over TCP", Facts{Target: "192.0.2.10:6379", TargetPort: 6379,
			Live: reached("192.0.2.10:6379", "")},
			result.Warning, "although running config opens no TCP listener"},
		{"name resolving to loopback only", Facts{Target: "192.0.2.10:6379", TargetPort: 6379,
			Live: reached("192.0.2.10:6379", "localhost"), Resolved: map[string][]netip.Addr{"localhost": {netip.MustParseAddr("127.0.0.1")}}},
			result.Warning, warn},
		{"local, the kernel shows the forwarder", Facts{Target: "192.0.2.10:7000", TargetPort: 7000, Local: true,
			Live: reached("192.0.2.10:7000", "127.0.0.1"), Sockets: listen("127.0.0.1:6379", "192.0.2.10:7000")},
			result.Warning, "the kernel here shows the listener on 192.0.2.10:7000, which the bind list does not name"},
		{"file only (CONFIG unreadable) also counts", Facts{Target: "192.0.2.10:6379", TargetPort: 6379,
			Live: &Live{VersionRaw: "7.2.4", Version: ParseVersion("7.2.4"), ConfigErr: "CONFIG is renamed or disabled",
				Peer: netip.MustParseAddrPort("192.0.2.10:6379")},
			File: conf(t, "bind 127.0.0.1\n"), FilePath: "redis.conf"},
			result.Warning, `config file redis.conf:1 binds only loopback`},

		// Loopback in every spelling is no forwarding.
		{"127.0.0.1", Facts{Target: "127.0.0.1:6379", TargetPort: 6379, Live: reached("127.0.0.1:6379", "127.0.0.1")}, result.OK, ""},
		{"127.0.0.0/8", Facts{Target: "127.3.4.5:6379", TargetPort: 6379, Live: reached("127.3.4.5:6379", "127.0.0.1")}, result.OK, ""},
		{"::1", Facts{Target: "[::1]:6379", TargetPort: 6379, Live: reached("[::1]:6379", "127.0.0.1 ::1")}, result.OK, ""},
		{"IPv4-mapped loopback", Facts{Target: "[::ffff:127.0.0.1]:6379", TargetPort: 6379, Live: reached("[::ffff:127.0.0.1]:6379", "127.0.0.1")}, result.OK, ""},
		{"UNIX socket", Facts{Target: "/run/redis.sock", Live: reached("", "127.0.0.1")}, result.OK, ""},
		// The server binds the address itself: nothing forwards.
		{"bound to the address reached", Facts{Target: "192.0.2.10:6379", TargetPort: 6379,
			Live: reached("192.0.2.10:6379", "127.0.0.1 192.0.2.10")}, result.OK, ""},
		// A wildcard listener on that port is CRITICAL already.
		{"kernel wildcard the config does not describe", Facts{Target: "192.0.2.10:6379", TargetPort: 6379, Local: true,
			Live: reached("192.0.2.10:6379", "127.0.0.1"), Sockets: listen("0.0.0.0:6379")},
			result.Critical, "the configuration does not describe what is bound"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Judge(Options{}, c.in)
			out := dump(r)
			if r.State != c.want || !strings.Contains(out, c.mention) {
				t.Fatalf("state %v, want %v mentioning %q\n%s", r.State, c.want, c.mention, out)

			}
			forwarded := strings.Contains(out, warn)
			if wantWarn := c.want == result.Warning; forwarded != wantWarn {
				t.Fatalf("forwarding finding present=%v, want %v\n%s", forwarded, wantWarn, out)
			}
		})
	}
}
