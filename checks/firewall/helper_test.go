package firewall

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// The namespace tests re-run this test binary inside a namespace as a
// helper: a listener on the Redis ports, or a client that dials. The
// helper is chosen by FWTEST_HELPER and never runs the tests.
func TestMain(m *testing.M) {
	switch os.Getenv("FWTEST_HELPER") {
	case "listen":
		os.Exit(helperListen(os.Getenv("FWTEST_PORTS")))
	case "dial":
		os.Exit(helperDial(os.Getenv("FWTEST_PROBES")))
	}
	code := m.Run()
	bintest.Cleanup()
	os.Exit(code)
}

// helperLifetime bounds a helper that its parent failed to stop.
const helperLifetime = 2 * time.Minute

// helperListen listens on every port (both families), accepts and closes
// connections, prints "ready" and lives until stdin closes.
func helperListen(ports string) int {
	for _, p := range strings.Split(ports, ",") {
		ln, err := net.Listen("tcp", net.JoinHostPort("", p))
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	fmt.Println("ready")
	done := make(chan struct{})
	go func() {
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(helperLifetime):
	}
	return 0
}

// probeTimeout is how long a dropped SYN is waited for.
const probeTimeout = 1500 * time.Millisecond

// helperDial dials every "src dst port" probe (one per line) at once and
// prints "src dst port accepted|refused|timeout|error".
func helperDial(probes string) int {
	lines := strings.Split(strings.TrimSpace(probes), "\n")
	out := make([]string, len(lines))
	var wg sync.WaitGroup
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) != 3 {
			fmt.Println("error: bad probe", l)
			return 1
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(f[0])}, Timeout: probeTimeout}
			ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
			defer cancel()
			c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(f[1], f[2]))
			var ne net.Error
			res := "accepted"
			switch {
			case err == nil:
				c.Close()
			case errors.Is(err, syscall.ECONNREFUSED):
				res = "refused"
			case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.EACCES):
				// An ICMP reject such as firewalld's admin-prohibited
				// (EACCES for ICMPv6).
				res = "unreachable"
			case errors.As(err, &ne) && ne.Timeout():
				res = "timeout"
			default:
				res = "error " + strings.ReplaceAll(err.Error(), " ", "_")
			}
			out[i] = fmt.Sprintf("%s %s %s %s", f[0], f[1], f[2], res)
		}()
	}
	wg.Wait()
	for _, o := range out {
		fmt.Println(o)
	}
	return 0
}

// fwdata is a path under the module's testdata/firewall.
func fwdata(t testing.TB, elem ...string) string {
	return testenv.Testdata(t, append([]string{"firewall"}, elem...)...)
}
