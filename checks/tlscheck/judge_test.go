package tlscheck

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/certtest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/neterr"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
	. "github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// These tests judge observations built by hand from minted certificates:
// no network, no server.

func findings(fs []Finding) string {
	s := ""
	for _, f := range fs {
		s += fmt.Sprintf("%v: %s\n", f.State, f.Text)
	}
	return s
}

func TestVerifyChainReportsEachFailureOnItsOwn(t *testing.T) {
	ca := certtest.NewCA(t, "Root")
	other := certtest.NewCA(t, "Other")
	inter := ca.Intermediate(t, "Inter")
	now := time.Now()
	future := ca.Intermediate(t, "Future", certtest.NotYetValid())
	in := func(c *certtest.Cert, host string) VerifyInput {
		return VerifyInput{Peer: c.Presented(), Roots: ca.Pool(), RootsName: "R", ServerName: host, Now: now}
	}
	for _, tc := range []struct {
		name    string
		in      VerifyInput
		want    string
		trusted bool
	}{
		{"valid", in(ca.Server(t, "ok"), "localhost"), "OK: chain verified: \"ok\" issued by \"Root\" (R)\n", true},
		{"via intermediate", in(inter.Server(t, "leaf"), "127.0.0.1"), "OK: chain verified: \"leaf\" issued by \"Root\" (R)\n", true},
		{"expired and wrong host, right CA",
			in(ca.Server(t, "old", certtest.Expired(), certtest.Hosts("a.example", "192.0.2.7")), "localhost"),
			fmt.Sprintf("CRITICAL: expired: leaf \"old\" expired %s (1 day ago)\n", now.Add(-certtest.Day).UTC().Format(time.DateOnly)) +
				"CRITICAL: hostname mismatch: the certificate is for a.example, 192.0.2.7, not localhost\n" +
				"OK: chain verified: \"old\" issued by \"Root\" (R)\n", false},
		{"not yet valid intermediate",
			in(future.Server(t, "f"), "localhost"),
			fmt.Sprintf("CRITICAL: not yet valid: intermediate \"Future\" is valid from %s\n", future.Cert.Cert.NotBefore.UTC().Format(time.RFC3339)) +
				"OK: chain verified: \"f\" issued by \"Root\" (R)\n", false},
		{"wrong CA", in(other.Server(t, "x"), "localhost"),
			"CRITICAL: unknown authority: \"x\", issued by \"Other\", does not chain to R\n", false},
		{"client certificate presented as server",
			in(ca.Client(t, "client"), "localhost"), "CRITICAL: chain invalid: x509: certificate specifies an incompatible key usage\n", false},
		{"no certificate", VerifyInput{Now: now}, "CRITICAL: the server presented no certificate\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := VerifyChain(tc.in)
			if got := findings(v.Findings); got != tc.want {
				t.Fatalf("got\n%swant\n%s", got, tc.want)
			}
			if v.Trusted != tc.trusted {
				t.Fatalf("trusted = %v, want %v", v.Trusted, tc.trusted)
			}
		})
	}
}

func TestVerifyChainLenientDemotesTrustOnly(t *testing.T) {
	other := certtest.NewCA(t, "Other")
	ca := certtest.NewCA(t, "Root")
	c := other.Server(t, "x", certtest.Expired(), certtest.Hosts("b.example"))
	v := VerifyChain(VerifyInput{Peer: c.Presented(), Roots: ca.Pool(), RootsName: "R", ServerName: "localhost", Now: time.Now(), Lenient: true})
	states := map[State]int{}
	for _, f := range v.Findings {
		states[f.State]++
	}
	if states[Critical] != 1 || states[Warning] != 2 || v.Trusted {
		t.Fatalf("want 1 CRITICAL (expired) and 2 WARNING (authority, host):\n%s", findings(v.Findings))
	}
}

func TestVerifyChainWithDisjointWindows(t *testing.T) {
	ca := certtest.NewCA(t, "Root")
	now := time.Now()
	inter := ca.Intermediate(t, "Old Inter", certtest.Validity(now.Add(-60*certtest.Day), now.Add(-30*certtest.Day)))
	leaf := inter.Server(t, "new", certtest.Validity(now.Add(-certtest.Day), now.Add(certtest.Day)))
	v := VerifyChain(VerifyInput{Peer: leaf.Presented(), Roots: ca.Pool(), RootsName: "R", ServerName: "localhost", Now: now})
	got := findings(v.Findings)
	if !has(Result{Findings: v.Findings}, Unknown, "never valid at the same time") || !has(Result{Findings: v.Findings}, Critical, `expired: intermediate "Old Inter"`) {
		t.Fatalf("got\n%s", got)
	}
}

func TestJudgeExpiryWindows(t *testing.T) {
	ca := certtest.NewCA(t, "Root", certtest.ExpiresIn(20*certtest.Day))
	now := time.Now()
	leaf := ca.Server(t, "leaf", certtest.ExpiresIn(100*certtest.Day))
	chain := []*x509.Certificate{leaf.Cert, ca.Root}
	for _, tc := range []struct {
		warn, crit int
		want       string
	}{
		{30, 7, fmt.Sprintf("WARNING: expires soon: root \"Root\" expires %s (in 20 days)\n", ca.Root.NotAfter.UTC().Format(time.DateOnly))},
		{30, 21, fmt.Sprintf("CRITICAL: expires soon: root \"Root\" expires %s (in 20 days)\n", ca.Root.NotAfter.UTC().Format(time.DateOnly))},
		{10, 5, fmt.Sprintf("OK: earliest expiry in 20 days: \"Root\", %s\n", ca.Root.NotAfter.UTC().Format(time.DateOnly))},
		{200, 150, fmt.Sprintf("CRITICAL: expires soon: leaf \"leaf\" expires %s (in 100 days)\n", leaf.Cert.NotAfter.UTC().Format(time.DateOnly)) +
			fmt.Sprintf("CRITICAL: expires soon: root \"Root\" expires %s (in 20 days)\n", ca.Root.NotAfter.UTC().Format(time.DateOnly))},
	} {
		e := JudgeExpiry(chain, now, tc.warn, tc.crit)
		if got := findings(e.Findings); got != tc.want || e.DaysLeft != 20 || e.Earliest != ca.Root {
			t.Errorf("warn %d crit %d: got\n%s(days %d) want\n%s", tc.warn, tc.crit, got, e.DaysLeft, tc.want)
		}
	}
	// An expired certificate is VerifyChain's to report; the metric goes
	// negative.
	old := ca.Server(t, "old", certtest.Validity(now.Add(-10*certtest.Day), now.Add(-3*certtest.Day-time.Hour)))
	e := JudgeExpiry([]*x509.Certificate{old.Cert}, now, 30, 7)
	if len(e.Findings) != 0 || e.DaysLeft != -3 {
		t.Fatalf("expired: %s days %d", findings(e.Findings), e.DaysLeft)
	}
}

// remote is the error crypto/tls returns when the server sends alert a.
func remote(t *testing.T, a uint8) error {
	t.Helper()
	// Make a real one: a server that answers any ClientHello with the alert.
	c1, c2 := net.Pipe()
	defer c1.Close()
	go func() {
		defer c2.Close()
		buf := make([]byte, 4096)
		_, _ = c2.Read(buf)
		_, _ = c2.Write([]byte{21, 3, 3, 0, 2, 2, a})
	}()
	err := tls.Client(c1, &tls.Config{InsecureSkipVerify: true}).Handshake()
	if n, _ := neterr.Alert(err); n != int(a) {
		t.Fatalf("alert %d: got %v (%d)", a, err, n)
	}
	return err
}

func TestClassifyFailures(t *testing.T) {
	var timeout net.Error = &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}
	for _, tc := range []struct {
		err  error
		want failure
	}{
		{nil, failNone},
		{remote(t, neterr.AlertHandshakeFailure), failRemote},
		{fmt.Errorf("wrapped: %w", remote(t, neterr.AlertCertificateRequired)), failRemote},
		{tls.RecordHeaderError{Msg: "x"}, failNotTLS},
		{fmt.Errorf("%w%.0w", errors.New("tls: no version"), tls.AlertError(70)), failLocal},
		{timeout, failTimeout},
		{io.EOF, failClosed},
		{resp.ErrNoReply, failClosed},
		{errors.New("something else"), failOther},
	} {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("classify(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestClientCertPolicyFromObservations(t *testing.T) {
	hello := Observed{Connected: true, Version: tls.VersionTLS13}
	with := func(f func(*Observed)) Observed { o := hello; f(&o); return o }
	for _, tc := range []struct {
		name string
		o    Observed
		want ClientCertPolicy
	}{
		{"no server hello", Observed{Connected: true, Err: io.EOF}, PolicyUnknown},
		{"not requested", with(func(o *Observed) { o.Completed, o.Replied = true, true }), PolicyNotRequested},
		{"not requested, handshake failed", with(func(o *Observed) { o.Err = io.EOF }), PolicyUnknown},
		{"optional", with(func(o *Observed) { o.CertRequested, o.Completed, o.Replied = true, true, true }), PolicyOptional},
		{"required on TLS 1.2", with(func(o *Observed) { o.CertRequested, o.Err = true, remote(t, neterr.AlertHandshakeFailure) }), PolicyRequired},
		{"required on TLS 1.3", with(func(o *Observed) {
			o.CertRequested, o.Completed, o.PingErr = true, true, remote(t, neterr.AlertCertificateRequired)
		}), PolicyRequired},
		{"required on TLS 1.3, reset before the alert was read", with(func(o *Observed) {
			o.CertRequested, o.Completed, o.PingErr = true, true, &net.OpError{Op: "write", Err: syscall.ECONNRESET}
		}), PolicyRequired},
		{"requested, silent", with(func(o *Observed) {
			o.CertRequested, o.Completed, o.PingErr = true, true, &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}
		}), PolicyUnknown},
	} {
		if got := ClassifyClientCert(tc.o); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if f := JudgeClientCert(PolicyUnknown, true, Observed{}); f.State != Unknown {
		t.Errorf("unknown policy under --require-client-cert must be UNKNOWN, got %v", f)
	}
	if f := JudgeClientCert(PolicyOptional, false, Observed{}); f.State != OK {
		t.Errorf("optional without --require-client-cert is context, got %v", f)
	}
}

func TestStrangerCertFromObservations(t *testing.T) {
	asked := Observed{Connected: true, Version: tls.VersionTLS13, CertRequested: true}
	with := func(f func(*Observed)) Observed { o := asked; f(&o); return o }
	for _, tc := range []struct {
		name string
		o    Observed
		want StrangerVerdict
	}{
		{"not run", Observed{}, StrangerUnknown},
		{"not asked this time", with(func(o *Observed) { o.CertRequested, o.Completed, o.Replied = false, true, true }), StrangerUnknown},
		{"served PONG", with(func(o *Observed) {
			o.Completed, o.Replied, o.Reply = true, true, resp.Reply{Line: "+PONG", Class: resp.Pong}
		}), StrangerAccepted},
		{"served NOAUTH: still past TLS", with(func(o *Observed) {
			o.Completed, o.Replied, o.Reply = true, true, resp.Reply{Line: "-NOAUTH x", Class: resp.NoAuth}
		}), StrangerAccepted},
		{"answered, not Redis", with(func(o *Observed) {
			o.Completed, o.Replied, o.Reply = true, true, resp.Reply{Line: "HTTP/1.1", Class: resp.NotRedis}
		}), StrangerUnknown},
		{"unknown CA on TLS 1.2", with(func(o *Observed) { o.Err = remote(t, 48 /* unknown_ca */) }), StrangerRefused},
		{"bad certificate on TLS 1.3", with(func(o *Observed) {
			o.Completed, o.PingErr = true, remote(t, neterr.AlertBadCertificate)
		}), StrangerRefused},
		{"reset before the alert was read", with(func(o *Observed) {
			o.Completed, o.PingErr = true, &net.OpError{Op: "write", Err: syscall.ECONNRESET}
		}), StrangerRefused},
		{"silent", with(func(o *Observed) {
			o.Completed, o.PingErr = true, &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}
		}), StrangerUnknown},
	} {
		if got := ClassifyStranger(tc.o); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct {
		v       StrangerVerdict
		require bool
		want    State
	}{
		{StrangerAccepted, true, Critical}, {StrangerAccepted, false, OK},
		{StrangerUnknown, true, Unknown}, {StrangerUnknown, false, OK},
		{StrangerRefused, true, OK}, {StrangerRefused, false, OK},
	} {
		if f := JudgeStranger(tc.v, tc.require, Observed{}); f.State != tc.want {
			t.Errorf("JudgeStranger(%v, require %v) = %v, want %v", tc.v, tc.require, f, tc.want)
		}
	}
}

func TestJudgePlaintext(t *testing.T) {
	refused := PlainProbe{Port: 6380, Err: &net.OpError{Op: "dial", Err: errors.New("refused")}}
	pong := PlainProbe{Port: 6379, Connected: true, Reply: resp.Reply{Line: "+PONG", Class: resp.Pong}}
	denied := PlainProbe{Port: 6381, Connected: true, Reply: resp.Reply{Line: "-DENIED Redis is running in protected mode", Class: resp.Denied}}
	http := PlainProbe{Port: 8080, Connected: true, Reply: resp.Reply{Line: "HTTP/1.1 400", Class: resp.NotRedis}}
	noAuth := &ConfigError{Code: "NOAUTH", Err: errors.New("NOAUTH Authentication required.")}
	for _, tc := range []struct {
		name string
		in   PlaintextInput
		want string
	}{
		{"port 0", PlaintextInput{Config: &LiveConfig{TLSPort: 6379, TLSAuthClients: "yes", infoKnown: true, Role: "master"}},
			"OK: plaintext port off (port 0), tls-port 6379\nOK: tls-auth-clients yes\n"},
		{"port open", PlaintextInput{Config: &LiveConfig{Port: 6380, TLSPort: 6379, infoKnown: true, Role: "master"}},
			"CRITICAL: plaintext port 6380 is open (live config; set port 0)\n"},
		{"no config, no probes", PlaintextInput{ConfigErr: noAuth},
			"UNKNOWN: plaintext port not verified: live config unavailable (authentication failed or missing (set $REDIS_USERNAME/$REDIS_PASSWORD)); give --plaintext-port to probe\n"},
		{"no config, probes clean", PlaintextInput{ConfigErr: &ConfigError{Code: "NOPERM", Err: errors.New("NOPERM")}, Probes: []PlainProbe{refused, http}},
			"OK: no plaintext Redis on port 6380: connection refused or unreachable\nOK: no plaintext Redis on port 8080: the answer is not Redis\n" +
				"WARNING: live config unavailable (the user may not run CONFIG GET): only the probed ports are known to refuse plaintext; the port setting, tls-cluster and tls-replication are not verified: give the check a user that may run CONFIG GET and INFO replication\n"},
		{"config broken off, probes clean", PlaintextInput{ConfigErr: &ConfigError{Err: io.ErrUnexpectedEOF}, Probes: []PlainProbe{refused}},
			"OK: no plaintext Redis on port 6380: connection refused or unreachable\nUNKNOWN: live config unreadable: the server broke off (unexpected EOF)\n"},
		{"probes find Redis", PlaintextInput{ConfigErr: noAuth, Probes: []PlainProbe{pong, denied}},
			"CRITICAL: plaintext Redis answers on port 6379 (PONG)\nCRITICAL: plaintext Redis answers on port 6381 (DENIED)\n" +
				"WARNING: live config unavailable (authentication failed or missing (set $REDIS_USERNAME/$REDIS_PASSWORD)): only the probed ports are known to refuse plaintext; the port setting, tls-cluster and tls-replication are not verified: give the check a user that may run CONFIG GET and INFO replication\n"},
		{"cluster without TLS", PlaintextInput{Config: &LiveConfig{ClusterEnabled: true, infoKnown: true, Role: "master"}},
			"OK: plaintext port off (port 0), tls-port 0\nCRITICAL: cluster mode with tls-cluster no: the cluster bus is plaintext and unauthenticated\n"},
		{"replica source", PlaintextInput{Config: &LiveConfig{infoKnown: true, Role: "master", Replicas: 2, TLSReplication: true}},
			"OK: plaintext port off (port 0), tls-port 0\nOK: replica source with 2 replicas; tls-replication yes\n"},
		{"INFO denied", PlaintextInput{Config: &LiveConfig{InfoErr: errors.New("boom")}},
			"OK: plaintext port off (port 0), tls-port 0\nWARNING: replication role unknown: INFO replication failed (boom)\n"},
	} {
		if got := findings(JudgePlaintext(tc.in)); got != tc.want {
			t.Errorf("%s: got\n%swant\n%s", tc.name, got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	ca := certtest.NewCA(t, "Root")
	base := func() Options {
		return Options{Conn: redisconn.Options{Host: "127.0.0.1", Port: 6379}, WarningDays: 30, CriticalDays: 7, MinTLSVersion: "1.2"}
	}
	for _, tc := range []struct {
		name string
		mod  func(*Options)
		want string
	}{
		{"ok", func(*Options) {}, ""},
		{"version TLSv1.3", func(c *Options) { c.MinTLSVersion = "TLSv1.3" }, ""},
		{"bad version", func(c *Options) { c.MinTLSVersion = "1.4" }, `--min-tls-version "1.4": want 1.0, 1.1, 1.2 or 1.3`},
		{"windows crossed", func(c *Options) { c.WarningDays = 5 }, "--warning-days 5 is below --critical-days 7"},
		{"negative", func(c *Options) { c.CriticalDays, c.WarningDays = -1, 3 }, "--warning-days and --critical-days must not be negative"},
		{"bad plaintext port", func(c *Options) { c.PlaintextPorts = []int{6379, 70000} }, "--plaintext-port 70000 is outside 1-65535"},
		{"cert without key", func(c *Options) { c.Conn.Cert = ca.RootFile }, "--cert and --key go together"},
		{"missing CA file", func(c *Options) { c.Conn.CACert = "/nonexistent/ca.pem" }, "--ca-cert /nonexistent/ca.pem: no such file or directory"},
	} {
		c := base()
		tc.mod(&c)
		err := c.Validate(func(string) string { return "" })
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	c := base()
	c.MinTLSVersion = "2"
	if err := c.Validate(nil); !errors.Is(err, ErrBadVersion) {
		t.Errorf("want ErrBadVersion, got %v", err)
	}
}
