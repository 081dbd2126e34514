package tlscheck

import (
	"crypto/tls"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/certtest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	. "github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// serve runs handle for every connection to a loopback listener (TLS when
// cfg is set) until the test ends; it returns the port.
func serve(t *testing.T, cfg *tls.Config, handle func(net.Conn)) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); handle(c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// hold keeps a connection open without a word until the peer or the
// test closes it.
func hold(c net.Conn) { _, _ = io.Copy(io.Discard, c) }

func TestNotRedisAndNotTLS(t *testing.T) {
	ca := certtest.NewCA(t, "Test Root")
	srv := ca.Server(t, "listener")
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{srv.TLSCertificate()}}
	const limit = 2 * time.Second

	for _, tc := range []struct {
		name     string
		port     func(t *testing.T) int
		state    State
		findings []any
		within   time.Duration
	}{
		{"TLS listener that is not Redis", func(t *testing.T) int {
			return serve(t, tlsCfg, func(c net.Conn) {
				defer c.Close()
				buf := make([]byte, 64)
				if _, err := c.Read(buf); err == nil {
					_, _ = io.WriteString(c, "HTTP/1.1 400 Bad Request\r\n\r\n")
				}
			})
		}, Critical, []any{Critical, `not Redis: the TLS service answered PING with "HTTP/1.1 400 Bad Request"`, OK, "chain verified"}, limit},
		{"TLS listener that hangs up", func(t *testing.T) int {
			return serve(t, tlsCfg, func(c net.Conn) {
				defer c.Close()
				_ = c.(*tls.Conn).Handshake()
			})
		}, Critical, []any{Critical, "not Redis: the TLS service closed the connection without answering PING"}, limit},
		{"TLS listener that never answers PING", func(t *testing.T) int {
			return serve(t, tlsCfg, hold)
		}, Unknown, []any{Unknown, "no answer to PING over TLS before the deadline"}, limit},
		{"plain Redis on the TLS port", func(t *testing.T) int {
			return redistest.Start(t, redistest.Spec{}).Port
		}, Critical, []any{Critical, "plaintext Redis answers PING there (PONG)"}, limit},
		{"SSH-like banner on the TLS port", func(t *testing.T) int {
			return serve(t, nil, func(c net.Conn) {
				defer c.Close()
				_, _ = io.WriteString(c, "SSH-2.0-OpenSSH_9.2\r\n")
				hold(c)
			})
		}, Critical, []any{Critical, "the peer's first bytes are not a TLS record"}, limit},
		{"plain RESP banner on the TLS port", func(t *testing.T) int {
			return serve(t, nil, func(c net.Conn) {
				defer c.Close()
				_, _ = io.WriteString(c, "-ERR max number of clients reached\r\n")
			})
		}, Critical, []any{Critical, "the peer answered in plaintext RESP"}, limit},
		{"accepts and never handshakes", func(t *testing.T) int {
			return serve(t, nil, hold)
		}, Unknown, []any{Unknown, "the server accepted the connection and stayed silent"}, limit},
		{"nothing listening", func(t *testing.T) int {
			return redistest.FreePort(t)
		}, Unknown, []any{Unknown, "connection refused"}, limit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := tc.port(t)
			start := time.Now()
			r := run(t, config(port, ca), nil, limit)
			expect(t, r, tc.state, tc.findings...)
			if el := time.Since(start); el > tc.within {
				t.Errorf("took %v, limit %v", el, tc.within)
			}
		})
	}
}
