package tlscheck

import (
	"crypto/tls"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/certtest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
	. "github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// TestClientCertificateRequiredButNotVerified: a TLS front for a real
// redis-server that demands a client certificate and verifies none (Go's
// RequireAnyClientCert; stunnel's requireCert without verifyChain, Envoy's
// require_client_certificate without a validation context do the same).
// A client with a certificate from an authority nobody trusts gets in; the
// requirement keeps nobody out.
func TestClientCertificateRequiredButNotVerified(t *testing.T) {
	ca := certtest.NewCA(t, "Test Root")
	backend := redistest.Start(t, redistest.Spec{NoPort: true, ReadyAddr: "-",
		Config: []string{"port 0", "unixsocket {{DIR}}/redis.sock", "unixsocketperm 700"}})
	sock := filepath.Join(backend.Dir, "redis.sock")
	front := &tls.Config{Certificates: []tls.Certificate{ca.Server(t, "redis").TLSCertificate()},
		ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS12,
		// Strong suites only, so that the other findings stay OK.
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305}}
	port := serve(t, front, func(c net.Conn) {
		defer c.Close()
		b, err := net.Dial("unix", sock)
		if err != nil {
			return
		}
		defer b.Close()
		go func() { _, _ = io.Copy(b, c); b.Close() }()
		_, _ = io.Copy(c, b)
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	// The oracle: without a certificate the front refuses; with one from
	// an unknown authority, the real server answers.
	dial := func(certs ...tls.Certificate) (resp.Reply, error) {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr,
			&tls.Config{InsecureSkipVerify: true, Certificates: certs})
		if err != nil {
			return resp.Reply{}, err
		}
		defer conn.Close()
		return resp.Ping(conn, time.Now().Add(2*time.Second))
	}
	if r, err := dial(); err == nil {
		t.Fatalf("the front served a client without a certificate: %q", r.Line)
	}
	intruder := certtest.NewCA(t, "Nobody's Root").Client(t, "intruder")
	if r, err := dial(intruder.TLSCertificate()); err != nil || r.Class != resp.Pong {
		t.Fatalf("the front should serve any certificate: %q, %v", r.Line, err)
	}

	c := config(port, ca)
	monitor := ca.Client(t, "monitor")
	c.Conn.Cert, c.Conn.Key = monitor.CertFile, monitor.KeyFile
	c.RequireClientCert = true
	expect(t, run(t, c, nil, deadline), Critical,
		OK, "client certificates: the server requires one",
		Critical, "client certificates: the server accepted a self-signed certificate the check made up, which anyone can: it does not verify them")

	c.RequireClientCert = false
	expect(t, run(t, c, nil, deadline), OK,
		OK, "client certificates: the server accepted a self-signed certificate the check made up")
}
