package redisconn

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"
	"github.com/sensu-community/sensu-redis-security-checks/checks/neterr"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
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
// and every call bounded by its context. Its connections pass through
// resp.Guard: a reply over resp.DefaultLimits fails the command with a
// *resp.FrameError before the client allocates for it, and no read or write
// outlives ctx's deadline (the client dials under a context of its own).
func (o *Options) Client(ctx context.Context) *redis.Client {
	deadline, _ := ctx.Deadline()
	return redis.NewClient(&redis.Options{
		Addr:     o.Addr(),
		Username: o.Username,
		Password: o.Password,
		Dialer: func(dctx context.Context, network, addr string) (net.Conn, error) {
			c, err := o.dial(dctx, network, addr)
			if err != nil {
				return nil, err
			}
			return resp.Guard(c, resp.DefaultLimits, deadline), nil
		},
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
// "DENIED", …), or "" when err is not a reply from the server or its first
// word is no error code. The code is the protocol's own classification,
// unlike the human text after it.
func ErrorCode(err error) string {
	var re redis.Error
	if err == nil || !errors.As(err, &re) {
		return ""
	}
	code, _, _ := strings.Cut(re.Error(), " ")
	if !resp.IsErrorCode(code) {
		return "" // not a code: an echo of the request, or noise
	}
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

// Broken reports a command that failed after the connection was made, and
// not with an error reply: a reply the guard refused (resp.ErrReplyTooLarge,
// resp.ErrBadFrame), a close or silence mid-reply, a reply go-redis could not
// parse, an error reply without an error code, a nil reply (redis.Nil: no
// command a check sends has nil for an answer). No real server does that, so
// what it said before is not to be trusted as the whole truth either.
func Broken(err error) bool {
	if err == nil || ErrorCode(err) != "" {
		return false
	}
	return neterr.Classify(err) == neterr.Guard || !neterr.InDial(err)
}
