package bind

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconf"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
	"github.com/sensu-community/sensu-redis-security-checks/checks/sockets"
)

func live(version, bind string) *Live {
	b := bind
	p := 6379
	return &Live{VersionRaw: version, Version: ParseVersion(version), Server: "redis", Bind: &b, Port: &p}
}

func listen(addrs ...string) []sockets.Listener {
	out := []sockets.Listener{}
	for _, a := range addrs {
		out = append(out, sockets.Listener{Addr: netip.MustParseAddrPort(a)})
	}
	return out
}

func conf(t *testing.T, text string) *redisconf.Config {
	t.Helper()
	c, err := redisconf.Parse(strings.NewReader(text), "redis.conf")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// --allow is an option, not a fact: the same facts judge differently.
func TestJudgeAllow(t *testing.T) {
	in := Facts{Target: "127.0.0.1:6379", TargetPort: 6379, Local: true,
		Live: live("7.0.15", "192.0.2.10"), Sockets: listen("192.0.2.10:6379")}
	if r := Judge(Options{}, in); r.State != result.OK {
		t.Fatalf("without --allow: state %v, want OK\n%s", r.State, dump(r))
	}
	o := Options{allow: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}
	r := Judge(o, in)
	if r.State != result.Critical || !strings.Contains(dump(r), "which --allow does not list") {
		t.Fatalf("outside --allow: state %v, want CRITICAL naming --allow\n%s", r.State, dump(r))
	}
	o.allow = append(o.allow, netip.MustParsePrefix("192.0.2.0/24"))
	if r := Judge(o, in); r.State != result.OK {
		t.Fatalf("inside --allow: state %v, want OK\n%s", r.State, dump(r))
	}
}

func TestJudge(t *testing.T) {
	base := func() Facts {
		return Facts{Target: "127.0.0.1:6379", TargetPort: 6379, Local: true}
	}
	cases := []struct {
		name    string
		mod     func(*Facts)
		want    result.State
		mention string
	}{
		{"loopback everywhere", func(in *Facts) {
			in.Live = live("7.0.15", "127.0.0.1 -::1")
			in.Sockets = listen("127.0.0.1:6379", "[::1]:6379")
		}, result.OK, "no Redis listener is bound to a wildcard address"},
		{"7.x default", func(in *Facts) {
			in.Live = live("7.0.15", "* -::*")
			in.Sockets = listen("0.0.0.0:6379", "[::]:6379")
		}, result.Critical, "running config binds *: every IPv4 interface"},
		{"6.x empty value means all", func(in *Facts) {
			in.Live = live("6.0.16", "")
			in.Sockets = listen("0.0.0.0:6379")
		}, result.Critical, "Redis 6 listens on all interfaces"},
		{"empty bind in a file, version unknown", func(in *Facts) {
			in.LiveErr = "cannot connect"
			in.File = conf(t, "bind \"\"\n")
			in.FilePath = "redis.conf"
			in.Sockets = listen()
		}, result.Critical, "the version is unknown"},
		{"config lies, kernel tells", func(in *Facts) {
			in.LiveErr = "the server requires a password; set $REDIS_PASSWORD"
			in.File = conf(t, "bind 127.0.0.1\n")
			in.FilePath = "redis.conf"
			in.Sockets = listen("0.0.0.0:6379")
		}, result.Critical, `config file redis.conf:1 says bind "127.0.0.1", but the kernel shows 0.0.0.0:6379`},
		{"no bind line in file, server down", func(in *Facts) {
			in.LiveErr = "cannot connect"
			in.File = conf(t, "port 6379\n")
			in.FilePath = "redis.conf"
			in.Sockets = listen()
		}, result.Critical, "no bind line"},
		{"specific address accepted without --allow", func(in *Facts) {
			in.Live = live("7.0.15", "192.0.2.10")
			in.Sockets = listen("192.0.2.10:6379")
		}, result.OK, ""},
		{"wildcard on the sentinel port", func(in *Facts) {
			in.Live = live("7.0.15", "127.0.0.1")
			in.Sockets = listen("127.0.0.1:6379", "0.0.0.0:26379")
		}, result.Critical, "kernel: listening on 0.0.0.0:26379"},
		{"wildcard on another service's port is not ours", func(in *Facts) {
			in.Live = live("7.0.15", "127.0.0.1")
			in.Sockets = listen("127.0.0.1:6379", "0.0.0.0:22")
		}, result.OK, ""},
		{"nothing readable", func(in *Facts) {
			in.LiveErr = "cannot connect"
			in.FileErr = "not given"
			in.SocketsErr = "open /proc/net/tcp: permission denied"
		}, result.Unknown, "no source could be read"},
		{"remote target without CONFIG", func(in *Facts) {
			in.Local = false
			in.Live = &Live{VersionRaw: "7.0.15", Version: ParseVersion("7.0.15"), ConfigErr: "CONFIG is renamed or disabled"}
		}, result.Unknown, "UNKNOWN: nothing verified: the running config could not be read: CONFIG is renamed or disabled; the socket table and config file of 127.0.0.1:6379 are not on this host"},
		{"7.2 listener lines stand in for CONFIG", func(in *Facts) {
			in.Local = false
			in.Live = &Live{VersionRaw: "7.2.4", Version: ParseVersion("7.2.4"), ConfigErr: "CONFIG is renamed or disabled",
				Listeners: []InfoListener{{Name: "tcp", Binds: []string{"*", "-::*"}, Port: 6379}}}
		}, result.Critical, "INFO listener tcp binds *"},
		{"file only: warning at least", func(in *Facts) {
			in.LiveErr = "cannot connect"
			in.File = conf(t, "bind 127.0.0.1\n")
			in.FilePath = "redis.conf"
			in.SocketsErr = "no /proc"
		}, result.Warning, "judged from the config file alone"},
		{"nothing listens, no config file", func(in *Facts) {
			in.LiveErr = "cannot connect to 127.0.0.1:6379: connection refused"
			in.FileErr = "not given (--config-file) and not reported by the server"
			in.Sockets = listen()
		}, result.Unknown, "UNKNOWN: nothing verified: server at 127.0.0.1:6379: cannot connect to 127.0.0.1:6379: connection refused; config file: not given (--config-file) and not reported by the server; and nothing listens on the Redis ports (6379, 16379, 26379)"},
		{"CONFIG renamed, server elsewhere, no file", func(in *Facts) {
			in.Live = &Live{VersionRaw: "7.0.15", Version: ParseVersion("7.0.15"), ConfigErr: "CONFIG is renamed or disabled"}
			in.FileErr = "the server was started without a config file"
			in.Sockets = listen()
		}, result.Unknown, "nothing verified: the running config could not be read"},
		{"CONFIG renamed, kernel sees loopback", func(in *Facts) {
			in.Live = &Live{VersionRaw: "7.0.15", Version: ParseVersion("7.0.15"), ConfigErr: "CONFIG is renamed or disabled"}
			in.FileErr = "the server was started without a config file"
			in.Sockets = listen("127.0.0.1:6379")
		}, result.OK, "OK: server  7.0.15 answered; its CONFIG could not be read"},
		{"server down, file read, nothing listens", func(in *Facts) {
			in.LiveErr = "cannot connect"
			in.File = conf(t, "bind 127.0.0.1\n")
			in.FilePath = "redis.conf"
			in.Sockets = listen()
		}, result.Warning, "Redis is not running"},
		{"server needs a password, kernel sees loopback", func(in *Facts) {
			in.LiveErr = "the server requires a password; set $REDIS_PASSWORD"
			in.FileErr = "not given (--config-file) and not reported by the server"
			in.Sockets = listen("127.0.0.1:6379")
		}, result.OK, "OK: server at 127.0.0.1:6379: the server requires a password"},
		{"server down, only Sentinel listens", func(in *Facts) {
			in.LiveErr = "cannot connect"
			in.File = conf(t, "bind 127.0.0.1\n")
			in.FilePath = "redis.conf"
			in.Sockets = listen("127.0.0.1:26379")
		}, result.Warning, "nothing listens on port 6379 here: the Redis server asked about is not running"},
		{"unreadable config file", func(in *Facts) {
			in.Live = live("7.0.15", "127.0.0.1")
			in.FilePath = "/etc/redis/redis.conf"
			in.FileErr = "/etc/redis/redis.conf is not readable by this user"
			in.Sockets = listen("127.0.0.1:6379")
		}, result.Unknown, "UNKNOWN: config file: /etc/redis/redis.conf is not readable"},
		{"socket table unreadable", func(in *Facts) {
			in.Live = live("7.0.15", "127.0.0.1")
			in.FileErr = "the server was started without a config file"
			in.SocketsErr = "permission denied"
		}, result.Warning, "what is bound was not verified by the kernel"},
		{"server elsewhere", func(in *Facts) {
			in.Live = live("7.0.15", "127.0.0.1")
			in.Sockets = listen()
		}, result.Warning, "the socket table does not describe it"},
		{"hostname that does not resolve", func(in *Facts) {
			in.Live = live("7.0.15", "redis.invalid")
			in.Sockets = listen("127.0.0.1:6379")
		}, result.Warning, "does not resolve"},
		{"hostile reply, loopback kernel", func(in *Facts) {
			in.LiveErr, in.LiveBroken = "127.0.0.1:6379 sent a reply the check refuses (bulk string of 500000000000 bytes)", true
			in.Sockets = listen("127.0.0.1:6379")
		}, result.Unknown, "500000000000"},
		{"CONFIG broken off, loopback kernel", func(in *Facts) {
			in.Live = live("7.0.15", "127.0.0.1")
			in.Live.Bind = nil
			in.Live.ConfigErr, in.Live.ConfigBroken = "gave no usable answer: unexpected EOF", true
			in.Sockets = listen("127.0.0.1:6379")
		}, result.Unknown, "unexpected EOF"},
		{"route_localnet opens loopback to eth0's network", func(in *Facts) {
			in.Live = live("7.0.15", "127.0.0.1")
			in.Sockets = listen("127.0.0.1:6379")
			in.Localnet = Localnet{Interfaces: []string{"eth0"}, Set: []string{"eth0"}}
		}, result.Warning, "WARNING: kernel: listening on 127.0.0.1:6379, loopback, but route_localnet is on for eth0: hosts on those networks reach it by routing 127.0.0.1 to this host, unless a firewall rule drops packets for 127.0.0.0/8 arriving there; set net.ipv4.conf.eth0.route_localnet=0"},
		{"route_localnet for all, mapped loopback listener", func(in *Facts) {
			in.Live = live("7.0.15", "127.0.0.1")
			in.Sockets = listen("[::ffff:127.0.0.1]:6379")
			in.Localnet = Localnet{All: true, Interfaces: []string{"docker0", "eth0"}, Set: []string{"docker0"}}
		}, result.Warning, "route_localnet is on for docker0, eth0 (net.ipv4.conf.all.route_localnet=1): hosts on those networks reach it by routing 127.0.0.1 to this host, unless a firewall rule drops packets for 127.0.0.0/8 arriving there; set net.ipv4.conf.all.route_localnet=0, net.ipv4.conf.docker0.route_localnet=0"},
		{"route_localnet does not reach ::1", func(in *Facts) {
			in.Live = live("7.0.15", "::1")
			in.Sockets = listen("[::1]:6379")
			in.Localnet = Localnet{All: true, Interfaces: []string{"eth0"}}
		}, result.OK, "OK: kernel: listening on [::1]:6379 (loopback)"},
		{"route_localnet unreadable", func(in *Facts) {
			in.Live = live("7.0.15", "127.0.0.1")
			in.Sockets = listen("127.0.0.1:6379")
			in.LocalnetErr = "open /proc/sys/net/ipv4/conf: permission denied"
		}, result.Warning, "whether other hosts can reach 127.0.0.0/8 here (net.ipv4.conf.*.route_localnet) could not be read: open /proc/sys/net/ipv4/conf: permission denied"},
		{"runtime change differs from file", func(in *Facts) {
			in.Live = live("7.0.15", "127.0.0.1")
			in.File = conf(t, "bind 127.0.0.1 -::1\n")
			in.FilePath = "redis.conf"
			in.Sockets = listen("127.0.0.1:6379")
		}, result.Warning, "a restart will change what is bound"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := base()
			c.mod(&in)
			r := Judge(Options{}, in)
			if r.State != c.want {
				t.Fatalf("state %v, want %v\n%s", r.State, c.want, dump(r))
			}
			if c.mention != "" && !strings.Contains(dump(r), c.mention) {
				t.Fatalf("output lacks %q:\n%s", c.mention, dump(r))
			}
		})
	}
}

func dump(r result.Result) string {
	var b strings.Builder
	result.Render(&b, Name, r)
	return b.String()
}

func TestEntries(t *testing.T) {
	for w, k := range map[string]Kind{"*": AllIPv4, "-::*": AllIPv6, "0.0.0.0": AllIPv4, "::": AllIPv6,
		"::ffff:0.0.0.0": AllIPv4, "127.0.0.2": Loopback, "-::1": Loopback, "192.0.2.1": Specific,
		"redis.example": Hostname, "[2001:db8::1]": Specific,
		// inet_aton's forms, which redis-server's getaddrinfo reads.
		"0": AllIPv4, "-0": AllIPv4, "00": AllIPv4, "0.0": AllIPv4, "0x0": AllIPv4, "0X00000000": AllIPv4,
		"127.1": Loopback, "0x7f.1": Loopback, "0177.0.0.1": Loopback, "2130706433": Loopback,
		"3221225985": Specific, "192.000.002.001": Specific,
		"0x": Hostname, "08": Hostname, "1.2.3.4.5": Hostname, "256.1": Hostname, "1.16777216": Hostname,
		"::%1": AllIPv6, "-::%2": AllIPv6, "::1%1": Loopback, "fe80::1%eth0": Specific,
		"4294967296": Hostname, "1..2": Hostname, "0.0.0.0.": Hostname, "+1": Hostname, "redis1": Hostname} {
		if got := ParseEntry(w).Kind; got != k {
			t.Errorf("ParseEntry(%q) = %v, want %v", w, got, k)
		}
	}
	for w, a := range map[string]string{"127.1": "127.0.0.1", "0177.0.0.1": "127.0.0.1", "3221225985": "192.0.2.1",
		"192.000.002.001": "192.0.2.1", "192.0.0x201": "192.0.2.1", "0xc0.0.2.0377": "192.0.2.255"} {
		if got := ParseEntry(w).Addr.String(); got != a {
			t.Errorf("ParseEntry(%q).Addr = %s, want %s", w, got, a)
		}
	}
	if !ParseEntry("-::*").Optional || ParseEntry("::*").Optional {
		t.Error("optional prefix")
	}
}

func TestVersionMeaningOfEmptyAndAbsent(t *testing.T) {
	if s := FromLive("", 6, "x"); !specHasWildcard(s) {
		t.Error("6.x empty live value must mean all interfaces")
	}
	if s := FromLive("", 7, "x"); specHasWildcard(s) || s.Entries[0].Kind != NoListen {
		t.Error("7.x empty live value must mean no listener")
	}
	if s := FromLive("", 0, "x"); !s.Uncertain || !specHasWildcard(s) {
		t.Error("unknown version: assume the worst and say so")
	}
	for _, major := range []int{0, 6, 7} {
		if s := FromFile(false, nil, major, "x"); !specHasWildcard(s) {
			t.Errorf("absent bind line on %d must mean all interfaces", major)
		}
	}
}
