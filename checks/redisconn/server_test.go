package redisconn_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/certtest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	"github.com/sensu-community/sensu-redis-security-checks/checks/neterr"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
)

// These tests talk to a real redis-server on loopback.

func ctxFor(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// A reply over the guard's bulk cap fails the command with the guard's
// error, and the failure counts as broken; a small reply passes.
func TestClientThroughGuard(t *testing.T) {
	s := redistest.Start(t, redistest.Spec{})
	o := redisconn.Options{Host: "127.0.0.1", Port: s.Port}
	ctx := ctxFor(t, 10*time.Second)
	c := o.Client(ctx)
	defer c.Close()
	if got, err := c.Ping(ctx).Result(); err != nil || got != "PONG" {
		t.Fatalf("PING: %q, %v", got, err)
	}
	big := strings.Repeat("x", int(resp.DefaultLimits.MaxBulk)+1)
	if err := c.Set(ctx, "big", big, 0).Err(); err != nil {
		t.Fatalf("SET: %v", err) // requests are not capped, replies are
	}
	_, err := c.Get(ctx, "big").Result()
	if !errors.Is(err, resp.ErrReplyTooLarge) || neterr.Classify(err) != neterr.Guard || !redisconn.Broken(err) {
		t.Fatalf("GET of %d bytes: %v (kind %v, broken %v); want the guard's refusal", len(big), err, neterr.Classify(err), redisconn.Broken(err))
	}
	// An error reply is an answer, not a broken connection.
	c2 := o.Client(ctx)
	defer c2.Close()
	err = c2.Do(ctx, "NOSUCHCOMMAND").Err()
	if err == nil || redisconn.Broken(err) || redisconn.ErrorCode(err) != "ERR" || !redisconn.IsUnknownCommand(err) {
		t.Fatalf("unknown command: %v (broken %v, code %q)", err, redisconn.Broken(err), redisconn.ErrorCode(err))
	}
}

// The client's context deadline bounds every read, even one the client
// library would let run longer (a blocking command without a timeout).
func TestClientDeadlineClamp(t *testing.T) {
	s := redistest.Start(t, redistest.Spec{})
	o := redisconn.Options{Host: "127.0.0.1", Port: s.Port}
	const limit = 300 * time.Millisecond
	c := o.Client(ctxFor(t, limit))
	defer c.Close()
	start := time.Now()
	err := c.BLPop(context.Background(), 0, "never-pushed").Err()
	el := time.Since(start)
	if neterr.Classify(err) != neterr.Timeout {
		t.Fatalf("BLPOP 0 under a %v deadline: %v (kind %v), want a timeout", limit, err, neterr.Classify(err))
	}
	if el > limit+700*time.Millisecond {
		t.Fatalf("BLPOP returned after %v with a %v deadline", el, limit)
	}
}

func startTLS(t *testing.T, ca *certtest.CA, name, authClients string) *redistest.Server {
	t.Helper()
	leaf := ca.Server(t, name, certtest.Hosts("localhost"))
	port := redistest.FreePort(t)
	s := redistest.Start(t, redistest.Spec{NoPort: true, ReadyAddr: "-", Config: []string{
		"port 0", "tls-port " + strconv.Itoa(port), "tls-cert-file " + leaf.CertFile, "tls-key-file " + leaf.KeyFile,
		"tls-ca-cert-file " + ca.RootFile, "tls-auth-clients " + authClients}})
	s.Port = port
	return s
}

// The TLS options reach the handshake: roots, server name, skip-verify and
// the client certificate.
func TestClientTLSOptions(t *testing.T) {
	ca := certtest.NewCA(t, "redisconn test root")
	other := certtest.NewCA(t, "other root")
	client := ca.Client(t, "monitor")
	open := startTLS(t, ca, "open", "no")
	mutual := startTLS(t, ca, "mutual", "yes")
	cases := []struct {
		name string
		port int
		o    redisconn.Options
		want neterr.Kind
	}{
		{"trusted", open.Port, redisconn.Options{CACert: ca.RootFile}, neterr.None},
		{"other roots", open.Port, redisconn.Options{CACert: other.RootFile}, neterr.Certificate},
		{"wrong name", open.Port, redisconn.Options{CACert: ca.RootFile, ServerName: "redis.example"}, neterr.Certificate},
		{"skip verify", open.Port, redisconn.Options{CACert: other.RootFile, InsecureSkipVerify: true}, neterr.None},
		{"client certificate", mutual.Port, redisconn.Options{CACert: ca.RootFile, Cert: client.CertFile, Key: client.KeyFile}, neterr.None},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.Host, o.Port, o.TLS = "localhost", tc.port, true
			if o.ServerName == "" {
				o.ServerName = "localhost"
			}
			ctx := ctxFor(t, 5*time.Second)
			c := o.Client(ctx)
			defer c.Close()
			err := c.Ping(ctx).Err()
			if got := neterr.Classify(err); got != tc.want {
				t.Fatalf("PING: %v (kind %v), want %v", err, got, tc.want)
			}
		})
	}
	// Without a client certificate the server refuses: an alert (TLS 1.3
	// sends it after the handshake), or a close.
	o := redisconn.Options{Host: "localhost", Port: mutual.Port, TLS: true, CACert: ca.RootFile}
	ctx := ctxFor(t, 5*time.Second)
	c := o.Client(ctx)
	defer c.Close()
	err := c.Ping(ctx).Err()
	if !neterr.Is(err, neterr.RemoteAlert, neterr.Reset, neterr.Closed) {
		t.Fatalf("PING without a client certificate: %v (kind %v)", err, neterr.Classify(err))
	}
}

// fake serves each connection: it answers every command with reply, and
// hangs up after a reply that is cut short (no final CRLF).
func fake(t *testing.T, reply string) int {
	t.Helper()
	return testenv.Serve(t, func(c net.Conn) {
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		r := bufio.NewReader(c)
		for range 8 { // a bound: the client sends HELLO, then PING
			// One RESP array command: *N, then N pairs of lines.
			line, err := r.ReadString('\n')
			if err != nil || len(line) < 2 {
				return
			}
			n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
			for i := 0; i < 2*n; i++ {
				if _, err := r.ReadString('\n'); err != nil {
					return
				}
			}
			fmt.Fprint(c, reply)
			if !strings.HasSuffix(reply, "\r\n") {
				return
			}
		}
	}).Port
}

// Broken tells a peer that answered what no Redis answers from one that
// answered with an error, and from one that could not be reached.
func TestBrokenClassification(t *testing.T) {
	cases := []struct {
		name, reply string
		broken      bool
		kind        neterr.Kind
	}{
		{"not RESP", "HTTP/1.1 400 Bad Request\r\n\r\n", true, neterr.Guard},
		{"bad frame", "*1\r\n!x\r\n", true, neterr.Guard},
		{"closed mid-reply", "+PON", true, neterr.Closed},
		{"error reply", "-ERR no\r\n", false, neterr.Other},
		{"error code", "-NOAUTH Authentication required.\r\n", false, neterr.Other},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := redisconn.Options{Host: "127.0.0.1", Port: fake(t, tc.reply)}
			ctx := ctxFor(t, 5*time.Second)
			c := o.Client(ctx)
			defer c.Close()
			err := c.Ping(ctx).Err()
			if err == nil {
				t.Fatal("PING succeeded")
			}
			if redisconn.Broken(err) != tc.broken || neterr.Classify(err) != tc.kind {
				t.Fatalf("%v: broken %v (want %v), kind %v (want %v)", err, redisconn.Broken(err), tc.broken, neterr.Classify(err), tc.kind)
			}
		})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	o := redisconn.Options{Host: "127.0.0.1", Port: port}
	ctx := ctxFor(t, 5*time.Second)
	c := o.Client(ctx)
	defer c.Close()
	if err := c.Ping(ctx).Err(); redisconn.Broken(err) || neterr.Classify(err) != neterr.Refused {
		t.Fatalf("refused port: %v (broken %v, kind %v)", err, redisconn.Broken(err), neterr.Classify(err))
	}
}
