// Package certtest mints real X.509 certificates for tests: root and
// intermediate CAs, server and client leaves, valid or deliberately broken
// (expired, not yet valid, expiring soon, for the wrong host, from another
// CA). Everything is written as PEM into the test's temporary directory so a
// real redis-server or openssl can load it, and is also kept in memory for
// tests that build a tls.Config directly.
//
// Keys are ECDSA P-256: fast to generate, accepted by OpenSSL and Go.
package certtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// Day is 24 hours, the unit expiry windows are set in.
const Day = 24 * time.Hour

// Cert is a minted certificate with its key and, for leaves and
// intermediates, the chain of issuers up to (not including) the root.
type Cert struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// Chain holds the issuing intermediates, nearest first (empty when the
	// issuer is a root).
	Chain []*x509.Certificate

	// CertFile holds the certificate alone, KeyFile its PKCS#8 key, and
	// ChainFile the certificate followed by Chain (what a server presents;
	// redis-server's tls-cert-file accepts it).
	CertFile, KeyFile, ChainFile string

	dir string
}

// CA is a certificate that can issue others.
type CA struct {
	Cert
	// Root is the self-signed root of this CA's hierarchy.
	Root *x509.Certificate
	// RootFile is the PEM of Root: what --ca-cert or tls-ca-cert-file
	// should name to trust this hierarchy.
	RootFile string
}

// Option changes the template before it is signed.
type Option func(*x509.Certificate)

// Validity sets the validity window explicitly.
func Validity(notBefore, notAfter time.Time) Option {
	return func(c *x509.Certificate) { c.NotBefore, c.NotAfter = notBefore, notAfter }
}

// ExpiresIn makes the certificate valid since a day ago and expire after d
// (plus one hour, so "ExpiresIn(10*Day)" still reads as 10 whole days while
// the test runs).
func ExpiresIn(d time.Duration) Option {
	now := time.Now()
	return Validity(now.Add(-Day), now.Add(d+time.Hour))
}

// Expired makes a certificate that expired a day ago.
func Expired() Option {
	now := time.Now()
	return Validity(now.Add(-30*Day), now.Add(-Day))
}

// NotYetValid makes a certificate that becomes valid in a day.
func NotYetValid() Option {
	now := time.Now()
	return Validity(now.Add(Day), now.Add(365*Day))
}

// Hosts sets the subject alternative names: IP literals become IP SANs,
// anything else a DNS name. It replaces the default ("localhost",
// 127.0.0.1, ::1).
func Hosts(names ...string) Option {
	return func(c *x509.Certificate) {
		c.DNSNames, c.IPAddresses = nil, nil
		for _, n := range names {
			if ip := net.ParseIP(n); ip != nil {
				c.IPAddresses = append(c.IPAddresses, ip)
			} else {
				c.DNSNames = append(c.DNSNames, n)
			}
		}
	}
}

// CommonName sets the subject's common name.
func CommonName(cn string) Option {
	return func(c *x509.Certificate) { c.Subject = pkix.Name{CommonName: cn} }
}

// DefaultHosts are the names a leaf gets unless Hosts says otherwise.
var DefaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// NewCA mints a self-signed root CA (valid from 90 days ago for ten years,
// unless the options say otherwise), written under a fresh directory of t.
func NewCA(t testing.TB, name string, opts ...Option) *CA {
	t.Helper()
	return newCA(t, t.TempDir(), name, opts...)
}

func newCA(t testing.TB, dir, name string, opts ...Option) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := caTemplate(name, opts)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatalf("certtest: signing root %s: %v", name, err)
	}
	c := parse(t, der)
	ca := &CA{Cert: Cert{Cert: c, Key: key, dir: dir}, Root: c}
	ca.write(t, name)
	ca.RootFile = ca.CertFile
	return ca
}

// Intermediate mints a CA signed by ca.
func (ca *CA) Intermediate(t testing.TB, name string, opts ...Option) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := caTemplate(name, opts)
	tmpl.MaxPathLen, tmpl.MaxPathLenZero = 0, true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatalf("certtest: signing intermediate %s: %v", name, err)
	}
	ic := &CA{Cert: Cert{Cert: parse(t, der), Key: key, dir: ca.dir}, Root: ca.Root, RootFile: ca.RootFile}
	ic.Chain = ca.issuerChain()
	ic.write(t, name)
	return ic
}

// Server mints a server certificate (serverAuth) for DefaultHosts unless
// the options say otherwise, valid for a year around now by default.
func (ca *CA) Server(t testing.TB, name string, opts ...Option) *Cert {
	t.Helper()
	return ca.leaf(t, name, x509.ExtKeyUsageServerAuth, opts)
}

// Client mints a client certificate (clientAuth).
func (ca *CA) Client(t testing.TB, name string, opts ...Option) *Cert {
	t.Helper()
	return ca.leaf(t, name, x509.ExtKeyUsageClientAuth, opts)
}

// Both mints a certificate good for server and client authentication, as
// redis-server wants for tls-replication and tls-cluster links.
func (ca *CA) Both(t testing.TB, name string, opts ...Option) *Cert {
	t.Helper()
	return ca.leaf(t, name, -1, opts)
}

// ServerRSA mints a server certificate with a 2048-bit RSA key, for the
// cipher suites with RSA key exchange or RSA authentication (DHE-RSA-*).
func (ca *CA) ServerRSA(t testing.TB, name string, opts ...Option) *Cert {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("certtest: %v", err)
	}
	return ca.leafWithKey(t, name, x509.ExtKeyUsageServerAuth, opts, key)
}

func (ca *CA) leaf(t testing.TB, name string, usage x509.ExtKeyUsage, opts []Option) *Cert {
	t.Helper()
	return ca.leafWithKey(t, name, usage, opts, newKey(t))
}

func (ca *CA) leafWithKey(t testing.TB, name string, usage x509.ExtKeyUsage, opts []Option, key crypto.Signer) *Cert {
	t.Helper()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * Day),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if _, ok := key.(*rsa.PrivateKey); ok {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment // RSA key exchange
	}
	if usage < 0 {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
	}
	Hosts(DefaultHosts...)(tmpl)
	for _, o := range opts {
		o(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatalf("certtest: signing %s: %v", name, err)
	}
	c := &Cert{Cert: parse(t, der), Key: key, Chain: ca.issuerChain(), dir: ca.dir}
	c.write(t, name)
	return c
}

// issuerChain is what a certificate issued by ca carries: ca itself when it
// is an intermediate, followed by ca's own chain.
func (ca *CA) issuerChain() []*x509.Certificate {
	if ca.Cert.Cert.Equal(ca.Root) {
		return nil
	}
	return append([]*x509.Certificate{ca.Cert.Cert}, ca.Chain...)
}

// Pool returns a pool holding only the root.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Root)
	return p
}

// TLSCertificate returns the certificate, its chain and key for a
// tls.Config.
func (c *Cert) TLSCertificate() tls.Certificate {
	tc := tls.Certificate{PrivateKey: c.Key, Leaf: c.Cert, Certificate: [][]byte{c.Cert.Raw}}
	for _, i := range c.Chain {
		tc.Certificate = append(tc.Certificate, i.Raw)
	}
	return tc
}

// Presented is the certificate followed by its chain, as a server sends it
// (tls.ConnectionState.PeerCertificates).
func (c *Cert) Presented() []*x509.Certificate {
	return append([]*x509.Certificate{c.Cert}, c.Chain...)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func (c *Cert) write(t testing.TB, name string) {
	t.Helper()
	base := filepath.Join(c.dir, unsafeName.ReplaceAllString(name, "_"))
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		t.Fatalf("certtest: %v", err)
	}
	c.CertFile, c.KeyFile, c.ChainFile = base+".crt", base+".key", base+".chain.crt"
	chain := pemCert(c.Cert)
	for _, i := range c.Chain {
		chain = append(chain, pemCert(i)...)
	}
	for path, body := range map[string][]byte{
		c.CertFile:  pemCert(c.Cert),
		c.KeyFile:   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		c.ChainFile: chain,
	} {
		if _, err := os.Stat(path); err == nil {
			t.Fatalf("certtest: %s minted twice in one directory", name)
		}
		// 0644 even for the key: a redis-server started under another
		// user must read it; these are throw-away test keys.
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatalf("certtest: %v", err)
		}
	}
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// caTemplate: CAs are valid from 90 days ago for ten years by default, so
// leaves minted expired or not yet valid still fall inside their issuer's
// window, as they would in real deployments.
func caTemplate(name string, opts []Option) *x509.Certificate {
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serialOrZero(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-90 * Day),
		NotAfter:              now.Add(10 * 365 * Day),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	for _, o := range opts {
		o(tmpl)
	}
	return tmpl
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("certtest: %v", err)
	}
	return k
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	s := serialOrZero()
	if s.Sign() == 0 {
		t.Fatal("certtest: no randomness for a serial number")
	}
	return s
}

func serialOrZero() *big.Int {
	s, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return big.NewInt(0)
	}
	return s.Add(s, big.NewInt(1)) // serials are positive
}

func parse(t testing.TB, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("certtest: %v", err)
	}
	return c
}
