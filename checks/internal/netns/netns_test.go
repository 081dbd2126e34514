package netns

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDocumentationRangesOnly(t *testing.T) {
	for p, want := range map[string]bool{
		"192.0.2.0/24": true, "198.51.100.128/25": true, "2001:db8:5::/64": true,
		"10.0.0.0/24": false, "192.0.0.0/16": false, "2001:db9::/64": false, "2001::/16": false,
	} {
		if got := documentation(netip.MustParsePrefix(p)); got != want {
			t.Errorf("documentation(%s) = %v, want %v", p, got, want)
		}
	}
	if _, err := normalise(Spec{Segments: []Segment{{Name: "x", V4: netip.MustParsePrefix("10.1.0.0/24")}}}); err == nil {
		t.Fatal("a non-documentation prefix was accepted")
	}
	if _, err := normalise(Spec{Hosts: []HostSpec{{Name: "a", On: []string{"nope"}}}}); err == nil {
		t.Fatal("an unknown segment was accepted")
	}
}

func TestAssignIDs(t *testing.T) {
	got := assignIDs([]HostSpec{{Name: "a"}, {Name: "r", Router: true}, {Name: "b", ID: 50}, {Name: "c"}}, "lan")
	want := []int{10, 1, 50, 11}
	for i, h := range got {
		if h.ID != want[i] || len(h.On) != 1 || h.On[0] != "lan" {
			t.Fatalf("host %s: id %d on %v; want %d on [lan]", h.Name, h.ID, h.On, want[i])
		}
	}
}

// TestRoutedTopology builds two segments joined by a router and checks
// addresses, forwarding, isolation of the namespaces from each other's
// sockets, and that everything is gone after cleanup.
func TestRoutedTopology(t *testing.T) {
	var names []string
	t.Run("build", func(t *testing.T) {
		tp := New(t, Spec{
			Segments: []Segment{{Name: "inside"}, {Name: "outside"}},
			Hosts: []HostSpec{
				{Name: "redis", On: []string{"inside"}},
				{Name: "router", On: []string{"inside", "outside"}, Router: true},
				{Name: "client", On: []string{"outside"}},
			},
		})
		redis, client := tp.Host("redis"), tp.Host("client")
		for _, h := range []*Host{redis, tp.Host("router"), client} {
			names = append(names, h.NS)
		}
		names = append(names, "t"+tp.Suffix+"-br-inside", "t"+tp.Suffix+"-br-outside")
		if redis.Addr4() != netip.MustParseAddr("192.0.2.10") || client.Addr6() != netip.MustParseAddr("2001:db8:2::b") ||
			tp.Host("router").Addr4On("outside") != netip.MustParseAddr("198.51.100.1") {
			t.Fatalf("addresses: redis %v, client %v, router %v", redis.Addr4(), client.Addr6(), tp.Host("router").Addr4On("outside"))
		}
		if out := redis.MustExec(t, "ip", "-o", "link", "show", "lo"); !strings.Contains(out, "UP") {
			t.Fatalf("lo not up: %s", out)
		}

		ln4 := redis.Listen(t, "tcp", net.JoinHostPort(redis.Addr4().String(), "7000"))
		ln6 := redis.Listen(t, "tcp", net.JoinHostPort(redis.Addr6().String(), "7000"))
		for _, ln := range []net.Listener{ln4, ln6} {
			go func(ln net.Listener) {
				for i := 0; i < 4; i++ { // bounded: the test makes two connections per listener
					c, err := ln.Accept()
					if err != nil {
						return
					}
					io.WriteString(c, "hello\n")
					c.Close()
				}
			}(ln)
		}
		// Through the router, over IPv4 and IPv6.
		for _, a := range []netip.Addr{redis.Addr4(), redis.Addr6()} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c, err := client.DialContext(ctx, "tcp", net.JoinHostPort(a.String(), "7000"))
			cancel()
			if err != nil {
				t.Fatalf("client -> %v: %v", a, err)
			}
			b, _ := io.ReadAll(c)
			c.Close()
			if string(b) != "hello\n" {
				t.Fatalf("client <- %v: %q", a, b)
			}
		}
		// A process started inside the namespace sees the same network.
		out := client.MustExec(t, "ip", "-o", "addr", "show", "dev", "eth0")
		if !strings.Contains(out, "198.51.100.11/24") {
			t.Fatalf("client eth0: %s", out)
		}
		// Do runs inside the namespace; the test's own thread is not in it.
		// (/proc/self is no witness: it shows the main thread, which the Go
		// runtime may have given to a Do and parked for good.)
		var st syscall.Stat_t
		if err := syscall.Stat("/run/netns/"+client.NS, &st); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("net:[%d]", st.Ino)
		var inside string
		if err := client.Do(func() (err error) { inside, err = os.Readlink("/proc/thread-self/ns/net"); return }); err != nil {
			t.Fatal(err)
		}
		runtime.LockOSThread()
		here, _ := os.Readlink("/proc/thread-self/ns/net")
		runtime.UnlockOSThread()
		if inside != want || here == want {
			t.Fatalf("namespace %s: inside Do %s, test thread %s", want, inside, here)
		}
		// A black-holing rule on the router makes a connection time out.
		tp.Host("router").MustExec(t, "iptables", "-A", "FORWARD", "-p", "tcp", "--dport", "7000", "-j", "DROP")
		ctx2, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel2()
		_, err := client.DialContext(ctx2, "tcp", net.JoinHostPort(redis.Addr4().String(), "7000"))
		if err == nil || !errors.Is(err, context.DeadlineExceeded) && !os.IsTimeout(err) {
			t.Fatalf("through DROP: %v, want a timeout", err)
		}
		tp.Host("router").MustExec(t, "iptables", "-F", "FORWARD")
		tp.Host("router").MustExec(t, "iptables", "-A", "FORWARD", "-p", "tcp", "--dport", "7000", "-j", "REJECT", "--reject-with", "tcp-reset")
		ctx3, cancel3 := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel3()
		_, err = client.DialContext(ctx3, "tcp", net.JoinHostPort(redis.Addr4().String(), "7000"))
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("through REJECT: %v, want ECONNREFUSED", err)
		}
		// A background process is killed at cleanup.
		client.Start(t, "sleep", "600")
	})
	if len(names) == 0 {
		return // skipped
	}
	out, err := os.ReadDir("/run/netns")
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range out {
		for _, n := range names {
			if e.Name() == n {
				t.Errorf("namespace %s left behind", n)
			}
		}
	}
}

// Do must leave no thread in the namespace: the main thread, if Do ran on
// it, would otherwise stay there, and /proc/net with it.
func TestDoLeavesNoThreadBehind(t *testing.T) {
	tp := New(t, Spec{Hosts: []HostSpec{{Name: "a"}}})
	before, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		var inside string
		if err := tp.Host("a").Do(func() (err error) {
			inside, err = os.Readlink("/proc/thread-self/ns/net")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if inside == before {
			t.Fatal("fn did not run in the namespace")
		}
		if now, _ := os.Readlink("/proc/self/ns/net"); now != before {
			t.Fatalf("after %d calls the main thread is in %s, was %s", i+1, now, before)
		}
	}
}
