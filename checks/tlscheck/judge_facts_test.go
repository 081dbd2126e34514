package tlscheck

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Judge reads facts only: the same facts give the same result without a
// network. The errors in them are real ones, made on loopback.
func TestJudgeFacts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, refused := net.DialTimeout("tcp", addr, 2*time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, timedOut := (&net.Dialer{}).DialContext(ctx, "tcp", addr)

	o := Options{Conn: redisconn.Options{Host: "127.0.0.1", Port: 6379}, WarningDays: 30, CriticalDays: 7, MinTLSVersion: "1.2"}
	if err := o.Validate(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	pong := &PlainProbe{Port: 6379, Connected: true, Reply: resp.Reply{Class: resp.Pong, Line: "+PONG"}}
	for _, tc := range []struct {
		name  string
		f     Facts
		state result.State
		text  string
	}{
		{"configuration unreadable", Facts{ConfigErr: errors.New("--ca-cert x: gone")}, result.Unknown, "--ca-cert x: gone"},
		{"refused", Facts{Main: Observed{Err: refused}}, result.Unknown, "connection refused (no listener on the TLS port)"},
		{"filtered", Facts{Main: Observed{Err: timedOut}, MainBudget: 4 * time.Second}, result.Unknown, "no TCP connection to 127.0.0.1:6379 within 4s"},
		{"plaintext on the TLS port", Facts{Main: Observed{Connected: true, Err: timedOut}, SamePortPlain: pong}, result.Critical, "plaintext Redis answers PING there"},
		{"silent", Facts{Main: Observed{Connected: true, Err: timedOut}, MainBudget: 4 * time.Second}, result.Unknown, "stayed silent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Judge(o, tc.f)
			r.Finalize()
			out := r.Summary
			for _, f := range r.Findings {
				out += "\n" + f.Text
			}
			if r.State != tc.state || !strings.Contains(out, tc.text) {
				t.Fatalf("state %v, output:\n%s\nwant %v mentioning %q", r.State, out, tc.state, tc.text)
			}
		})
	}
}
