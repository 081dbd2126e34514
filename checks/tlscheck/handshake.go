package tlscheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"reflect"
	"syscall"
	"time"

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

func classify(err error) failure {
	if err == nil {
		return failNone
	}
	var rh tls.RecordHeaderError
	var op *net.OpError
	var local tls.AlertError
	var ne net.Error
	switch {
	case errors.As(err, &rh):
		return failNotTLS
	case errors.As(err, &op) && op.Op == "remote error":
		return failRemote
	case errors.As(err, &local):
		return failLocal
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.As(err, &ne) && ne.Timeout():
		return failTimeout
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, resp.ErrNoReply),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return failClosed
	}
	return failOther
}

// remoteAlert returns the number of a TLS alert the server sent (crypto/tls
// keeps its alert type unexported; its kind is a byte) or -1.
func remoteAlert(err error) int {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return -1
	}
	if v := reflect.ValueOf(op.Err); v.Kind() == reflect.Uint8 {
		return int(v.Uint())
	}
	return -1
}

// TLS alert numbers (RFC 8446 section 6) the judgement names.
const (
	alertHandshakeFailure    = 40
	alertCertificateRequired = 116
)

// notTLSReason describes the bytes a non-TLS peer sent back.
func notTLSReason(err error) string {
	var rh tls.RecordHeaderError
	if !errors.As(err, &rh) {
		return "the peer does not speak TLS"
	}
	switch rh.RecordHeader[0] {
	case '+', '-', '*', '$', ':':
		return "the peer answered in plaintext RESP: a plain Redis listener, not TLS"
	}
	return "the peer's first bytes are not a TLS record"
}
