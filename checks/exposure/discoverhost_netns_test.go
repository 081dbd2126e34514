package exposure

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/netns"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
)

// TestDiscoverTriesTheSeedHostsPorts: from an untrusted segment the seed's
// data port is closed, so the walk reads nothing; a Sentinel open to the
// world on the same host is still an open Redis port, which the check
// without --discover finds through --ports. The kernel and the real
// Sentinel are the oracle: its PING is answered from the untrusted host.
func TestDiscoverTriesTheSeedHostsPorts(t *testing.T) {
	tp := netns.New(t, netns.Spec{Hosts: []netns.HostSpec{{Name: "redis"}, {Name: "untrusted"}}})
	srv, cli := tp.Host("redis"), tp.Host("untrusted")
	data := redistest.Start(t, redistest.Spec{Wrap: srv.Wrap(), ReadyAddr: "-", Config: []string{"bind 127.0.0.1"}})
	sentinel := redistest.Start(t, redistest.Spec{Wrap: srv.Wrap(), ReadyAddr: "-", Sentinel: true, Config: []string{"bind 0.0.0.0"}})
	host := srv.Addr4().String()
	seed := net.JoinHostPort(host, strconv.Itoa(data.Port))
	open := net.JoinHostPort(host, strconv.Itoa(sentinel.Port))

	ping := cli.Ping
	if r, err := ping(seed); err == nil {
		t.Fatalf("the seed's data port should be closed from the untrusted host: %q", r.Line)
	}
	if r, err := ping(open); err != nil || r.Class != resp.Pong {
		t.Fatalf("the Sentinel should answer the untrusted host: %q, %v", r.Line, err)
	}

	argv := append(cli.Wrap(), bintest.Build(t, Name), "--target", seed, "--discover", "--discover-scope", "192.0.2.0/24",
		"--ports", strconv.Itoa(data.Port)+","+strconv.Itoa(sentinel.Port), "--attempt-timeout", "500ms", "--timeout", "5s")
	r := bintest.Run(t, 10*time.Second, nil, argv...)
	if r.Stderr != "" {
		t.Errorf("stderr: %q", r.Stderr)
	}
	want := "CRITICAL: " + open + " open-unauthenticated"
	if r.Code != 2 || !strings.Contains(r.Stdout, want) || !strings.Contains(r.Stdout, "host, --ports]") {
		t.Fatalf("exit %d\n%s\nwant exit 2 and %q", r.Code, r.Stdout, want)
	}
	// The seed's own port is tried once, as the seed: two attempts.
	if !strings.Contains(r.Stdout, " attempts=2 ") {
		t.Errorf("want 2 attempts:\n%s", r.Stdout)
	}
}
