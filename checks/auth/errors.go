package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"syscall"

	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
)

// describeErr says in a few words why an exchange failed, from the error's
// type rather than its text.
func describeErr(err error) string {
	var (
		ne      net.Error
		unknown x509.UnknownAuthorityError
		invalid x509.CertificateInvalidError
		host    x509.HostnameError
		record  tls.RecordHeaderError
		alert   tls.AlertError
		verify  *tls.CertificateVerificationError
		pe      *ParseError
		op      *net.OpError
	)
	switch {
	case errors.As(err, &op) && op.Op == "dial" && (errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()):
		return "no answer to the connection attempt before the deadline (filtered by a firewall?)"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no reply before the deadline"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, resp.ErrNoReply):
		return "the server closed the connection without a reply (does it want TLS, or a client certificate?)"
	case errors.As(err, &unknown), errors.As(err, &invalid), errors.As(err, &host), errors.As(err, &verify):
		return "TLS: the server certificate is not trusted: " + err.Error()
	case errors.As(err, &record):
		return "TLS handshake failed: the server does not speak TLS on this port"
	case errors.As(err, &alert):
		return "TLS handshake refused by the server: " + alert.Error() + " (does it require a client certificate?)"
	case errors.As(err, &op) && op.Op == "remote error":
		// crypto/tls reports an alert from the peer as an OpError of this
		// operation; the alert type itself is unexported.
		return "TLS handshake refused by the server: " + op.Err.Error() + " (does it require a client certificate?)"
	case errors.As(err, &pe):
		return pe.Error()
	}
	return err.Error()
}

// Bad input.
var (
	errUsernameWithoutPassword = errors.New("a user name is set (--username or $" + redisconn.UsernameEnv +
		") but $" + redisconn.PasswordEnv + " is empty")
	errEmptyAdmin = errors.New("--admin-user must not be empty")
)
