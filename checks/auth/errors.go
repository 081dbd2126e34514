package auth

import (
	"crypto/tls"
	"errors"

	"github.com/sensu-community/sensu-redis-security-checks/checks/neterr"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
)

// describeErr says in a few words why an exchange failed, from the shared
// classification of checks/neterr rather than the error's text.
func describeErr(err error) string {
	var pe *ParseError
	switch k := neterr.Classify(err); {
	case k == neterr.Timeout && neterr.InDial(err):
		return "no answer to the connection attempt before the deadline (filtered by a firewall?)"
	case k == neterr.Timeout:
		return "no reply before the deadline"
	case k == neterr.Refused:
		return "connection refused"
	case k == neterr.Reset, k == neterr.Closed && errors.Is(err, resp.ErrNoReply):
		return "the server closed the connection without a reply (does it want TLS, or a client certificate?)"
	case k == neterr.Certificate:
		return "TLS: the server certificate is not trusted: " + err.Error()
	case k == neterr.NotTLS:
		return "TLS handshake failed: the server does not speak TLS on this port"
	case k == neterr.LocalAlert:
		var alert tls.AlertError
		errors.As(err, &alert)
		return "TLS handshake refused by the server: " + alert.Error() + " (does it require a client certificate?)"
	case k == neterr.RemoteAlert:
		n, _ := neterr.Alert(err)
		return "TLS handshake refused by the server: " + neterr.AlertName(n) + " (does it require a client certificate?)"
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
