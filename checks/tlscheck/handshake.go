package tlscheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/neterr"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
)

// probeSpec says how to handshake.
type probeSpec struct {
	Addr       string
	ServerName string
	Min, Max   uint16
	Cert       *tls.Certificate // presented when the server asks; nil: none
	Ping       bool             // send PING after the handshake
}

// Observed is what one TLS connection attempt saw. The server's choices
// are recorded as soon as its certificate arrives, so a handshake that the
// server aborts later (a missing client certificate on TLS 1.2) still tells
// which version it accepted and which chain it presented.
type Observed struct {
	Connected     bool // TCP connection established
	Version       uint16
	CipherSuite   uint16
	Peer          []*x509.Certificate
	CertRequested bool // the server sent a CertificateRequest
	Completed     bool // the handshake finished on the client side
	Err           error

	Replied bool // a reply line to PING arrived
	Reply   resp.Reply
	PingErr error
}

// ServerHello reports whether the server got as far as choosing a version
// and presenting a certificate.
func (o Observed) ServerHello() bool { return o.Version != 0 }

// handshake dials spec.Addr and runs a TLS handshake (and PING) within ctx.
// It never verifies the certificate: the chain is judged afterwards from
// Observed.Peer, so a bad chain is reported with everything else instead of
// ending the probe. Nothing secret is sent on this connection.
func handshake(ctx context.Context, spec probeSpec) Observed {
	var o Observed
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", spec.Addr)
	if err != nil {
		o.Err = err
		return o
	}
	defer raw.Close()
	o.Connected = true
	cfg := &tls.Config{
		ServerName:         spec.ServerName,
		InsecureSkipVerify: true, // verified by VerifyChain, see above
		MinVersion:         spec.Min,
		MaxVersion:         spec.Max,
		VerifyConnection: func(cs tls.ConnectionState) error {
			o.Version, o.CipherSuite, o.Peer = cs.Version, cs.CipherSuite, cs.PeerCertificates
			return nil
		},
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			o.CertRequested = true
			if spec.Cert != nil {
				return spec.Cert, nil
			}
			return &tls.Certificate{}, nil
		},
	}
	conn := tls.Client(raw, cfg)
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	if err := conn.HandshakeContext(ctx); err != nil {
		o.Err = err
		return o
	}
	o.Completed = true
	cs := conn.ConnectionState()
	o.Version, o.CipherSuite, o.Peer = cs.Version, cs.CipherSuite, cs.PeerCertificates
	if !spec.Ping {
		return o
	}
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(5 * time.Second)
	}
	// On TLS 1.3 the server judges the client certificate after the client
	// has finished; its verdict arrives with the first read.
	o.Reply, o.PingErr = resp.Ping(conn, dl)
	o.Replied = o.PingErr == nil
	return o
}

// failure is how a connection attempt ended, told apart by error types.
type failure int

const (
	failNone    failure = iota
	failTimeout         // deadline passed: silent server or filtered address
	failClosed          // the peer closed or reset the connection
	failNotTLS          // the peer answered with bytes that are not TLS
	failRemote          // the server sent a TLS alert
	failLocal           // this side aborted (e.g. unsupported version)
	failOther
)

// classify maps the shared classification (checks/neterr) onto the ways a
// TLS probe ends.
func classify(err error) failure {
	switch neterr.Classify(err) {
	case neterr.None:
		return failNone
	case neterr.NotTLS:
		return failNotTLS
	case neterr.RemoteAlert:
		return failRemote
	case neterr.LocalAlert:
		return failLocal
	case neterr.Timeout, neterr.Canceled:
		return failTimeout
	case neterr.Closed, neterr.Reset:
		return failClosed
	}
	return failOther
}
