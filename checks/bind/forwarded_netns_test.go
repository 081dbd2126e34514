package bind

import (
	"context"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/netns"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
)

// relay is a TCP forwarder as socat or haproxy would be: it listens on the
// host's own address inside h's namespace and connects each client to
// 127.0.0.1:port there. It serves at most maxConns clients and stops, with
// every connection closed, when the test ends.
func relay(t *testing.T, h *netns.Host, port int) net.Listener {
	t.Helper()
	const maxConns = 32
	ln := h.Listen(t, "tcp", net.JoinHostPort(h.Addr4().String(), "0"))
	var mu sync.Mutex
	var open []net.Conn
	track := func(cs ...net.Conn) {
		mu.Lock()
		open = append(open, cs...)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < maxConns; i++ {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			out, err := h.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			cancel()
			if err != nil {
				in.Close()
				continue
			}
			track(in, out)
			wg.Add(2)
			pipe := func(dst, src net.Conn) {
				defer wg.Done()
				_, _ = io.Copy(dst, src)
				dst.Close()
				src.Close()
			}
			go pipe(out, in)
			go pipe(in, out)
		}
	}()
	return ln
}

// TestLoopbackReachedThroughForwarder: a server bound to 127.0.0.1 with a
// TCP forwarder in front of it on the host's address is reachable from the
// network, whatever its bind line says. The kernel is the oracle: the
// neighbour cannot reach the server's own port, and reaches it through the
// forwarder.
func TestLoopbackReachedThroughForwarder(t *testing.T) {
	tp := netns.New(t, netns.Spec{Hosts: []netns.HostSpec{{Name: "redis"}, {Name: "neighbour"}}})
	srv, nb := tp.Host("redis"), tp.Host("neighbour")
	s := redistest.Start(t, redistest.Spec{Wrap: srv.Wrap(), ReadyAddr: "-", Config: []string{"bind 127.0.0.1 -::1"}})
	fwd := relay(t, srv, s.Port).Addr().String()
	direct := net.JoinHostPort(srv.Addr4().String(), strconv.Itoa(s.Port))

	ping := nb.Ping
	if r, err := ping(direct); err == nil {
		t.Fatalf("the neighbour reached %s although the server binds loopback only: %q", direct, r.Line)
	}
	if r, err := ping(fwd); err != nil || r.Class != resp.Pong {
		t.Fatalf("the neighbour should reach the server through %s: %q, %v", fwd, r.Line, err)
	}

	bin := bintest.Build(t, Name)
	check := func(h *netns.Host, addr string) bintest.Result {
		host, port, _ := net.SplitHostPort(addr)
		argv := append(h.Wrap(), bin, "--host", host, "--port", port, "--timeout", "5s")
		r := bintest.Run(t, 10*time.Second, nil, argv...)
		if r.Stderr != "" {
			t.Fatalf("stderr: %q", r.Stderr)
		}
		return r
	}
	// On the host the running config's source names the file's line.
	want := regexp.MustCompile(`WARNING: the server was reached at ` + regexp.QuoteMeta(fwd) +
		` over the network, although running config( \([^)]*\))? binds only loopback \("127\.0\.0\.1 -::1"\): something forwards to it`)

	// From the neighbour: only the running config is judged.
	if r := check(nb, fwd); r.Code != 1 || !want.MatchString(r.Stdout) {
		t.Fatalf("from the neighbour through %s: exit %d\n%s\nwant exit 1 and %s", fwd, r.Code, r.Stdout, want)
	}
	// On the host itself: the socket table shows the forwarder's listener.
	r := check(srv, fwd)
	seen := "the kernel here shows the listener on " + fwd + ", which the bind list does not name"
	if r.Code != 1 || !want.MatchString(r.Stdout) || !strings.Contains(r.Stdout, seen) {
		t.Fatalf("on the host through %s: exit %d\n%s\nwant exit 1, %s and %q", fwd, r.Code, r.Stdout, want, seen)
	}
	// Through loopback on the host nothing is forwarded.
	if r := check(srv, net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))); r.Code != 0 || strings.Contains(r.Stdout, "over the network") {
		t.Fatalf("on the host at 127.0.0.1: exit %d\n%s", r.Code, r.Stdout)
	}
}
