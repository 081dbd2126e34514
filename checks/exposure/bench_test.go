package exposure

import (
	"context"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/netns"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
)

// BenchmarkScanRefusedLoopback measures the engine itself: 762 attempts
// (127.0.0.0/24 without its ends, times three free ports), each answered by
// an immediate RST.
func BenchmarkScanRefusedLoopback(b *testing.B) {
	tg, _ := ParseTarget("127.0.0.0/24")
	ports := []int{redistest.FreePort(b), redistest.FreePort(b), redistest.FreePort(b)}
	s := Scanner{Ports: ports, Timeout: 2 * time.Second, Concurrency: DefaultConcurrency}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := s.Scan(context.Background(), []Target{tg})
		if n := countClass(r, Refused); n != 762 {
			b.Fatalf("%d refused of %d", n, len(r.Outcomes))
		}
	}
	b.ReportMetric(762, "attempts/op")
}

// BenchmarkScanBlackholed24 sweeps a black-holed /24 times three ports
// from inside a namespace with a 200ms timeout: one op should take about
// one timeout, not 762 of them.
func BenchmarkScanBlackholed24(b *testing.B) {
	tp := netns.New(b, netns.Spec{Hosts: []netns.HostSpec{{Name: "router", Router: true}, {Name: "client"}}})
	router, client := tp.Host("router"), tp.Host("client")
	router.MustExec(b, "ip", "route", "add", "203.0.113.0/24", "dev", "eth0")
	router.MustExec(b, "iptables", "-A", "FORWARD", "-d", "203.0.113.0/24", "-j", "DROP")
	tg, _ := ParseTarget("203.0.113.0/24")
	s := Scanner{Ports: []int{6379, 16379, 26379}, Timeout: 200 * time.Millisecond, Concurrency: DefaultConcurrency, Dial: client.DialContext}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := s.Scan(context.Background(), []Target{tg})
		if n := countClass(r, Filtered); n != 762 {
			b.Fatalf("%d filtered of %d", n, len(r.Outcomes))
		}
	}
}

func countClass(r Facts, c Class) int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Class == c {
			n++
		}
	}
	return n
}
