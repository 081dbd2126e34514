// Package redisconn holds the connection options every check that talks to
// a Redis server shares, spelled like redis-cli where it can be, and turns
// them into dialers, TLS configurations and clients.
package redisconn

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/plugin"
)

// Environment variables for credentials. Passwords are never flags: a flag
// shows in `ps` and in the check definition.
const (
	PasswordEnv = "REDIS_PASSWORD"
	UsernameEnv = "REDIS_USERNAME"
)

// Options are the shared connection settings.
type Options struct {
	Host               string
	Port               int
	Username           string
	Password           string // from $REDIS_PASSWORD only
	TLS                bool
	CACert             string
	Cert               string
	Key                string
	ServerName         string
	InsecureSkipVerify bool
	Socket             string // UNIX socket path (unix.go); replaces Host and Port
}

// ConfigOptions returns the options that fill o. defaultPort lets
// Sentinel-oriented checks default to 26379.
func (o *Options) ConfigOptions(defaultPort int) []plugin.ConfigOption {
	return []plugin.ConfigOption{
		&plugin.Option[string]{Path: "host", Argument: "host", Shorthand: "H", Env: "REDIS_HOST",
			Default: "127.0.0.1", Value: &o.Host, Usage: "Redis host name or address (IPv6 literals with or without brackets) [$REDIS_HOST]"},
		&plugin.Option[int]{Path: "port", Argument: "port", Shorthand: "p", Env: "REDIS_PORT",
			Default: defaultPort, Value: &o.Port, Usage: "Redis port [$REDIS_PORT]"},
		&plugin.Option[string]{Path: "username", Argument: "username", Env: UsernameEnv,
			Value: &o.Username, Usage: "ACL user name [$" + UsernameEnv + "]; the password is read from $" + PasswordEnv + " only"},
		&plugin.Option[bool]{Path: "tls", Argument: "tls", Value: &o.TLS,
			Usage: "connect with TLS"},
		&plugin.Option[string]{Path: "ca-cert", Argument: "ca-cert", Value: &o.CACert,
			Usage: "`FILE` of PEM CA certificates to verify the server with (default: system roots)"},
		&plugin.Option[string]{Path: "cert", Argument: "cert", Value: &o.Cert,
			Usage: "`FILE` holding the PEM client certificate to present (with --key)"},
		&plugin.Option[string]{Path: "key", Argument: "key", Value: &o.Key,
			Usage: "`FILE` holding the PEM private key of --cert"},
		&plugin.Option[string]{Path: "server-name", Argument: "server-name", Value: &o.ServerName,
			Usage: "TLS server name (SNI and verification; default: --host)"},
		&plugin.Option[bool]{Path: "insecure-skip-verify", Argument: "insecure-skip-verify", Value: &o.InsecureSkipVerify,
			Usage: "do not verify the server certificate (the connection is still encrypted)"},
	}
}

// Validate normalises the options and reports bad input. getenv supplies
// the password (os.Getenv in production).
func (o *Options) Validate(getenv func(string) string) error {
	o.Host = strings.TrimSpace(o.Host)
	if strings.HasPrefix(o.Host, "[") && strings.HasSuffix(o.Host, "]") {
		o.Host = o.Host[1 : len(o.Host)-1]
	}
	if o.Host == "" {
		return errors.New("--host must not be empty")
	}
	if strings.HasPrefix(o.Host, "/") {
		return fmt.Errorf("--host %q is a path: a UNIX socket goes to --socket (redis-auth-check, redis-bind-check)", o.Host)
	}
	if strings.ContainsAny(o.Host, " /") {
		return fmt.Errorf("--host %q is not a host name or address", o.Host)
	}
	if o.Port < 1 || o.Port > 65535 {
		return fmt.Errorf("--port %d is outside 1-65535", o.Port)
	}
	if (o.Cert == "") != (o.Key == "") {
		return errors.New("--cert and --key go together")
	}
	// In a fixed order: the same bad input must give the same answer.
	for _, f := range []struct{ flag, path string }{{"--ca-cert", o.CACert}, {"--cert", o.Cert}, {"--key", o.Key}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return fmt.Errorf("%s %s: %w", f.flag, f.path, errors.Unwrap(err))
		}
	}
	if err := o.validateSocket(); err != nil {
		return err
	}
	if getenv != nil {
		o.Password = getenv(PasswordEnv)
	}
	if o.TLS || o.CACert != "" || o.Cert != "" {
		if _, err := o.TLSConfig(); err != nil {
			return err
		}
	}
	return nil
}

// Addr is host:port, bracketed for IPv6, or the UNIX socket's path.
func (o *Options) Addr() string {
	if o.Socket != "" {
		return o.Socket
	}
	return net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
}

// IsLocal reports whether Host names this machine's loopback, where the
// local-only sources (config file, sockets) describe the same server.
func (o *Options) IsLocal() bool {
	if o.Socket != "" || o.Host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(o.Host)
	return err == nil && a.IsLoopback()
}
