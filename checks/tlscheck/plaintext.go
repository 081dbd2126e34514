package tlscheck

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// PlainProbe is one plaintext PING attempt.
type PlainProbe struct {
	Port      int
	Connected bool
	Reply     resp.Reply
	Err       error // dial or PING error; nil when a reply line arrived
}

// probePlain connects without TLS and sends PING.
func probePlain(ctx context.Context, host string, port int) PlainProbe {
	p := PlainProbe{Port: port}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		p.Err = err
		return p
	}
	defer conn.Close()
	p.Connected = true
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(5 * time.Second)
	}
	p.Reply, p.Err = resp.Ping(conn, dl)
	return p
}

// AnsweredRedis reports whether the probe got a Redis reply: any of them,
// DENIED and NOAUTH included, proves a plaintext Redis listener.
func (p PlainProbe) AnsweredRedis() bool { return p.Err == nil && p.Reply.Class.IsRedis() }

// JudgePlainProbe: a Redis answer in plaintext is CRITICAL; anything else
// (refused, filtered, silent, another protocol) means no plaintext Redis
// there.
func JudgePlainProbe(p PlainProbe) result.Finding {
	if p.AnsweredRedis() {
		return result.Finding{State: result.Critical, Text: fmt.Sprintf(
			"plaintext Redis answers on port %d (%s)", p.Port, p.Reply.Class)}
	}
	var why string
	switch {
	case !p.Connected && classify(p.Err) == failTimeout:
		why = "no connection before the deadline"
	case !p.Connected:
		why = "connection refused or unreachable"
	case p.Err == nil:
		why = "the answer is not Redis"
	case classify(p.Err) == failTimeout:
		why = "no answer to PING"
	default:
		why = "closed without a Redis answer"
	}
	return result.Finding{State: result.OK, Text: fmt.Sprintf("no plaintext Redis on port %d: %s", p.Port, why)}
}
