package firewall

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"reflect"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/system"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// The routing tables read over rtnetlink give the same Routes as ip(8)'s
// listing of them, for routes of every kind the judgement looks at.
func TestNamespaceRoutesRtnetlinkMatchIP(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	ns := fmt.Sprintf("fwt-routes-%d", os.Getpid())
	ipCmd(t, "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	n := []string{"-n", ns}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		// veth pairs inside the namespace: dummy interfaces need a module
		// the machine may lack.
		{"link", "add", "d0", "type", "veth", "peer", "name", "p0"},
		{"link", "add", "d1", "type", "veth", "peer", "name", "p1"},
		{"link", "set", "p0", "up"},
		{"link", "set", "p1", "up"},
		{"link", "set", "d0", "up"},
		{"link", "set", "d1", "up"},
		{"addr", "add", "192.0.2.1/24", "dev", "d0"},
		{"addr", "add", "198.51.100.1/24", "dev", "d1"},
		{"addr", "add", "2001:db8::1/64", "dev", "d0", "nodad"},
		{"addr", "add", "2001:db8:9::1/64", "dev", "d1", "nodad"},
		{"route", "add", "default", "via", "192.0.2.254"},
		{"route", "add", "203.0.113.0/25", "via", "192.0.2.2"},
		{"route", "add", "203.0.113.128/26", "dev", "d1"},
		{"route", "add", "blackhole", "203.0.113.192/27"},
		{"route", "add", "unreachable", "203.0.113.224/28"},
		{"route", "add", "prohibit", "203.0.113.240/29"},
		{"route", "add", "throw", "203.0.113.248/30"},
		{"route", "add", "198.51.100.0/26", "nexthop", "via", "192.0.2.2", "nexthop", "via", "192.0.2.3"},
		{"route", "add", "198.51.100.128/25", "dev", "d0", "table", "100"},
		{"route", "add", "default", "dev", "d0", "table", "100"},
		{"route", "add", "local", "198.51.100.77", "dev", "d1", "table", "100"},
		{"route", "add", "blackhole", "192.0.2.128/25", "table", "100"},
		{"-6", "route", "add", "default", "via", "2001:db8::fe"},
		{"-6", "route", "add", "2001:db8:1::/48", "via", "2001:db8::2"},
		{"-6", "route", "add", "2001:db8:2::/48", "dev", "d1"},
		{"-6", "route", "add", "blackhole", "2001:db8:3::/48"},
		{"-6", "route", "add", "unreachable", "2001:db8:4::/48"},
		{"-6", "route", "add", "prohibit", "2001:db8:5::/48"},
		{"-6", "route", "add", "2001:db8:6::/48", "dev", "d0", "table", "200"},
		{"-6", "route", "add", "local", "2001:db8:7::7", "dev", "d1", "table", "200"},
	} {
		ipCmd(t, append(n, args...)...)
	}

	var text bytes.Buffer
	for _, fam := range []string{"-4", "-6"} {
		out, err := exec.Command("ip", "-n", ns, fam, "-j", "route", "show", "table", "all").Output()
		if err != nil {
			t.Fatalf("ip %s route show: %v", fam, err)
		}
		text.Write(out)
	}
	want, err := ParseRoutes(&text)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, links, err := routesIn(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	// The interfaces by index, as ip(8) lists them.
	out, err := exec.Command("ip", "-n", ns, "-j", "link", "show").Output()
	if err != nil {
		t.Fatalf("ip link show: %v", err)
	}
	var ipLinks []struct {
		Index  uint32 `json:"ifindex"`
		Ifname string `json:"ifname"`
	}
	if err := json.Unmarshal(out, &ipLinks); err != nil {
		t.Fatal(err)
	}
	wantLinks := system.Links{}
	for _, l := range ipLinks {
		wantLinks[l.Index] = l.Ifname
	}
	if len(wantLinks) != 5 || !reflect.DeepEqual(links, wantLinks) {
		t.Errorf("rtnetlink interfaces differ from ip's (5 expected):\n got %v\nwant %v", links, wantLinks)
	}
	got := RoutesFrom(list)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rtnetlink routes differ from ip's:\n got %+v\nwant %+v", *got, *want)
	}

	// The same answers, and the answers the routes above call for (so
	// that two empty readings cannot agree).
	type answer struct {
		local bool
		dev   string
		ok    bool
	}
	for a, exp := range map[string]answer{
		"192.0.2.1":      {true, "lo", true},
		"192.0.2.9":      {false, "d0", true},
		"192.0.2.200":    {false, "d0", true}, // table 100's blackhole is not main's
		"198.51.100.77":  {true, "lo", true},  // local, from table 100
		"198.51.100.9":   {false, "", true},   // multipath: no one device
		"198.51.100.200": {false, "d1", true},
		"203.0.113.5":    {false, "d0", true},
		"203.0.113.130":  {false, "d1", true},
		"203.0.113.200":  {false, "", false},
		"203.0.113.230":  {false, "", false},
		"203.0.113.244":  {false, "", false},
		"203.0.113.249":  {false, "d0", true}, // throw: the default route's
		"127.0.0.1":      {true, "lo", true},
		"2001:db8::1":    {true, "lo", true},
		"2001:db8::9":    {false, "d0", true},
		"2001:db8:1::9":  {false, "d0", true},
		"2001:db8:2::9":  {false, "d1", true},
		"2001:db8:3::9":  {false, "", false},
		"2001:db8:4::9":  {false, "", false},
		"2001:db8:5::9":  {false, "", false},
		"2001:db8:6::9":  {false, "d0", true}, // table 200 is not main: the default route's
		"2001:db8:7::7":  {true, "lo", true},
		"2001:db8:9::1":  {true, "lo", true},
		"::1":            {true, "lo", true},
	} {
		addr := netip.MustParseAddr(a)
		var g, w answer
		g.local, g.dev, g.ok = got.Route(addr)
		w.local, w.dev, w.ok = want.Route(addr)
		if g != w || g != exp {
			t.Errorf("%s: rtnetlink %+v, ip %+v, want %+v", a, g, w, exp)
		}
	}
}
