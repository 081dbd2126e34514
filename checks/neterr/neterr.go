// Package neterr tells network, TLS and RESP failures apart for every
// check: by errno (errors.Is on syscall values), by error type
// (errors.As on net.Error, tls.RecordHeaderError, x509 errors) and by the
// RESP guard's sentinel errors, never by the text of an error.
package neterr

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"reflect"
	"syscall"

	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
)

// Kind is how an exchange with a peer failed.
type Kind int

// The kinds, from the most specific evidence to the least.
const (
	None Kind = iota
	// NotTLS: the peer answered a ClientHello with bytes that are not a
	// TLS record (tls.RecordHeaderError).
	NotTLS
	// RemoteAlert: the peer sent a TLS alert; Alert gives its number.
	RemoteAlert
	// LocalAlert: this side aborted the handshake with an alert
	// (tls.AlertError).
	LocalAlert
	// Certificate: the peer's certificate did not verify (unknown
	// authority, invalid, wrong host name).
	Certificate
	// Guard: the RESP guard refused a reply (over a cap, or not RESP).
	Guard
	// Refused: ECONNREFUSED, a TCP reset or ICMP port unreachable to a SYN.
	Refused
	// HostUnreachable: EHOSTUNREACH (ICMP host unreachable or prohibited).
	HostUnreachable
	// NetUnreachable: ENETUNREACH (ICMP network unreachable, or no route).
	NetUnreachable
	// HostDown: EHOSTDOWN, or ENONET where it exists.
	HostDown
	// Prohibited: EACCES on connect: ICMP administratively prohibited over
	// IP, the socket file's permissions over a UNIX socket.
	Prohibited
	// NoFiles: EMFILE or ENFILE on this host.
	NoFiles
	// NoLocalAddr: EADDRNOTAVAIL or EADDRINUSE on this host.
	NoLocalAddr
	// NoMemory: ENOBUFS or ENOMEM on this host.
	NoMemory
	// LocalPolicy: EPERM, this host's own firewall or a security policy.
	LocalPolicy
	// Reset: the peer reset the connection (ECONNRESET, or EPIPE on a
	// write after its reset).
	Reset
	// Timeout: a deadline passed (context.DeadlineExceeded or a
	// net.Error that says Timeout).
	Timeout
	// Canceled: the context was canceled.
	Canceled
	// Closed: the peer closed the connection without (the rest of) a
	// reply: EOF, an unexpected EOF, resp.ErrNoReply.
	Closed
	// Other: none of the above.
	Other
)

var kindNames = [...]string{"none", "not-tls", "remote-alert", "local-alert", "certificate", "guard",
	"refused", "host-unreachable", "net-unreachable", "host-down", "prohibited", "no-files",
	"no-local-addr", "no-memory", "local-policy", "reset", "timeout", "canceled", "closed", "other"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "other"
}

// errnoKinds maps errnos to kinds, in the order they are tried.
var errnoKinds = []struct {
	errno syscall.Errno
	kind  Kind
}{
	{syscall.ECONNREFUSED, Refused},
	{syscall.EHOSTUNREACH, HostUnreachable},
	{syscall.ENETUNREACH, NetUnreachable},
	{syscall.EHOSTDOWN, HostDown},
	{syscall.EACCES, Prohibited},
	{syscall.EMFILE, NoFiles},
	{syscall.ENFILE, NoFiles},
	{syscall.EADDRNOTAVAIL, NoLocalAddr},
	{syscall.EADDRINUSE, NoLocalAddr},
	{syscall.ENOBUFS, NoMemory},
	{syscall.ENOMEM, NoMemory},
	{syscall.EPERM, LocalPolicy},
	{syscall.ECONNRESET, Reset},
	{syscall.EPIPE, Reset},
}

// Classify says how err ended an exchange. nil is None.
func Classify(err error) Kind {
	if err == nil {
		return None
	}
	var (
		rh      tls.RecordHeaderError
		local   tls.AlertError
		unknown x509.UnknownAuthorityError
		invalid x509.CertificateInvalidError
		host    x509.HostnameError
		verify  *tls.CertificateVerificationError
		ne      net.Error
	)
	switch {
	case errors.As(err, &rh):
		return NotTLS
	case remoteAlert(err) >= 0:
		return RemoteAlert
	case errors.As(err, &local):
		return LocalAlert
	case errors.As(err, &unknown), errors.As(err, &invalid), errors.As(err, &host), errors.As(err, &verify):
		return Certificate
	case errors.Is(err, resp.ErrReplyTooLarge), errors.Is(err, resp.ErrBadFrame):
		return Guard
	}
	for _, e := range errnoKinds {
		if errors.Is(err, e.errno) {
			return e.kind
		}
	}
	switch {
	case isHostIsolated(err):
		return HostDown
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return Timeout
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, resp.ErrNoReply):
		return Closed
	}
	return Other
}

// Is reports whether err is of one of the kinds.
func Is(err error, kinds ...Kind) bool {
	k := Classify(err)
	for _, want := range kinds {
		if k == want {
			return true
		}
	}
	return false
}

// InDial reports whether err happened while connecting (a net.OpError of
// the "dial" operation), as opposed to on an open connection.
func InDial(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// Alert returns the number of the TLS alert the peer sent (RFC 8446
// section 6) and true, or false when err carries none.
func Alert(err error) (int, bool) {
	n := remoteAlert(err)
	return n, n >= 0
}

// TLS alert numbers the checks name.
const (
	AlertHandshakeFailure    = 40
	AlertBadCertificate      = 42
	AlertProtocolVersion     = 70
	AlertCertificateRequired = 116
)

// AlertName is crypto/tls's name of an alert number ("handshake failure").
func AlertName(n int) string {
	if n < 0 || n > 255 {
		return "unknown alert"
	}
	return tls.AlertError(uint8(n)).Error()
}

// remoteAlert: crypto/tls reports an alert from the peer as a net.OpError
// of the "remote error" operation whose Err is its unexported alert type, a
// uint8. Reflection reads the number without depending on the name.
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

// Errno returns the errno err carries, if any.
func Errno(err error) (syscall.Errno, bool) {
	var en syscall.Errno
	ok := errors.As(err, &en)
	return en, ok
}

// NotTLSReason describes the bytes a non-TLS peer sent back to a
// ClientHello.
func NotTLSReason(err error) string {
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
