package tlscheck

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/certtest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	. "github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// openssl s_client is the oracle: for each server configuration and each
// Redis version here, the probes' verdict per protocol version and the
// weak suites they found must match what s_client can negotiate.

var sClientFlag = map[uint16]string{versionTLS10: "-tls1", versionTLS11: "-tls1_1", versionTLS12: "-tls1_2", versionTLS13: "-tls1_3"}

const allTLS13 = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"

// sClient reports whether openssl completes a handshake at version
// offering ciphers (an OpenSSL cipher string).
func sClient(t *testing.T, openssl string, port int, version uint16, ciphers string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, openssl, "s_client", "-connect", "127.0.0.1:"+strconv.Itoa(port),
		sClientFlag[version], "-cipher", ciphers+":@SECLEVEL=0", "-ciphersuites", allTLS13).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("openssl s_client timed out")
	}
	return err == nil && strings.Contains(string(out), ", Cipher is ") && !strings.Contains(string(out), "Cipher is (NONE)")
}

var (
	knownMu sync.Mutex
	known   = map[string]bool{}
)

// knownToOpenSSL reports whether the local openssl has the suite (OpenSSL
// 3 leaves SEED, IDEA, RC4 and the export suites to its legacy provider).
func knownToOpenSSL(t *testing.T, openssl, name string) bool {
	knownMu.Lock()
	defer knownMu.Unlock()
	if k, ok := known[name]; ok {
		return k
	}
	err := exec.Command(openssl, "ciphers", name+":@SECLEVEL=0").Run()
	known[name] = err == nil
	return err == nil
}

func TestProbesAgainstOpenSSL(t *testing.T) {
	openssl := testenv.RequireTool(t, "openssl")
	ca := certtest.NewCA(t, "Test Root")
	leaf := ca.ServerRSA(t, "redis-rsa")
	all := `"TLSv1 TLSv1.1 TLSv1.2 TLSv1.3"`
	for _, tc := range []struct {
		name   string
		conf   []string
		suites bool // compare the weak suites suite by suite
	}{
		{"default", nil, true},
		{"DHE only, every version", []string{"tls-protocols " + all, `tls-ciphers "DHE-RSA-AES128-SHA:@SECLEVEL=0"`}, false},
		{"every version, DEFAULT at level 0", []string{"tls-protocols " + all, "tls-ciphers DEFAULT:@SECLEVEL=0"}, true},
		{"TLS 1.3 only", []string{`tls-protocols "TLSv1.3"`}, false},
		{"TLS 1.2 strong only", []string{`tls-protocols "TLSv1.2"`, `tls-ciphers "` + strongCiphers + `"`}, true},
		{"NULL and anonymous", []string{`tls-protocols "TLSv1.2 TLSv1.3"`, "tls-ciphers ALL:eNULL:@SECLEVEL=0"}, true},
	} {
		for label, bin := range redistest.Binaries(t) {
			t.Run(tc.name+"/"+label, func(t *testing.T) {
				s := redistest.Start(t, redistest.Spec{Binary: bin, NoPort: true, ReadyAddr: "-", Config: append([]string{
					"port 0", "tls-port {{PORT}}", "tls-cert-file " + leaf.ChainFile, "tls-key-file " + leaf.KeyFile,
					"tls-ca-cert-file " + ca.RootFile, "tls-auth-clients no"}, tc.conf...)})
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				sc := scanVersions(ctx, s.Addr(), "")
				cancel()

				accepted := map[uint16]bool{}
				for _, p := range sc.Probes {
					v := judgeHello(p)
					if v.Verdict == verdictUnknown {
						t.Errorf("%s: no verdict: %s", versionName(p.Offered), v.Why)
						continue
					}
					if p.Offered == versionSSL30 {
						// OpenSSL 3 cannot speak SSL 3.0, on either side.
						if v.Verdict != verdictRefused {
							t.Errorf("SSL 3.0 accepted by an OpenSSL 3 server")
						}
						continue
					}
					accepted[p.Offered] = v.Verdict == verdictAccepted
					if want := sClient(t, openssl, s.Port, p.Offered, "ALL:eNULL"); want != accepted[p.Offered] {
						t.Errorf("%s: probe says accepted=%v (%s), openssl s_client %v", versionName(p.Offered), accepted[p.Offered], v.Why, want)
					}
				}

				found := map[uint16]bool{}
				for _, st := range sc.Suites.Steps {
					if judgeHello(st).Verdict == verdictAccepted {
						found[st.Reply.Suite] = true
					}
				}
				if tc.suites && sc.Suites.Version != 0 {
					// Each suite found (a sample: s_client is slow on a busy
					// machine) completes a handshake on its own; all the
					// weak suites not found together complete none.
					var missed []string
					sampled := 0
					for _, su := range suites {
						if su.TLS13 || su.Weak == 0 || !knownToOpenSSL(t, openssl, su.Name) {
							continue
						}
						if !found[su.ID] {
							missed = append(missed, su.Name)
							continue
						}
						if sampled < 4 || su.Weak&broken != 0 && sampled < 8 {
							sampled++
							if !sClient(t, openssl, s.Port, sc.Suites.Version, su.Name) {
								t.Errorf("%s at %s: probe found it, openssl s_client cannot negotiate it", su.Name, versionName(sc.Suites.Version))
							}
						}
					}
					if len(missed) > 0 && sClient(t, openssl, s.Port, sc.Suites.Version, strings.Join(missed, ":")) {
						t.Errorf("openssl s_client negotiates one of %v at %s, the probes found none", missed, versionName(sc.Suites.Version))
					}
				}

				// The whole check reports what openssl could do.
				r := run(t, config(s.Port, ca), nil, deadline)
				for _, v := range []uint16{versionTLS10, versionTLS11} {
					if got := has(r, Critical, "protocol floor: the server accepts "+versionName(v)+","); got != accepted[v] {
						t.Errorf("%s accepted=%v, check reports it: %v\n%s", versionName(v), accepted[v], got, render(r))
					}
				}
				switch {
				case len(found) > 0:
					if !has(r, Warning, "weak cipher suites at") && !has(r, Critical, "cipher suites at") {
						t.Errorf("weak suites %v not reported\n%s", found, render(r))
					}
				case sc.Suites.Version != 0:
					if !has(r, OK, "no weak suite accepted") {
						t.Errorf("no weak suite, yet:\n%s", render(r))
					}
				}
				if strings.Contains(tc.name, "NULL") && !has(r, Critical, "NULL-SHA (no encryption") {
					t.Errorf("NULL suites not CRITICAL\n%s", render(r))
				}
			})
		}
	}
}
