package auth

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
)

// Probe is what a client without credentials got from the server.
type Probe struct {
	// Err is set when the PING exchange itself failed (connect, TLS
	// handshake, silence, closed connection); nothing else is then known.
	Err error
	// Ping is the reply to PING.
	Ping resp.Reply
	// Read is the outcome of the harmless read after PING, when one was
	// tried (PING answered PONG, NOAUTH or NOPERM).
	Read *ReadAttempt
}

// ReadAttempt is one harmless read without credentials: DBSIZE, or INFO
// server on a Sentinel, which has no DBSIZE.
type ReadAttempt struct {
	Command string // "DBSIZE" or "INFO server"
	// Served: the server answered the read with data.
	Served bool
	// Code is the error code of a refusal ("NOAUTH", "NOPERM", "ERR"…).
	Code string
	// Err is a failure that is not a server reply (timeout, closed).
	Err error
	// Sentinel: INFO showed redis_mode:sentinel.
	Sentinel bool
}

// probe runs the unauthenticated exchange. opts must carry no credentials
// (the caller strips them); a client certificate, if configured, is still
// presented: it gets the client through TLS, not through Redis's own auth.
func probe(ctx context.Context, opts redisconn.Options) Probe {
	conn, err := opts.Dial(ctx)
	if err != nil {
		return Probe{Err: err}
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(5 * time.Second)
	}
	reply, err := resp.Ping(conn, deadline)
	conn.Close()
	if err != nil {
		return Probe{Err: err}
	}
	p := Probe{Ping: reply}
	switch reply.Class {
	case resp.Pong, resp.NoAuth, resp.NoPerm:
		p.Read = harmlessRead(ctx, opts)
	}
	return p
}

// harmlessRead tries DBSIZE, and INFO server where DBSIZE does not exist
// (Sentinel answers unknown commands before it checks authentication).
// Two commands at most, on a fresh connection of a full client.
func harmlessRead(ctx context.Context, opts redisconn.Options) *ReadAttempt {
	c := opts.Client(ctx)
	defer c.Close()
	if err := c.DBSize(ctx).Err(); err == nil {
		return &ReadAttempt{Command: "DBSIZE", Served: true}
	} else if !redisconn.IsUnknownCommand(err) {
		return readFailure("DBSIZE", err)
	}
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return readFailure("INFO server", err)
	}
	return &ReadAttempt{Command: "INFO server", Served: true, Sentinel: infoField(info, "redis_mode") == "sentinel"}
}

func readFailure(cmd string, err error) *ReadAttempt {
	if code := redisconn.ErrorCode(err); code != "" {
		return &ReadAttempt{Command: cmd, Code: code}
	}
	return &ReadAttempt{Command: cmd, Err: err}
}

// infoField returns one "key:value" field of an INFO reply.
func infoField(info, key string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+":"); ok {
			return v
		}
	}
	return ""
}

// Version is a Redis version, enough of it to branch on.
type Version struct{ Major, Minor int }

// parseVersion reads "7.0.15"; ok is false for anything else.
func parseVersion(s string) (Version, bool) {
	parts := strings.SplitN(s, ".", 3)
	if len(parts) < 2 {
		return Version{}, false
	}
	maj, err1 := strconv.Atoi(parts[0])
	min, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return Version{}, false
	}
	return Version{maj, min}, true
}

// HasACL: ACL users exist since 6.0.
func (v Version) HasACL() bool { return v.Major >= 6 }
