package tlscheck

import (
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/certtest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	. "github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

const deadline = 5 * time.Second

func TestCertificates(t *testing.T) {
	ca := certtest.NewCA(t, "Test Root")
	other := certtest.NewCA(t, "Other Root")
	inter := ca.Intermediate(t, "Test Intermediate")
	soonInter := ca.Intermediate(t, "Short Intermediate", certtest.ExpiresIn(5*certtest.Day))

	for _, tc := range []struct {
		name     string
		cert     *certtest.Cert
		state    State
		findings []any
		days     float64
	}{
		{"valid", ca.Server(t, "valid"), OK, []any{OK, `chain verified: "valid" issued by "Test Root"`, OK, "plaintext port off"}, 364},
		{"expired", ca.Server(t, "expired", certtest.Expired()), Critical, []any{
			Critical, `expired: leaf "expired" expired`,
			OK, "chain verified", // the authority is still judged
			Unknown, "plaintext port not verified: live config unavailable (not asked: credentials are not sent",
		}, -1},
		{"not yet valid", ca.Server(t, "future", certtest.NotYetValid()), Critical, []any{Critical, `not yet valid: leaf "future"`, OK, "chain verified"}, 364},
		{"expiring in 10 days", ca.Server(t, "soon", certtest.ExpiresIn(10*certtest.Day)), Warning, []any{
			Warning, `expires soon: leaf "soon" expires`, Warning, "(in 10 days)", OK, "plaintext port off"}, 10},
		{"expiring in 3 days", ca.Server(t, "sooner", certtest.ExpiresIn(3*certtest.Day)), Critical, []any{
			Critical, `expires soon: leaf "sooner" expires`}, 3},
		{"wrong CA", other.Server(t, "foreign"), Critical, []any{
			Critical, `unknown authority: "foreign", issued by "Other Root", does not chain to the --ca-cert roots`}, 364},
		{"wrong host", ca.Server(t, "wronghost", certtest.Hosts("redis.example.net")), Critical, []any{
			Critical, "hostname mismatch: the certificate is for redis.example.net, not 127.0.0.1"}, 364},
		{"intermediate", inter.Server(t, "chained"), OK, []any{OK, `chain verified: "chained" issued by "Test Root"`}, 364},
		{"intermediate expiring", soonInter.Server(t, "chained-short"), Critical, []any{
			Critical, `expires soon: intermediate "Short Intermediate"`}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startTLS(t, tc.cert, ca)
			r := run(t, config(s.Port, ca), nil, deadline)
			expect(t, r, tc.state, append(tc.findings, OK, "Redis answers PING over TLS (PONG)")...)
			if d, ok := metric(r, "days_to_expiry"); !ok || d != tc.days {
				t.Errorf("days_to_expiry = %v (%v), want %v", d, ok, tc.days)
			}
		})
	}
}

func TestIntermediateMissingFromServerChain(t *testing.T) {
	ca := certtest.NewCA(t, "Test Root")
	leaf := ca.Intermediate(t, "Test Intermediate").Server(t, "chained")
	// The server presents the leaf alone: clients cannot build the chain.
	s := redistest.Start(t, redistest.Spec{NoPort: true, ReadyAddr: "-", Config: []string{
		"port 0", "tls-port {{PORT}}", "tls-cert-file " + leaf.CertFile, "tls-key-file " + leaf.KeyFile,
		"tls-ca-cert-file " + ca.RootFile, "tls-auth-clients no"}})
	r := run(t, config(s.Port, ca), nil, deadline)
	expect(t, r, Critical, Critical, `unknown authority: "chained", issued by "Test Intermediate"`)
}

func TestInsecureSkipVerifyDemotesTrustButNotDates(t *testing.T) {
	other := certtest.NewCA(t, "Other Root")
	s := startTLS(t, other.Server(t, "foreign", certtest.Hosts("redis.example.net")), other)
	c := config(s.Port, nil)
	c.Conn.InsecureSkipVerify = true
	r := run(t, c, nil, deadline)
	expect(t, r, Warning, Warning, "unknown authority", Warning, "hostname mismatch", OK, "plaintext port off")

	s2 := startTLS(t, other.Server(t, "old", certtest.Expired()), other)
	c = config(s2.Port, nil)
	c.Conn.InsecureSkipVerify = true
	expect(t, run(t, c, nil, deadline), Critical, Critical, "expired: leaf")
}

func TestClientCertificatePolicy(t *testing.T) {
	ca := certtest.NewCA(t, "Test Root")
	srv := ca.Server(t, "redis")
	client := ca.Client(t, "monitor")
	for _, tc := range []struct {
		mode     string
		require  bool
		withCert bool
		state    State
		findings []any
	}{
		{"yes", false, false, Unknown, []any{OK, "the server requires a client certificate",
			Unknown, "could not PING: the server requires a client certificate"}},
		{"yes", true, true, OK, []any{OK, "client certificates: the server requires one", OK, "Redis answers PING",
			OK, "client certificates: a self-signed one no authority issued was refused"}},
		{"optional", false, false, OK, []any{OK, "requests a client certificate but accepts clients without one"}},
		{"optional", true, true, Critical, []any{Critical, "accepts clients without one (--require-client-cert)"}},
		{"no", true, false, Critical, []any{Critical, "does not request a client certificate (--require-client-cert)"}},
		{"no", false, true, OK, []any{OK, "does not request a client certificate"}},
	} {
		name := tc.mode
		if tc.require {
			name += "/require"
		}
		if tc.withCert {
			name += "/cert"
		}
		t.Run(name, func(t *testing.T) {
			s := startTLS(t, srv, ca, "tls-auth-clients "+tc.mode)
			c := config(s.Port, ca)
			c.RequireClientCert = tc.require
			if tc.withCert {
				c.Conn.Cert, c.Conn.Key = client.CertFile, client.KeyFile
			}
			expect(t, run(t, c, nil, deadline), tc.state, tc.findings...)
		})
	}
}

func TestClientCertificateRequiredOnTLS12(t *testing.T) {
	// On TLS 1.2 the refusal comes during the handshake, not on the first
	// read; the chain must still be judged from the certificate seen.
	ca := certtest.NewCA(t, "Test Root")
	s := startTLS(t, ca.Server(t, "redis", certtest.ExpiresIn(10*certtest.Day)), ca,
		"tls-auth-clients yes", `tls-protocols "TLSv1.2"`)
	c := config(s.Port, ca)
	c.RequireClientCert = true
	r := run(t, c, nil, deadline)
	expect(t, r, Unknown, OK, "client certificates: the server requires one", Warning, "expires soon",
		OK, "negotiated TLS 1.2", Unknown, "could not PING")
}

func TestPlaintext(t *testing.T) {
	ca := certtest.NewCA(t, "Test Root")
	srv := ca.Server(t, "redis")
	closed := redistest.FreePort(t)

	t.Run("port open", func(t *testing.T) {
		tlsPort := redistest.FreePort(t)
		s := redistest.Start(t, redistest.Spec{Config: []string{
			"tls-port " + itoa(tlsPort), "tls-cert-file " + srv.ChainFile, "tls-key-file " + srv.KeyFile,
			"tls-ca-cert-file " + ca.RootFile, "tls-auth-clients no"}})
		c := config(tlsPort, ca)
		c.PlaintextPorts = []int{s.Port, closed}
		r := run(t, c, nil, deadline)
		expect(t, r, Critical,
			Critical, "plaintext port "+itoa(s.Port)+" is open (live config; set port 0)",
			Critical, "plaintext Redis answers on port "+itoa(s.Port)+" (PONG)",
			OK, "no plaintext Redis on port "+itoa(closed)+": connection refused")
	})
	t.Run("port 0 with probes", func(t *testing.T) {
		s := startTLS(t, srv, ca)
		c := config(s.Port, ca)
		c.PlaintextPorts = []int{closed, s.Port}
		r := run(t, c, nil, deadline)
		expect(t, r, OK, OK, "plaintext port off (port 0)",
			OK, "no plaintext Redis on port "+itoa(closed), OK, "no plaintext Redis on port "+itoa(s.Port))
	})
	t.Run("password protected", func(t *testing.T) {
		s := startTLS(t, srv, ca, "requirepass s3cret-Pa55")
		c := config(s.Port, ca)
		r := run(t, c, nil, deadline)
		expect(t, r, Unknown, OK, "Redis answers PING over TLS (NOAUTH)",
			Unknown, "plaintext port not verified: live config unavailable (authentication failed or missing")
		if got := render(r); strings.Contains(got, "s3cret") {
			t.Fatalf("password in output: %s", got)
		}

		r = run(t, config(s.Port, ca), map[string]string{"REDIS_PASSWORD": "s3cret-Pa55"}, deadline)
		expect(t, r, OK, OK, "plaintext port off (port 0)")

		c = config(s.Port, ca)
		c.PlaintextPorts = []int{closed}
		expect(t, run(t, c, nil, deadline), Warning, Warning, "live config unavailable (authentication failed or missing")
	})
	t.Run("CONFIG renamed", func(t *testing.T) {
		s := startTLS(t, srv, ca, `rename-command CONFIG ""`)
		expect(t, run(t, config(s.Port, ca), nil, deadline), Unknown,
			Unknown, "live config unavailable (CONFIG is renamed or disabled)")
	})
	t.Run("AUTH renamed", func(t *testing.T) {
		// The login goes with the first CONFIG GET: the message names the
		// command the server did not know.
		s := startTLS(t, srv, ca, "requirepass s3cret-Pa55", `rename-command AUTH ""`, `rename-command HELLO ""`)
		expect(t, run(t, config(s.Port, ca), map[string]string{"REDIS_PASSWORD": "s3cret-Pa55"}, deadline), Unknown,
			Unknown, "live config unavailable (AUTH is renamed or disabled)")
	})
	t.Run("ACL without CONFIG", func(t *testing.T) {
		s := startTLS(t, srv, ca, "user monitor on >mon-Pa55 ~* +@all -config")
		env := map[string]string{"REDIS_USERNAME": "monitor", "REDIS_PASSWORD": "mon-Pa55"}
		c := config(s.Port, ca)
		c.Conn.Username = "monitor"
		expect(t, run(t, c, env, deadline), Unknown, Unknown, "live config unavailable (the user may not run CONFIG GET)")
	})
}

func TestReplicationAndCluster(t *testing.T) {
	ca := certtest.NewCA(t, "Test Root")
	srv := ca.Both(t, "redis")
	t.Run("replica without tls-replication", func(t *testing.T) {
		s := startTLS(t, srv, ca, "replicaof 127.0.0.1 "+itoa(redistest.FreePort(t)), "tls-replication no")
		expect(t, run(t, config(s.Port, ca), nil, deadline), Critical,
			Critical, "replica with tls-replication no: the link to its master is plaintext")
	})
	t.Run("replica with tls-replication", func(t *testing.T) {
		s := startTLS(t, srv, ca, "replicaof 127.0.0.1 "+itoa(redistest.FreePort(t)), "tls-replication yes")
		expect(t, run(t, config(s.Port, ca), nil, deadline), OK, OK, "tls-replication yes")
	})
	t.Run("cluster without tls-cluster", func(t *testing.T) {
		s := startTLS(t, srv, ca, "cluster-enabled yes", "cluster-config-file {{DIR}}/nodes.conf",
			"cluster-port "+itoa(redistest.FreePort(t)), "tls-cluster no")
		expect(t, run(t, config(s.Port, ca), nil, deadline), Critical,
			Critical, "cluster mode with tls-cluster no")
	})
	t.Run("cluster with tls-cluster", func(t *testing.T) {
		s := startTLS(t, srv, ca, "cluster-enabled yes", "cluster-config-file {{DIR}}/nodes.conf",
			"cluster-port "+itoa(redistest.FreePort(t)), "tls-cluster yes")
		expect(t, run(t, config(s.Port, ca), nil, deadline), OK, OK, "cluster bus uses TLS (tls-cluster yes)")
	})
}

func TestProtocolFloor(t *testing.T) {
	ca := certtest.NewCA(t, "Test Root")
	srv := ca.Server(t, "redis")
	t.Run("default server, floor 1.3", func(t *testing.T) {
		s := startTLS(t, srv, ca)
		c := config(s.Port, ca)
		c.MinTLSVersion = "1.3"
		expect(t, run(t, c, nil, deadline), Critical,
			Critical, "protocol floor: the server accepts TLS 1.2, below --min-tls-version TLS 1.3")
	})
	t.Run("TLS 1.3 only, floor 1.3", func(t *testing.T) {
		s := startTLS(t, srv, ca, `tls-protocols "TLSv1.3"`)
		c := config(s.Port, ca)
		c.MinTLSVersion = "TLSv1.3"
		expect(t, run(t, c, nil, deadline), OK, OK, "protocol floor: TLS 1.2 and below refused")
	})
	t.Run("TLS 1.1 enabled, default floor", func(t *testing.T) {
		// OpenSSL 3 refuses TLS 1.0/1.1 above security level 0.
		s := startTLS(t, srv, ca, `tls-protocols "TLSv1.1 TLSv1.2 TLSv1.3"`, "tls-ciphers DEFAULT:@SECLEVEL=0")
		expect(t, run(t, config(s.Port, ca), nil, deadline), Critical,
			Critical, "protocol floor: the server accepts TLS 1.1, below --min-tls-version TLS 1.2")
	})
	t.Run("TLS 1.1 only, default floor", func(t *testing.T) {
		s := startTLS(t, srv, ca, `tls-protocols "TLSv1.1"`, "tls-ciphers DEFAULT:@SECLEVEL=0")
		expect(t, run(t, config(s.Port, ca), nil, deadline), Critical,
			Critical, "the server refused a TLS 1.2 to TLS 1.3 handshake",
			Critical, "protocol floor: the server accepts TLS 1.1")
	})
	t.Run("DHE only, every version", func(t *testing.T) {
		// Go's client offers no DHE suite: only the hand-built hellos see
		// that TLS 1.0 and 1.1 are accepted.
		s := startTLS(t, ca.ServerRSA(t, "redis-rsa"), ca, `tls-protocols "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3"`,
			`tls-ciphers "DHE-RSA-AES128-SHA:@SECLEVEL=0"`)
		expect(t, run(t, config(s.Port, ca), nil, deadline), Critical,
			Critical, "protocol floor: the server accepts TLS 1.0, below --min-tls-version TLS 1.2 (chose DHE-RSA-AES128-SHA)",
			Critical, "protocol floor: the server accepts TLS 1.1",
			Warning, "weak cipher suites at TLS 1.2: accepts DHE-RSA-AES128-SHA (CBC with SHA-1)",
			OK, "negotiated TLS 1.3")
	})
	t.Run("DHE only, TLS 1.2 only", func(t *testing.T) {
		// Nothing Go can negotiate, yet the server refuses nobody.
		s := startTLS(t, ca.ServerRSA(t, "redis-rsa-12"), ca, `tls-protocols "TLSv1.2"`,
			`tls-ciphers "DHE-RSA-AES128-GCM-SHA256"`)
		expect(t, run(t, config(s.Port, ca), nil, deadline), Unknown,
			Unknown, "Go's TLS client shares no suite with the server",
			Unknown, "which accepts TLS 1.2 with DHE-RSA-AES128-GCM-SHA256: chain, expiry and Redis not verified",
			OK, "protocol floor: TLS 1.1 and below refused",
			OK, "cipher suites at TLS 1.2: no weak suite accepted")
	})
	t.Run("floor 1.0 leaves SSL 3.0 below", func(t *testing.T) {
		s := startTLS(t, srv, ca)
		c := config(s.Port, ca)
		c.MinTLSVersion = "1.0"
		expect(t, run(t, c, nil, deadline), OK, OK, "protocol floor: SSL 3.0 refused (SSL 3.0: ")
	})
}

func TestClientCertificateFromAnotherCA(t *testing.T) {
	ca := certtest.NewCA(t, "Test Root")
	foreign := certtest.NewCA(t, "Other Root").Client(t, "intruder")
	s := startTLS(t, ca.Server(t, "redis"), ca, "tls-auth-clients yes")
	c := config(s.Port, ca)
	c.Conn.Cert, c.Conn.Key = foreign.CertFile, foreign.KeyFile
	c.RequireClientCert = true
	expect(t, run(t, c, nil, deadline), Unknown,
		Unknown, "the server refused the connection after the client certificate of --cert",
		OK, "client certificates: the server requires one")
}
