package auth

import (
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/certtest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// startTLS runs a TLS-only redis-server presenting a certificate of ca.
func startTLS(t *testing.T, ca *certtest.CA, srv *certtest.Cert, clientCerts string, extra ...string) *redistest.Server {
	t.Helper()
	conf := append([]string{
		"port 0", "tls-port {{PORT}}",
		"tls-cert-file " + srv.ChainFile, "tls-key-file " + srv.KeyFile,
		"tls-ca-cert-file " + ca.RootFile, "tls-auth-clients " + clientCerts,
	}, extra...)
	return redistest.Start(t, redistest.Spec{NoPort: true, ReadyAddr: "-", Config: conf})
}

func TestLiveTLS(t *testing.T) {
	ca := certtest.NewCA(t, "Auth Test Root")
	srv := ca.Server(t, "127.0.0.1")
	tlsOpts := func(port int) redisconn.Options {
		return redisconn.Options{Port: port, TLS: true, CACert: ca.RootFile}
	}

	open := startTLS(t, ca, srv, "no")
	r, out := check(t, tlsOpts(open.Port), nil)
	expect(t, r, out, result.Critical, "the default user is usable without a password")

	locked := startTLS(t, ca, srv, "no", "requirepass "+pwDefault)
	r, out = check(t, tlsOpts(locked.Port), map[string]string{redisconn.PasswordEnv: pwDefault})
	expect(t, r, out, result.OK, "refused (NOAUTH", "default user requires a password")

	// Plain client against the TLS port: not verified, never OK.
	r, out = check(t, redisconn.Options{Port: locked.Port}, nil)
	expect(t, r, out, result.Unknown, "could not probe without credentials: the server closed the connection without a reply")

	// A server that wants client certificates refuses the handshake
	// without one; with one, the password is still required.
	mtls := startTLS(t, ca, srv, "yes", "requirepass "+pwDefault)
	r, out = check(t, tlsOpts(mtls.Port), nil)
	expect(t, r, out, result.Unknown, "could not probe without credentials", "client certificate")
	cl := ca.Client(t, "monitor")
	o := tlsOpts(mtls.Port)
	o.Cert, o.Key = cl.CertFile, cl.KeyFile
	r, out = check(t, o, nil)
	expect(t, r, out, result.OK, "refused (NOAUTH")

	// Untrusted server certificate: UNKNOWN, the probe never ran.
	other := certtest.NewCA(t, "Other Root")
	o = redisconn.Options{Port: open.Port, TLS: true, CACert: other.RootFile}
	r, out = check(t, o, nil)
	expect(t, r, out, result.Unknown, "TLS: the server certificate is not trusted")
}

func TestLiveSentinel(t *testing.T) {
	open := redistest.Start(t, redistest.Spec{Sentinel: true})
	r, out := check(t, redisconn.Options{Port: open.Port}, nil)
	expect(t, r, out, result.Critical, "Sentinel serves clients without credentials (PING answered, INFO server served)")

	locked := redistest.Start(t, redistest.Spec{Sentinel: true, Config: []string{"requirepass " + pwDefault}})
	r, out = check(t, redisconn.Options{Port: locked.Port}, nil)
	expect(t, r, out, result.OK, "refused (NOAUTH")

	r, out = check(t, redisconn.Options{Port: locked.Port}, map[string]string{redisconn.PasswordEnv: pwDefault})
	expect(t, r, out, result.OK, "refused (NOAUTH", "Sentinel: its own users and requirepass (sentinel.conf) apply",
		"1 enabled ACL user, none without a password")

	// Sentinel has ACL users of its own (6.2+).
	users := redistest.Start(t, redistest.Spec{Sentinel: true, Config: []string{
		"requirepass " + pwDefault, "user watcher on nopass +@all",
	}})
	r, out = check(t, redisconn.Options{Port: users.Port}, map[string]string{redisconn.PasswordEnv: pwDefault})
	expect(t, r, out, result.Critical, `user "watcher" is enabled without a password (nopass)`)
}
