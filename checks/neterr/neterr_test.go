package neterr_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/certtest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/netns"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	"github.com/sensu-community/sensu-redis-security-checks/checks/neterr"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
)

// serve runs fn on each connection a loopback listener accepts, until the
// test ends.
func serve(t *testing.T, fn func(net.Conn)) string { return testenv.Serve(t, fn).String() }

func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readErr reads from addr until an error, within two seconds.
func readErr(t *testing.T, addr string, write string) error {
	t.Helper()
	// A reset can come before connect returns: that is an answer too.
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if write != "" {
		if _, err := c.Write([]byte(write)); err != nil {
			return err
		}
	}
	_, err = io.ReadAll(c)
	if err == nil {
		return io.EOF // ReadAll hides the clean close it stopped at
	}
	return err
}

// tlsServer serves TLS with a leaf of a fresh CA; cfg adjusts the server.
func tlsServer(t *testing.T, cfg func(*tls.Config)) (string, *certtest.CA) {
	t.Helper()
	ca := certtest.NewCA(t, "neterr test root")
	leaf := ca.Server(t, "localhost")
	sc := &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}}
	if cfg != nil {
		cfg(sc)
	}
	addr := serve(t, func(c net.Conn) {
		defer c.Close()
		tc := tls.Server(c, sc)
		tc.SetDeadline(time.Now().Add(3 * time.Second))
		if tc.Handshake() == nil {
			io.Copy(io.Discard, tc)
		}
	})
	return addr, ca
}

func handshake(t *testing.T, addr string, cc *tls.Config) error {
	t.Helper()
	c := dial(t, addr)
	tc := tls.Client(c, cc)
	tc.SetDeadline(time.Now().Add(3 * time.Second))
	if err := tc.Handshake(); err != nil {
		return err
	}
	// TLS 1.3 reports a client-certificate refusal on the first read.
	_, err := tc.Read(make([]byte, 1))
	return err
}

func TestClassifyRealErrors(t *testing.T) {
	cases := []struct {
		name string
		err  func(t *testing.T) error
		want neterr.Kind
	}{
		{"refused port on loopback", func(t *testing.T) error {
			_, err := net.DialTimeout("tcp", closedPort(t), 2*time.Second)
			return err
		}, neterr.Refused},
		{"listener that resets", func(t *testing.T) error {
			addr := serve(t, func(c net.Conn) {
				c.(*net.TCPConn).SetLinger(0) // close with RST
				c.Close()
			})
			return readErr(t, addr, "")
		}, neterr.Reset},
		{"listener that closes", func(t *testing.T) error {
			return readErr(t, serve(t, func(c net.Conn) { c.Close() }), "")
		}, neterr.Closed},
		{"read deadline", func(t *testing.T) error {
			addr := serve(t, func(c net.Conn) { time.Sleep(time.Second); c.Close() })
			c := dial(t, addr)
			c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			_, err := c.Read(make([]byte, 1))
			return err
		}, neterr.Timeout},
		{"context deadline on dial", func(t *testing.T) error {
			ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			defer cancel()
			var d net.Dialer
			_, err := d.DialContext(ctx, "tcp", closedPort(t))
			return err
		}, neterr.Timeout},
		{"canceled dial", func(t *testing.T) error {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			var d net.Dialer
			_, err := d.DialContext(ctx, "tcp", closedPort(t))
			return err
		}, neterr.Canceled},
		{"plaintext RESP to a ClientHello", func(t *testing.T) error {
			addr := serve(t, func(c net.Conn) { c.Write([]byte("-ERR unknown command\r\n")); time.Sleep(time.Second); c.Close() })
			return handshake(t, addr, &tls.Config{InsecureSkipVerify: true})
		}, neterr.NotTLS},
		{"untrusted certificate", func(t *testing.T) error {
			addr, _ := tlsServer(t, nil)
			other := certtest.NewCA(t, "other root")
			return handshake(t, addr, &tls.Config{RootCAs: other.Pool(), ServerName: "localhost"})
		}, neterr.Certificate},
		{"wrong host name", func(t *testing.T) error {
			addr, ca := tlsServer(t, nil)
			return handshake(t, addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "redis.example"})
		}, neterr.Certificate},
		{"alert: client certificate required", func(t *testing.T) error {
			addr, ca := tlsServer(t, func(c *tls.Config) { c.ClientAuth = tls.RequireAnyClientCert })
			return handshake(t, addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
		}, neterr.RemoteAlert},
		{"alert: protocol version", func(t *testing.T) error {
			addr, ca := tlsServer(t, func(c *tls.Config) { c.MinVersion = tls.VersionTLS13 })
			return handshake(t, addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost", MaxVersion: tls.VersionTLS12})
		}, neterr.RemoteAlert},
		{"RESP guard: reply over the cap", func(t *testing.T) error {
			addr := serve(t, func(c net.Conn) {
				defer c.Close()
				bufio.NewReader(c).ReadString('\n')
				fmt.Fprintf(c, "$%d\r\n", 1<<40)
				time.Sleep(time.Second)
			})
			return guardedPing(t, addr)
		}, neterr.Guard},
		{"RESP guard: not RESP", func(t *testing.T) error {
			addr := serve(t, func(c net.Conn) {
				defer c.Close()
				bufio.NewReader(c).ReadString('\n')
				c.Write([]byte("*1\r\n!bogus\r\n"))
				time.Sleep(time.Second)
			})
			return guardedPing(t, addr)
		}, neterr.Guard},
		{"no error", func(t *testing.T) error { return nil }, neterr.None},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err(t)
			if got := neterr.Classify(err); got != tc.want {
				t.Fatalf("Classify(%v) = %v, want %v", err, got, tc.want)
			}
		})
	}
}

// guardedPing sends PING through the RESP guard and reads the reply as
// go-redis would read a bulk string or array.
func guardedPing(t *testing.T, addr string) error {
	t.Helper()
	c := resp.Guard(dial(t, addr), resp.DefaultLimits, time.Now().Add(2*time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	_, err := io.ReadAll(c)
	return err
}

func TestAlertNumbers(t *testing.T) {
	addr, ca := tlsServer(t, func(c *tls.Config) { c.ClientAuth = tls.RequireAnyClientCert })
	err := handshake(t, addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
	if n, ok := neterr.Alert(err); !ok || n != neterr.AlertCertificateRequired {
		t.Fatalf("Alert(%v) = %d, %v; want %d", err, n, ok, neterr.AlertCertificateRequired)
	}
	if name := neterr.AlertName(neterr.AlertCertificateRequired); name != "tls: certificate required" {
		t.Fatalf("AlertName(116) = %q", name)
	}
	addr, ca = tlsServer(t, func(c *tls.Config) { c.MinVersion = tls.VersionTLS13 })
	err = handshake(t, addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost", MaxVersion: tls.VersionTLS12})
	if n, ok := neterr.Alert(err); !ok || n != neterr.AlertProtocolVersion {
		t.Fatalf("Alert(%v) = %d, %v; want %d", err, n, ok, neterr.AlertProtocolVersion)
	}
	if _, ok := neterr.Alert(io.EOF); ok {
		t.Fatal("io.EOF carries no alert")
	}
}

func TestInDial(t *testing.T) {
	_, err := net.DialTimeout("tcp", closedPort(t), 2*time.Second)
	if !neterr.InDial(err) {
		t.Fatalf("InDial(%v) = false", err)
	}
	if err := readErr(t, serve(t, func(c net.Conn) { c.Close() }), ""); neterr.InDial(err) {
		t.Fatalf("InDial(%v) = true for a read", err)
	}
}

// Wrapping keeps the kind: the checks wrap errors with context.
func TestWrapped(t *testing.T) {
	_, err := net.DialTimeout("tcp", closedPort(t), 2*time.Second)
	if got := neterr.Classify(fmt.Errorf("probe: %w", err)); got != neterr.Refused {
		t.Fatalf("wrapped refusal: %v", got)
	}
	if !neterr.Is(errors.Join(errors.New("x"), err), neterr.Timeout, neterr.Refused) {
		t.Fatal("Is misses a joined refusal")
	}
}

// Unreachable networks and hosts need a namespace with no route and no
// neighbour: only root can make one.
func TestUnreachable(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	tp := netns.New(t, netns.Spec{Hosts: []netns.HostSpec{{Name: "alone"}}})
	h := tp.Host("alone")
	cases := []struct {
		addr string
		want neterr.Kind
	}{
		{"203.0.113.7:6379", neterr.NetUnreachable}, // no route off the segment
		{"192.0.2.99:6379", neterr.HostUnreachable}, // on the segment, nobody answers ARP
	}
	for _, tc := range cases {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := h.DialContext(ctx, "tcp", tc.addr)
		cancel()
		if err == nil {
			c.Close()
			t.Fatalf("dial %s succeeded", tc.addr)
		}
		if got := neterr.Classify(err); got != tc.want {
			t.Errorf("dial %s: Classify(%v) = %v, want %v", tc.addr, err, got, tc.want)
		}
	}
}
