package tlscheck

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/certtest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

func TestMain(m *testing.M) { bintest.Main(m) }

// golden runs the binary and compares stdout and the exit code exactly.
func golden(t *testing.T, limit time.Duration, env []string, wantCode int, want string, args ...string) bintest.Result {
	t.Helper()
	bin := bintest.Build(t, Name)
	r := bintest.Run(t, limit, env, append([]string{bin}, args...)...)
	if r.Stdout != want || r.Code != wantCode {
		t.Errorf("exit %d, stdout:\n%s\nwant exit %d, stdout:\n%s", r.Code, r.Stdout, wantCode, want)
	}
	if r.Stderr != "" {
		t.Errorf("stderr must stay empty, got %q", r.Stderr)
	}
	return r
}

func date(tm time.Time) string { return tm.UTC().Format(time.DateOnly) }

func TestGoldenHealthy(t *testing.T) {
	ca := certtest.NewCA(t, "Test Root")
	leaf := ca.Server(t, "redis.test", certtest.ExpiresIn(90*certtest.Day))
	s := startTLS(t, leaf, ca, "requirepass golden-Pa55")
	p := strconv.Itoa(s.Port)
	closed := strconv.Itoa(redistest.FreePort(t))
	want := fmt.Sprintf(`redis-tls-check OK: 127.0.0.1:%[1]s: Redis over TLS 1.3, chain verified, plaintext off, earliest expiry in 90 days
OK: Redis answers PING over TLS (NOAUTH)
OK: chain verified: "redis.test" issued by "Test Root" (the --ca-cert roots)
OK: earliest expiry in 90 days: "redis.test", %[2]s
OK: negotiated TLS 1.3, TLS_AES_128_GCM_SHA256
OK: protocol floor: TLS 1.1 and below refused (TLS 1.1: protocol_version, TLS 1.0: protocol_version, SSL 3.0: handshake_failure: no suite at this version)
OK: versions at or above the floor: accepted TLS 1.2 (ECDHE-ECDSA-AES128-GCM-SHA256), TLS 1.3 (TLS_AES_128_GCM_SHA256)
OK: cipher suites at TLS 1.2: no weak suite accepted (no RSA key exchange, CBC-SHA1, 3DES, RC4, NULL, export or anonymous)
OK: client certificates: the server does not request a client certificate
OK: no plaintext Redis on port %[3]s: connection refused or unreachable
OK: plaintext port off (port 0), tls-port %[1]s
OK: tls-auth-clients no
| check_state=0;;;0;3 days_to_expiry=90;30:;7:
`, p, date(leaf.Cert.NotAfter), closed)
	golden(t, 10*time.Second, []string{"REDIS_PASSWORD=golden-Pa55"}, 0, want,
		"-p", p, "--ca-cert", ca.RootFile, "--server-name", "localhost", "--plaintext-port", closed)
}

func TestGoldenExpiredAndSoon(t *testing.T) {
	ca := certtest.NewCA(t, "Test Root")
	expired := ca.Server(t, "old", certtest.Validity(time.Now().Add(-40*certtest.Day), time.Now().Add(-3*certtest.Day-time.Hour)))
	s := startTLS(t, expired, ca)
	p := strconv.Itoa(s.Port)
	want := fmt.Sprintf(`redis-tls-check CRITICAL: expired: leaf "old" expired %s (3 days ago)
CRITICAL: expired: leaf "old" expired %s (3 days ago)
UNKNOWN: plaintext port not verified: live config unavailable (not asked: credentials are not sent to a server whose certificate failed verification); give --plaintext-port to probe
OK: Redis answers PING over TLS (PONG)
OK: chain verified: "old" issued by "Test Root" (the --ca-cert roots)
OK: negotiated TLS 1.3, TLS_AES_128_GCM_SHA256
OK: protocol floor: TLS 1.1 and below refused (TLS 1.1: protocol_version, TLS 1.0: protocol_version, SSL 3.0: handshake_failure: no suite at this version)
OK: versions at or above the floor: accepted TLS 1.2 (ECDHE-ECDSA-AES128-GCM-SHA256), TLS 1.3 (TLS_AES_128_GCM_SHA256)
OK: cipher suites at TLS 1.2: no weak suite accepted (no RSA key exchange, CBC-SHA1, 3DES, RC4, NULL, export or anonymous)
OK: client certificates: the server does not request a client certificate
| check_state=2;;;0;3 days_to_expiry=-3;30:;7:
`, date(expired.Cert.NotAfter), date(expired.Cert.NotAfter))
	golden(t, 10*time.Second, nil, 2, want, "-p", p, "--ca-cert", ca.RootFile)

	soon := ca.Server(t, "soon", certtest.ExpiresIn(10*certtest.Day))
	s2 := startTLS(t, soon, ca, "tls-auth-clients yes")
	client := ca.Client(t, "monitor")
	p2 := strconv.Itoa(s2.Port)
	want = fmt.Sprintf(`redis-tls-check WARNING: expires soon: leaf "soon" expires %s (in 10 days)
WARNING: expires soon: leaf "soon" expires %s (in 10 days)
OK: Redis answers PING over TLS (PONG)
OK: chain verified: "soon" issued by "Test Root" (the --ca-cert roots)
OK: negotiated TLS 1.3, TLS_AES_128_GCM_SHA256
OK: protocol floor: TLS 1.1 and below refused (TLS 1.1: protocol_version, TLS 1.0: protocol_version, SSL 3.0: handshake_failure: no suite at this version)
OK: versions at or above the floor: accepted TLS 1.2 (ECDHE-ECDSA-AES128-GCM-SHA256), TLS 1.3 (TLS_AES_128_GCM_SHA256)
OK: cipher suites at TLS 1.2: no weak suite accepted (no RSA key exchange, CBC-SHA1, 3DES, RC4, NULL, export or anonymous)
OK: client certificates: the server requires one
OK: client certificates: a self-signed one no authority issued was refused
OK: plaintext port off (port 0), tls-port %s
OK: tls-auth-clients yes
| check_state=1;;;0;3 days_to_expiry=10;30:;7:
`, date(soon.Cert.NotAfter), date(soon.Cert.NotAfter), p2)
	golden(t, 10*time.Second, nil, 1, want, "-p", p2, "--ca-cert", ca.RootFile,
		"--cert", client.CertFile, "--key", client.KeyFile, "--require-client-cert")
}

func TestGoldenPlainRedisOnTLSPort(t *testing.T) {
	s := redistest.Start(t, redistest.Spec{})
	p := strconv.Itoa(s.Port)
	r := golden(t, 5*time.Second, nil, 2,
		"redis-tls-check CRITICAL: not TLS on 127.0.0.1:"+p+": plaintext Redis answers PING there (PONG)\n"+
			"CRITICAL: not TLS on 127.0.0.1:"+p+": plaintext Redis answers PING there (PONG)\n"+
			"| check_state=2;;;0;3\n",
		"-p", p, "--timeout", "2s")
	if r.Elapsed > 2*time.Second {
		t.Errorf("took %v with a 2s deadline", r.Elapsed)
	}
}

func TestGoldenSilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(io.Discard, c) }() // accept, never answer
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	p := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	line := "no TLS handshake on 127.0.0.1:" + p + " within 400ms: the server accepted the connection and stayed silent"
	r := golden(t, 5*time.Second, nil, 3, "redis-tls-check UNKNOWN: "+line+"\nUNKNOWN: "+line+"\n| check_state=3;;;0;3\n", "-p", p, "--timeout", "1s")
	if r.Elapsed > 1300*time.Millisecond {
		t.Errorf("took %v with a 1s deadline", r.Elapsed)
	}
}

func TestGoldenBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--min-tls-version", "1.4"}, "redis-tls-check UNKNOWN: --min-tls-version \"1.4\": want 1.0, 1.1, 1.2 or 1.3\n| check_state=3;;;0;3\n"},
		{[]string{"--warning-days", "3"}, "redis-tls-check UNKNOWN: --warning-days 3 is below --critical-days 7\n| check_state=3;;;0;3\n"},
		{[]string{"--plaintext-port", "0"}, "redis-tls-check UNKNOWN: --plaintext-port 0 is outside 1-65535\n| check_state=3;;;0;3\n"},
		{[]string{"--password", "x"}, "redis-tls-check UNKNOWN: --password is not accepted: a password on the command line is visible in ps and in the check definition; set $REDIS_PASSWORD (a Sensu secret) instead\n| check_state=3;;;0;3\n"},
	} {
		golden(t, 5*time.Second, nil, 3, tc.want, tc.args...)
	}
}

// TestGoldenBlackHoled runs the check in a network namespace where
// 192.0.2.2 sits behind a veth whose other end has no address: the SYN
// leaves and nothing ever answers, as behind a firewall that drops.
func TestGoldenBlackHoled(t *testing.T) {
	testenv.RequireRoot(t)
	ip := testenv.RequireTool(t, "ip")
	var b [3]byte
	_, _ = rand.Read(b[:])
	ns := fmt.Sprintf("rtc-%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
	sh := func(args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, ip, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	sh("netns", "add", ns)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = exec.CommandContext(ctx, ip, "netns", "del", ns).Run()
	})
	sh("-n", ns, "link", "set", "lo", "up")
	sh("-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
	sh("-n", ns, "addr", "add", "192.0.2.1/24", "dev", "v0")
	sh("-n", ns, "link", "set", "v0", "up")
	sh("-n", ns, "link", "set", "v1", "up")
	sh("-n", ns, "neigh", "add", "192.0.2.2", "lladdr", "02:00:00:00:00:02", "dev", "v0", "nud", "permanent")

	bin := bintest.Build(t, Name)
	r := bintest.Run(t, 5*time.Second, nil, ip, "netns", "exec", ns, bin, "-H", "192.0.2.2", "--plaintext-port", "6380", "--timeout", "1s")
	want := "redis-tls-check UNKNOWN: no TCP connection to 192.0.2.2:6379 within 400ms: filtered, black-holed or down\n" +
		"UNKNOWN: no TCP connection to 192.0.2.2:6379 within 400ms: filtered, black-holed or down\n" +
		"OK: no plaintext Redis on port 6380: no connection before the deadline\n" +
		"| check_state=3;;;0;3\n"
	if r.Code != 3 || r.Stdout != want || r.Stderr != "" {
		t.Fatalf("exit %d, stdout:\n%s\nstderr %q\nwant exit 3, stdout:\n%s", r.Code, r.Stdout, r.Stderr, want)
	}
	if r.Elapsed > 1500*time.Millisecond {
		t.Errorf("took %v with a 1s deadline", r.Elapsed)
	}
}
