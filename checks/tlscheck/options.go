// Package tlscheck verifies that a Redis server's TLS port is on, sound and
// the only way in: it handshakes as a TLS scanner would, speaks Redis over
// the connection, judges the certificate chain, expiry, protocol floor and
// client-certificate policy, and makes sure plaintext is off.
//
// The judgement functions (verify.go, expiry.go, clientcert.go,
// protocol.go, plaintext.go) are pure: they take what the probes observed
// and return findings, so they are tested without a network.
package tlscheck

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/deploy"
	"github.com/sensu-community/sensu-redis-security-checks/checks/plugin"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisport"
)

// DefaultPort is the TLS port probed unless --port says otherwise. Redis
// has no registered TLS port; deployments that switch TLS on usually move it
// to 6379 and set "port 0", so that is the default here.
const DefaultPort = int(redisport.Data)

// Options are the check's settings.
type Options struct {
	Conn redisconn.Options

	WarningDays       int
	CriticalDays      int
	MinTLSVersion     string
	RequireClientCert bool
	PlaintextPorts    []int
	Discover          deploy.Options

	// set by Validate
	floor uint16
}

// Options returns the shared connection options followed by the check's own.
func (c *Options) ConfigOptions() []plugin.ConfigOption {
	return append(append(c.Conn.ConfigOptions(DefaultPort),
		&plugin.Option[int]{Path: "warning-days", Argument: "warning-days", Default: 30, Value: &c.WarningDays,
			Usage: "WARNING when a certificate of the chain expires within this many days"},
		&plugin.Option[int]{Path: "critical-days", Argument: "critical-days", Default: 7, Value: &c.CriticalDays,
			Usage: "CRITICAL when a certificate of the chain expires within this many days"},
		&plugin.Option[string]{Path: "min-tls-version", Argument: "min-tls-version", Default: "1.2", Value: &c.MinTLSVersion,
			Usage: "protocol floor (1.0, 1.1, 1.2, 1.3): a handshake below it must be refused"},
		&plugin.Option[bool]{Path: "require-client-cert", Argument: "require-client-cert", Value: &c.RequireClientCert,
			Usage: "CRITICAL unless the server requires a client certificate (tls-auth-clients yes)"},
		&plugin.SliceOption[int]{Path: "plaintext-port", Argument: "plaintext-port", Value: &c.PlaintextPorts,
			Usage: "port that must not answer plaintext Redis (repeatable)"},
	), c.Discover.ConfigOptions()...)
}

// Validate checks the options; getenv supplies $REDIS_PASSWORD.
func (c *Options) Validate(getenv func(string) string) error {
	// This check always speaks TLS; --tls is accepted for symmetry with
	// the other checks and changes nothing.
	c.Conn.TLS = true
	if err := c.Conn.Validate(getenv); err != nil {
		return err
	}
	if c.CriticalDays < 0 || c.WarningDays < 0 {
		return errors.New("--warning-days and --critical-days must not be negative")
	}
	if c.WarningDays < c.CriticalDays {
		return fmt.Errorf("--warning-days %d is below --critical-days %d", c.WarningDays, c.CriticalDays)
	}
	v, err := ParseVersion(c.MinTLSVersion)
	if err != nil {
		return err
	}
	c.floor = v
	for _, p := range c.PlaintextPorts {
		if p < 1 || p > 65535 {
			return fmt.Errorf("--plaintext-port %d is outside 1-65535", p)
		}
	}
	return c.Discover.Validate()
}

// ErrBadVersion is returned for a --min-tls-version that is not a TLS
// version.
var ErrBadVersion = errors.New("want 1.0, 1.1, 1.2 or 1.3")

// ParseVersion reads "1.2", "TLS1.2" or "TLSv1.2".
func ParseVersion(s string) (uint16, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimPrefix(strings.TrimPrefix(t, "tls"), "v")
	switch t {
	case "1.0", "1":
		return tls.VersionTLS10, nil
	case "1.1":
		return tls.VersionTLS11, nil
	case "1.2":
		return tls.VersionTLS12, nil
	case "1.3":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("--min-tls-version %q: %w", s, ErrBadVersion)
}

// versionName is "TLS 1.2" for a version number.
func versionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLS 1.0"
	case tls.VersionTLS11:
		return "TLS 1.1"
	case tls.VersionTLS12:
		return "TLS 1.2"
	case tls.VersionTLS13:
		return "TLS 1.3"
	case tls.VersionSSL30:
		return "SSL 3.0"
	}
	return fmt.Sprintf("TLS version 0x%04x", v)
}

// days is how many whole days d covers, truncated toward zero (negative
// for the past): "expired 1 day ago" for 1 day and 3 hours.
func days(d time.Duration) int { return int(d / (24 * time.Hour)) }

// dayCount is "1 day" or "N days".
func dayCount(n int) string {
	if n == 1 || n == -1 {
		return fmt.Sprintf("%d day", n)
	}
	return fmt.Sprintf("%d days", n)
}
