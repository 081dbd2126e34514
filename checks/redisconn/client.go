package redisconn

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"
)

// Dial opens a plain or TLS connection to the server within ctx. The TLS
// handshake is part of the dial, so a server that accepts and never
// handshakes costs no more than the deadline.
func (o *Options) Dial(ctx context.Context) (net.Conn, error) {
	return o.dial(ctx, "tcp", o.Addr()) // o.endpoint picks the socket when given
}

func (o *Options) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	network, addr = o.endpoint(network, addr)
	var d net.Dialer
	if !o.TLS {
		return d.DialContext(ctx, network, addr)
	}
	cfg, err := o.TLSConfig()
	if err != nil {
		return nil, err
	}
	td := tls.Dialer{NetDialer: &d, Config: cfg}
	return td.DialContext(ctx, network, addr)
}

// Client returns a go-redis client for one-shot commands: one connection,
// no retries, RESP2 (understood by every server version and by Sentinel),
// no CLIENT SETINFO (it would fail on older servers and clutter ACL logs),
// and every call bounded by its context.
func (o *Options) Client() *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:                  o.Addr(),
		Username:              o.Username,
		Password:              o.Password,
		Dialer:                o.dial,
		Protocol:              2,
		DisableIdentity:       true,
		MaxRetries:            -1,
		DialerRetries:         1,
		PoolSize:              1,
		MinIdleConns:          0,
		ContextTimeoutEnabled: true,
	})
}

// The client library logs dial failures to stderr, which the Sensu agent
// would paste into the alert; the checks report errors themselves.
func init() { redis.SetLogger(&logging.VoidLogger{}) }

// ErrorCode returns the code of a Redis error reply ("NOAUTH", "ERR",
// "DENIED", …), or "" when err is not a reply from the server. The code is
// the protocol's own classification, unlike the human text after it.
func ErrorCode(err error) string {
	var re redis.Error
	if err == nil || !errors.As(err, &re) {
		return ""
	}
	code, _, _ := strings.Cut(re.Error(), " ")
	return code
}

// IsUnknownCommand reports an "ERR unknown command" reply, which is how a
// renamed or disabled command (rename-command CONFIG "") answers.
func IsUnknownCommand(err error) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return false
	}
	return strings.HasPrefix(re.Error(), "ERR unknown command")
}

// UnknownCommandName returns the command an "ERR unknown command 'X'" reply
// names (backticks before 7.0, quotes since), so that a message can say
// which command was missing rather than guess from what was sent. ok is
// false for any other error; name is "" when the reply names nothing
// readable (it is capped and limited to printable ASCII: a hostile server
// chooses it).
func UnknownCommandName(err error) (name string, ok bool) {
	if !IsUnknownCommand(err) {
		return "", false
	}
	var re redis.Error
	errors.As(err, &re)
	rest := strings.TrimPrefix(re.Error(), "ERR unknown command ")
	if rest == "" || (rest[0] != '\'' && rest[0] != '`') {
		return "", true
	}
	end := strings.IndexByte(rest[1:], rest[0])
	if end < 0 {
		return "", true
	}
	name = rest[1 : 1+end]
	if len(name) > 40 {
		return "", true
	}
	for _, c := range name {
		if c <= ' ' || c > '~' {
			return "", true
		}
	}
	return strings.ToUpper(name), true
}
