package tlscheck

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	. "github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// hostilePeer accepts connections, reads the first bytes of each and
// answers with respond. It is stopped by the test's cleanup.
func hostilePeer(t *testing.T, respond func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				go func() { <-stop; c.Close() }()
				var hdr [5]byte
				if _, err := io.ReadFull(c, hdr[:]); err != nil {
					return
				}
				respond(c)
			}()
		}
	}()
	t.Cleanup(func() { close(stop); ln.Close(); <-done })
	return ln.Addr().String()
}

func TestProbesAgainstHostilePeers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		respond func(c net.Conn)
		why     string
	}{
		{"garbage", func(c net.Conn) { _, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")) }, "the answer is not TLS"},
		{"unexpected alert", func(c net.Conn) { _, _ = c.Write(record(recordAlert, []byte{2, 10})) }, "alert unexpected_message (10)"},
		{"warning alert", func(c net.Conn) { _, _ = c.Write(record(recordAlert, []byte{1, 112})) }, "alert unrecognized_name (112)"},
		{"silence", func(c net.Conn) { _, _ = io.Copy(io.Discard, c) }, "no answer before the deadline"},
		{"close", func(c net.Conn) {}, "closed the connection without an alert"},
		{"slow drip", func(c net.Conn) {
			_, _ = c.Write([]byte{22, 3, 3, 0x40, 0})
			for i := 0; i < 100; i++ {
				if _, err := c.Write([]byte{2}); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}, "no answer before the deadline"},
		{"endless tiny records", func(c net.Conn) {
			stream := record(recordHandshake, []byte{2, 0, 0x3f, 0xff})
			for len(stream) < 2*maxFirstRead {
				stream = append(stream, record(recordHandshake, []byte{0})...)
			}
			_, _ = c.Write(stream)
		}, "no ServerHello within 65536 bytes"},
		{"hello for another version", func(c net.Conn) {
			_, _ = c.Write(record(recordHandshake, serverHello(0x0305, 0x002f, nil)))
		}, "not offered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := hostilePeer(t, tc.respond)
			const limit = time.Second
			ctx, cancel := context.WithTimeout(context.Background(), limit)
			defer cancel()
			start := time.Now()
			s := scanVersions(ctx, addr, "redis.example")
			// Half a second of slack: a loaded two-core machine schedules
			// late; the check itself stops its probes before its deadline.
			if el := time.Since(start); el > limit+limit/2 {
				t.Errorf("scan took %v with a %v deadline", el, limit)
			}
			for _, p := range s.Probes {
				if v := judgeHello(p); v.Verdict != verdictUnknown || !strings.Contains(v.Why, tc.why) {
					t.Errorf("%s: %v %q, want unknown %q", versionName(p.Offered), v.Verdict, v.Why, tc.why)
				}
			}
			fs := append(JudgeVersions(s, versionTLS12, 0), JudgeSuites(s)...)
			got := texts(fs)
			for _, want := range []string{"UNKNOWN: protocol floor: TLS 1.1 not verified: ", "UNKNOWN: protocol floor: TLS 1.0 not verified: ",
				"UNKNOWN: protocol floor: SSL 3.0 not verified: ", "UNKNOWN: cipher suites not verified"} {
				if !strings.Contains(got, want) {
					t.Errorf("missing %q in\n%s", want, got)
				}
			}
			if strings.Contains(got, "floor: refused") || strings.Contains(got, "and below refused") ||
				strings.Contains(got, "accepts") || strings.Contains(got, "accepted TLS") {
				t.Errorf("a verdict from a hostile peer:\n%s", got)
			}
		})
	}
}

// The whole check against a peer that answers every hello with an
// unexpected alert: nothing is called refused, and it ends in time.
func TestCheckAgainstAlertingPeer(t *testing.T) {
	addr := hostilePeer(t, func(c net.Conn) { _, _ = c.Write(record(recordAlert, []byte{2, 10})) })
	_, port, _ := net.SplitHostPort(addr)
	c := config(atoi(t, port), nil)
	r := run(t, c, nil, 2*time.Second)
	expect(t, r, Critical, Critical, "the server refused a TLS 1.2 to TLS 1.3 handshake",
		Unknown, "protocol floor: TLS 1.1 not verified: the server answered with alert unexpected_message (10)",
		Unknown, "cipher suites not verified")
	if has(r, OK, "refused") {
		t.Errorf("refusal assumed:\n%s", render(r))
	}
}

func atoi(t *testing.T, s string) int {
	n := 0
	for _, ch := range s {
		n = n*10 + int(ch-'0')
	}
	return n
}
