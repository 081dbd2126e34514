package ipset

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/netns"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// ipsetNS is a namespace holding the sets restored from script.
func ipsetNS(t testing.TB, name, script string) *netns.Host {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "ipset")
	ns := fmt.Sprintf("fwt-ipset-%s-%d", name, os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() {
		// Sets die with their namespace; destroying them first frees them
		// at once.
		_ = exec.Command("ip", "netns", "exec", ns, "ipset", "destroy").Run()
		_ = exec.Command("ip", "netns", "del", ns).Run()
	})
	cmd := exec.Command("ip", "netns", "exec", ns, "ipset", "restore")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ipset restore: %v: %s", err, out)
	}
	return &netns.Host{Name: ns, NS: ns}
}

func readIn(t testing.TB, h *netns.Host) (*Dump, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var d *Dump
	err := h.Do(func() (err error) {
		d, err = Read(ctx, Limits{})
		return err
	})
	return d, err
}

func saveIn(t *testing.T, h *netns.Host) *Dump {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", h.NS, "ipset", "save").Output()
	if err != nil {
		t.Fatalf("ipset save: %v", err)
	}
	d, err := Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// withoutTimeLeft blanks the seconds left to elements with a timeout:
// they run down between two readings.
func withoutTimeLeft(d *Dump) {
	for _, s := range d.Sets {
		for i := range s.Entries {
			for j, o := range s.Entries[i].Options {
				if o.Name == "timeout" {
					s.Entries[i].Options[j].Value = ""
				}
			}
		}
	}
}

// The sets read over netlink are the sets ipset save lists, parsed.
func TestNamespaceNetlinkMatchesSave(t *testing.T) {
	h := ipsetNS(t, "diff", `create n4 hash:net family inet hashsize 1024 maxelem 65536 counters comment
add n4 192.0.2.0/24 comment "two words"
add n4 192.0.2.7
add n4 198.51.100.0/25 nomatch
add n4 203.0.113.0/30
create n6 hash:net family inet6 timeout 300
add n6 2001:db8::/48 timeout 200
add n6 2001:db8:1::1 nomatch timeout 100
create i4 hash:ip family inet netmask 24
add i4 203.0.113.5
add i4 198.51.100.9
create i6 hash:ip family inet6 hashsize 64 maxelem 100 forceadd
add i6 2001:db8::9
add i6 ::ffff:192.0.2.1
create b bitmap:ip range 192.0.2.0-192.0.2.255
add b 192.0.2.9
add b 192.0.2.200
create bn bitmap:ip range 198.51.100.0/24 netmask 28
add bn 198.51.100.16
create ip4 hash:ip,port family inet
add ip4 192.0.2.1,tcp:6379
add ip4 192.0.2.1,udp:53
add ip4 192.0.2.2,sctp:9
create np6 hash:net,port family inet6
add np6 2001:db8::/32,tcp:26379
add np6 2001:db8:2::/64,udplite:7 nomatch
create empty hash:net family inet
create l list:set size 4
add l n4
add l i4
`)
	got, err := readIn(t, h)
	if err != nil {
		t.Fatal(err)
	}
	want := saveIn(t, h)
	withoutTimeLeft(got)
	withoutTimeLeft(want)
	if len(got.Sets) != 10 {
		t.Errorf("%d sets read, want 10: %v", len(got.Sets), names(got))
	}
	if !reflect.DeepEqual(got, want) {
		for i := range max(len(got.Sets), len(want.Sets)) {
			var g, w *Set
			if i < len(got.Sets) {
				g = got.Sets[i]
			}
			if i < len(want.Sets) {
				w = want.Sets[i]
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("set %d:\nnetlink %+v\n   save %+v", i, g, w)
			}
		}
	}
}

// A set the decoder does not write as ipset save would is refused, by
// name and type, for the caller to run ipset save.
func TestNamespaceNetlinkUnknownType(t *testing.T) {
	h := ipsetNS(t, "unknown", "create m hash:net,iface family inet\nadd m 192.0.2.0/24,eth0\n")
	_, err := readIn(t, h)
	if !errors.Is(err, ErrNotDecoded) || !strings.Contains(err.Error(), "set m of type hash:net,iface") {
		t.Errorf("error %v, want ErrNotDecoded naming the set and its type", err)
	}
}

// An empty namespace has no sets.
func TestNamespaceNetlinkEmpty(t *testing.T) {
	h := ipsetNS(t, "empty", "")
	d, err := readIn(t, h)
	if err != nil || len(d.Sets) != 0 {
		t.Errorf("sets %+v, error %v", d, err)
	}
}

func names(d *Dump) []string {
	var out []string
	for _, s := range d.Sets {
		out = append(out, s.Name)
	}
	return out
}

// bigScript is 50 sets of 2,000 elements each, half hash:net, half
// hash:ip,port.
func bigScript() string {
	var b strings.Builder
	for s := range 50 {
		typ := "hash:net"
		if s%2 == 0 {
			typ = "hash:ip,port"
		}
		fmt.Fprintf(&b, "create s%d %s family inet hashsize 4096 maxelem 1000000\n", s, typ)
		for i := range 2000 {
			if typ == "hash:net" {
				fmt.Fprintf(&b, "add s%d 10.%d.%d.%d/32\n", s, s, i/256, i%256)
			} else {
				fmt.Fprintf(&b, "add s%d 10.%d.%d.%d,tcp:%d\n", s, s, i/256, i%256, 6379+i%3)
			}
		}
	}
	return b.String()
}

// The reading of 100,000 elements over netlink against ipset save and
// Parse, each in the namespace (ipset save through nsenter, which only
// switches the network namespace).
func BenchmarkNamespace100k(b *testing.B) {
	h := ipsetNS(b, "bench", bigScript())
	b.Run("netlink", func(b *testing.B) {
		for range b.N {
			err := h.Do(func() error {
				d, err := Read(context.Background(), Limits{})
				if err == nil && len(d.Sets) != 50 {
					err = fmt.Errorf("%d sets", len(d.Sets))
				}
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("save", func(b *testing.B) {
		for range b.N {
			out, err := exec.Command("nsenter", "--net=/run/netns/"+h.NS, "ipset", "save").Output()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Parse(bytes.NewReader(out)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
