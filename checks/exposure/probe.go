package exposure

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
)

// DialFunc has the signature of net.Dialer.DialContext. Tests and
// benchmarks pass one that dials from inside a network namespace.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Outcome is what one attempt found.
type Outcome struct {
	Attempt
	Class Class
	// TLS is set when the service spoke TLS.
	TLS bool
	// Detail explains the class in a few words (the reply, the errno).
	Detail string
}

// prober makes single attempts.
type prober struct {
	dial    DialFunc
	timeout time.Duration
}

// probe connects to a.Addr and, once connected, asks the service what it
// is. Connecting gets one timeout; the conversation after it gets another,
// so an attempt never takes more than twice the timeout (and never beyond
// ctx).
func (p prober) probe(ctx context.Context, a Attempt) Outcome {
	o := Outcome{Attempt: a}
	addr := a.Addr.String()
	// A UDP "connect" sends nothing but makes the kernel look up the route.
	// Its failure is this host's problem (no route, a local unreachable or
	// prohibit route), which a TCP connect would report with the same
	// errnos as a remote ICMP error.
	u, err := p.dial(ctx, "udp", addr)
	if err != nil {
		if ctx.Err() != nil {
			o.Class, o.Detail = NotFinished, deadlineFirst
			return o
		}
		o.Class, o.Detail = classifyRoute(err)
		return o
	}
	u.Close()
	start := time.Now()
	conn, err := p.connect(ctx, addr)
	if err != nil {
		// Only a SYN that went unanswered for the whole timeout is
		// "filtered". The socket's own deadline can fire a moment before the
		// check's context reports itself done, so ctx.Err() alone would let a
		// cut-short attempt pass as filtered: fail open.
		cut := ctx.Err() != nil || time.Since(start) < p.timeout
		o.Class, o.Detail = classifyDial(err, cut)
		return o
	}
	defer conn.Close()
	deadline := p.deadline(ctx)
	reply, err := resp.Ping(conn, deadline)
	switch {
	case err == nil && reply.Class.IsRedis():
		o.Class, o.Detail = classifyReply(reply.Class), "answered PING with "+quote(reply.Line)
		return o
	case err == nil && !looksLikeTLS(reply.Line):
		o.Class, o.Detail = OpenNotRedis, "answered PING with "+quote(reply.Line)
		return o
	case err != nil && isTimeout(err):
		o.Class, o.Detail = OpenSilent, "accepted the connection but did not answer PING"
		return o
	}
	// A TLS alert, or a close or reset without a word: what TLS listeners do
	// with plain text. Try again speaking TLS.
	conn.Close()
	if t, ok := p.probeTLS(ctx, a, deadline); ok {
		return t
	}
	o.Class = OpenNotRedis
	if err != nil {
		o.Detail = "accepted the connection, then closed it without answering PING or TLS"
	} else {
		o.Detail = "answered PING with a TLS alert, but no TLS handshake succeeded"
	}
	return o
}

// probeTLS reconnects and sends PING over TLS. ok is false when the peer
// did not speak TLS at all.
func (p prober) probeTLS(ctx context.Context, a Attempt, deadline time.Time) (Outcome, bool) {
	o := Outcome{Attempt: a, TLS: true}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	raw, err := p.dial(ctx, "tcp", a.Addr.String())
	if err != nil {
		return o, false
	}
	defer raw.Close()
	certAsked := false
	cfg := &tls.Config{
		// This probe asks whether the port serves, not whom to trust: the
		// certificate is not the point, and rejecting it would hide an
		// exposed server.
		InsecureSkipVerify: true,
		ServerName:         a.Name,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			certAsked = true
			return &tls.Certificate{}, nil
		},
	}
	conn := tls.Client(raw, cfg)
	if err := conn.HandshakeContext(ctx); err != nil {
		var alert tls.AlertError
		switch {
		case certAsked:
			o.Class, o.Detail = OpenClientCertRequired, "TLS handshake wants a client certificate"
		case errors.As(err, &alert):
			o.Class, o.Detail = OpenNotRedis, "TLS handshake failed: "+alert.Error()
		default:
			return o, false
		}
		return o, true
	}
	reply, err := resp.Ping(conn, deadline)
	switch {
	case err == nil:
		o.Class, o.Detail = classifyReply(reply.Class), "answered PING over TLS with "+quote(reply.Line)
	case certAsked:
		// TLS 1.3 reports a missing client certificate on the first read.
		o.Class, o.Detail = OpenClientCertRequired, "TLS server wants a client certificate"
	case isTimeout(err):
		o.Class, o.Detail = OpenSilent, "completed a TLS handshake but did not answer PING"
	default:
		o.Class, o.Detail = OpenNotRedis, "completed a TLS handshake, then closed without answering PING"
	}
	return o, true
}

func (p prober) connect(ctx context.Context, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	return p.dial(ctx, "tcp", addr)
}

func (p prober) deadline(ctx context.Context) time.Time {
	d := time.Now().Add(p.timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

// quote shows at most 40 bytes of a reply, escaped: remote text is never
// trusted to be printable.
func quote(s string) string {
	if len(s) > 40 {
		return strconv.Quote(s[:40]) + "…"
	}
	return strconv.Quote(s)
}
