package tlscheck

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/certtest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// startTLS runs a redis-server with TLS on its port and plaintext off,
// presenting cert (and its chain), trusting ca for client certificates.
func startTLS(t *testing.T, cert *certtest.Cert, ca *certtest.CA, extra ...string) *redistest.Server {
	t.Helper()
	conf := append([]string{
		"port 0",
		"tls-port {{PORT}}",
		"tls-cert-file " + cert.ChainFile,
		"tls-key-file " + cert.KeyFile,
		"tls-ca-cert-file " + ca.RootFile,
		"tls-auth-clients no",
		// Only strong suites, so that tests of other findings stay OK;
		// a later tls-ciphers line in extra overrides it.
		`tls-ciphers "` + strongCiphers + `"`,
	}, extra...)
	return redistest.Start(t, redistest.Spec{NoPort: true, ReadyAddr: "-", Config: conf})
}

// config is the check's configuration for a server on port, trusting ca.
func config(port int, ca *certtest.CA) Options {
	c := Options{
		Conn:          redisconn.Options{Host: "127.0.0.1", Port: port},
		WarningDays:   30,
		CriticalDays:  7,
		MinTLSVersion: "1.2",
	}
	if ca != nil {
		c.Conn.CACert = ca.RootFile
	}
	return c
}

// run validates and runs c like the runner does, returning the final result.
func run(t *testing.T, c Options, env map[string]string, timeout time.Duration) result.Result {
	t.Helper()
	if err := c.Validate(func(k string) string { return env[k] }); err != nil {
		t.Fatalf("validate: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	r := Judge(c, Gather(ctx, &c))
	if el := time.Since(start); el > timeout {
		t.Errorf("Run took %v with a %v deadline", el, timeout)
	}
	r.Finalize()
	return r
}

// render is the result as the binary would print it.
func render(r result.Result) string {
	var b strings.Builder
	_ = result.Render(&b, Name, r)
	return b.String()
}

// has reports whether a finding of state s contains text.
func has(r result.Result, s result.State, text string) bool {
	for _, f := range r.Findings {
		if f.State == s && strings.Contains(f.Text, text) {
			return true
		}
	}
	return false
}

// expect fails unless r has state s and a finding of each state with the
// given texts.
func expect(t *testing.T, r result.Result, s result.State, findings ...any) {
	if os.Getenv("TLSCHECK_DUMP") != "" {
		t.Log(render(r))
	}
	t.Helper()
	if r.State != s {
		t.Errorf("state %v, want %v\n%s", r.State, s, render(r))
	}
	for i := 0; i+1 < len(findings); i += 2 {
		fs, text := findings[i].(result.State), findings[i+1].(string)
		if !has(r, fs, text) {
			t.Errorf("no %v finding containing %q\n%s", fs, text, render(r))
		}
	}
}

func metric(r result.Result, name string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Name == name {
			return m.Value, true
		}
	}
	return 0, false
}

func itoa(i int) string { return strconv.Itoa(i) }
