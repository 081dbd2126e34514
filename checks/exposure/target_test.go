package exposure

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		in           string
		host, prefix string
		port         int
	}{
		{"redis.example", "redis.example", "", 0},
		{"redis.example:6380", "redis.example", "", 6380},
		{"192.0.2.7", "", "192.0.2.7/32", 0},
		{"192.0.2.7:26379", "", "192.0.2.7/32", 26379},
		{"2001:db8::7", "", "2001:db8::7/128", 0},
		{"[2001:db8::7]", "", "2001:db8::7/128", 0},
		{"[2001:db8::7]:6379", "", "2001:db8::7/128", 6379},
		{"198.51.100.9/24", "", "198.51.100.0/24", 0},
		{"2001:db8::/120", "", "2001:db8::/120", 0},
		{"::ffff:192.0.2.1", "", "192.0.2.1/32", 0},
	} {
		got, err := ParseTarget(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		p := ""
		if got.Prefix.IsValid() {
			p = got.Prefix.String()
		}
		if got.Host != tc.host || p != tc.prefix || got.Port != tc.port {
			t.Errorf("%s: host %q prefix %q port %d; want %q %q %d", tc.in, got.Host, p, got.Port, tc.host, tc.prefix, tc.port)
		}
	}
}

func TestParseTargetRejects(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "empty",
		"host:0":                "not in 1-65535",
		"host:65536":            "not in 1-65535",
		"host:http":             "not in 1-65535",
		"192.0.2.0/33":          "not a CIDR block",
		"192.0.2.1:6379/24":     "not a CIDR block",
		"[2001:db8::1":          "want [IPv6]:PORT",
		"[redis.example]:1":     "not an IPv6 address",
		"2001:db8::zz":          "not an IPv6 address",
		"0.0.0.0":               "unspecified",
		"[::]:6379":             "unspecified",
		"224.0.0.1":             "multicast",
		"255.255.255.255":       "broadcast",
		"bad_host!":             "not a host name",
		"http://redis:6379":     "not a CIDR block",
		"-leading.dash":         "not a host name",
		"a..b":                  "not a host name",
		strings.Repeat("a", 64): "not a host name",
	} {
		_, err := ParseTarget(in)
		if !errors.Is(err, ErrBadTarget) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want ErrBadTarget mentioning %q", in, err, want)
		}
	}
}

func TestParsePorts(t *testing.T) {
	got, err := ParsePorts(" 6379, 16379,6379,26379,")
	if err != nil || len(got) != 3 || got[0] != 6379 || got[2] != 26379 {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{"", ",", "6379,x", "70000", "0"} {
		if _, err := ParsePorts(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestAddressesSkipIPv4NetworkAndBroadcast(t *testing.T) {
	count := func(s string) (int, netip.Addr, netip.Addr) {
		tg, err := ParseTarget(s)
		if err != nil {
			t.Fatal(err)
		}
		a := tg.Addresses()
		return len(a), a[0], a[len(a)-1]
	}
	for s, want := range map[string][3]string{
		"192.0.2.0/24":    {"254", "192.0.2.1", "192.0.2.254"},
		"192.0.2.8/30":    {"2", "192.0.2.9", "192.0.2.10"},
		"192.0.2.8/31":    {"2", "192.0.2.8", "192.0.2.9"},
		"192.0.2.8/32":    {"1", "192.0.2.8", "192.0.2.8"},
		"2001:db8::/126":  {"4", "2001:db8::", "2001:db8::3"},
		"2001:db8::5/128": {"1", "2001:db8::5", "2001:db8::5"},
	} {
		n, first, last := count(s)
		if itoa(n) != want[0] || first.String() != want[1] || last.String() != want[2] {
			t.Errorf("%s: %d addresses %v..%v; want %v", s, n, first, last, want)
		}
	}
}

func itoa(n int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

func TestAttemptCount(t *testing.T) {
	parse := func(ss ...string) []Target {
		var out []Target
		for _, s := range ss {
			tg, err := ParseTarget(s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, tg)
		}
		return out
	}
	ports := []int{6379, 16379, 26379}
	for _, tc := range []struct {
		targets []string
		want    uint64
	}{
		{[]string{"192.0.2.0/24"}, 762},
		{[]string{"192.0.2.0/24", "redis.example", "192.0.2.1:6379"}, 766},
		{[]string{"192.0.2.0/22"}, 3066},
		{[]string{"10.0.0.0/16"}, MaxAttempts + 1},
		{[]string{"10.0.0.0/8"}, MaxAttempts + 1},
		{[]string{"2001:db8::/64"}, MaxAttempts + 1},
		{[]string{"192.0.2.0/22", "198.51.100.0/22"}, MaxAttempts + 1},
	} {
		if got := AttemptCount(parse(tc.targets...), ports); got != tc.want {
			t.Errorf("%v: %d, want %d", tc.targets, got, tc.want)
		}
	}
}

func TestEffectiveConcurrency(t *testing.T) {
	for _, tc := range []struct {
		asked, attempts int
		nofile          uint64
		want            int
	}{
		{1024, 762, 20000, 762},
		{1024, 3000, 20000, 1024},
		{9999, 9999, 0, MaxConcurrency},
		{1024, 762, 256, 192},
		{1024, 762, 10, 1},
		{0, 5, 0, 1},
	} {
		if got := EffectiveConcurrency(tc.asked, tc.attempts, tc.nofile); got != tc.want {
			t.Errorf("%+v: %d, want %d", tc, got, tc.want)
		}
	}
}
