package redisconn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSConfig builds the client TLS configuration from the options. The
// minimum version is left at Go's default (TLS 1.2) so probes can report
// what the server offers; checks that want a floor set it themselves.
func (o *Options) TLSConfig() (*tls.Config, error) {
	cfg := &tls.Config{
		ServerName:         o.ServerName,
		InsecureSkipVerify: o.InsecureSkipVerify,
	}
	if cfg.ServerName == "" {
		cfg.ServerName = o.Host
	}
	if o.CACert != "" {
		pool, err := LoadCAFile(o.CACert)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if o.Cert != "" {
		pair, err := tls.LoadX509KeyPair(o.Cert, o.Key)
		if err != nil {
			return nil, fmt.Errorf("--cert/--key: %v", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// maxPEM caps a CA bundle; system bundles are about 200 KiB.
const maxPEM = 8 << 20

// LoadCAFile reads a PEM bundle and fails if it holds no certificate.
func LoadCAFile(path string) (*x509.CertPool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--ca-cert %s: %w", path, errors.Unwrap(err))
	}
	if fi.Size() > maxPEM {
		return nil, fmt.Errorf("--ca-cert %s: larger than %d bytes", path, maxPEM)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--ca-cert %s: %w", path, errors.Unwrap(err))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("--ca-cert %s: no PEM certificate in it", path)
	}
	return pool, nil
}
