package certtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func verify(ca *CA, c *Cert, host string, at time.Time) error {
	inter := x509.NewCertPool()
	for _, i := range c.Chain {
		inter.AddCert(i)
	}
	_, err := c.Cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), Intermediates: inter, DNSName: host, CurrentTime: at})
	return err
}

func TestMintedCertificatesVerifyAsIntended(t *testing.T) {
	ca := NewCA(t, "root")
	other := NewCA(t, "other root")
	inter := ca.Intermediate(t, "intermediate")
	now := time.Now()

	var invalid x509.CertificateInvalidError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	for _, tc := range []struct {
		name  string
		cert  *Cert
		host  string
		check func(error) bool
	}{
		{"valid", ca.Server(t, "valid"), "localhost", func(err error) bool { return err == nil }},
		{"valid by IP", ca.Server(t, "ip"), "127.0.0.1", func(err error) bool { return err == nil }},
		{"via intermediate", inter.Server(t, "chained"), "localhost", func(err error) bool { return err == nil }},
		{"expired", ca.Server(t, "expired", Expired()), "localhost", func(err error) bool {
			return errors.As(err, &invalid) && invalid.Reason == x509.Expired && invalid.Cert.NotAfter.Before(now)
		}},
		{"not yet valid", ca.Server(t, "future", NotYetValid()), "localhost", func(err error) bool {
			return errors.As(err, &invalid) && invalid.Reason == x509.Expired && invalid.Cert.NotBefore.After(now)
		}},
		{"wrong host", ca.Server(t, "wronghost", Hosts("redis.example.net")), "localhost", func(err error) bool { return errors.As(err, &host) }},
		{"wrong CA", other.Server(t, "foreign"), "localhost", func(err error) bool { return errors.As(err, &unknown) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := verify(ca, tc.cert, tc.host, now); !tc.check(err) {
				t.Fatalf("verify: %v", err)
			}
		})
	}

	soon := ca.Server(t, "soon", ExpiresIn(10*Day))
	if left := time.Until(soon.Cert.NotAfter); left < 10*Day || left > 10*Day+2*time.Hour {
		t.Fatalf("ExpiresIn(10 days) expires in %v", left)
	}
	if got := len(inter.Server(t, "chained2").Presented()); got != 2 {
		t.Fatalf("a leaf under an intermediate presents %d certificates, want 2", got)
	}
}

func TestFilesLoadInGoAndOpenSSL(t *testing.T) {
	ca := NewCA(t, "root")
	inter := ca.Intermediate(t, "intermediate")
	leaf := inter.Server(t, "server")
	if _, err := tls.LoadX509KeyPair(leaf.ChainFile, leaf.KeyFile); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(leaf.ChainFile)
	if err != nil || strings.Count(string(b), "BEGIN CERTIFICATE") != 2 {
		t.Fatalf("chain file: %v, %d certificates", err, strings.Count(string(b), "BEGIN CERTIFICATE"))
	}
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, openssl, "verify", "-CAfile", ca.RootFile, "-untrusted", inter.CertFile, leaf.CertFile).CombinedOutput()
	if err != nil || !strings.Contains(string(out), ": OK") {
		t.Fatalf("openssl verify: %v\n%s", err, out)
	}
}
