package auth

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

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
	// tried (PING answered PONG, NOAUTH or NOPERM): DBSIZE, or the first
	// other read that was served when DBSIZE was refused with NOPERM.
	Read *ReadAttempt
	// Others are the further reads tried when DBSIZE was refused by the
	// default user's ACL rules: one refused command says little about
	// the rest (+@all -dbsize).
	Others []ReadAttempt
	// DryRun lists the dangerous commands ACL DRYRUN (7.0+) says the
	// default user may run, when it may run ACL DRYRUN at all.
	DryRun []string
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
	// Data: served, this command shows data or configuration (not only
	// that the connection works).
	Data bool
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
		harmlessReads(ctx, opts, &p)
	case resp.OtherError:
		// A renamed or disabled PING says nothing about authentication
		// (Redis looks the command up first); the reads after it may.
		if pingUnknown(reply) {
			harmlessReads(ctx, opts, &p)
		}
	}
	return p
}

// pingUnknown: the server does not know PING (rename-command PING).
func pingUnknown(r resp.Reply) bool {
	return r.Class == resp.OtherError && strings.HasPrefix(r.Line, "-ERR unknown command")
}

// otherReads are tried when DBSIZE is refused with NOPERM. None writes;
// together they cover the read, keyspace, admin and connection categories.
var otherReads = []struct {
	args []any
	data bool
}{
	{[]any{"SCAN", "0", "COUNT", "1"}, true},
	{[]any{"INFO", "keyspace"}, true},
	{[]any{"CONFIG", "GET", "maxmemory"}, true},
	{[]any{"EXISTS", "x"}, true},
	{[]any{"COMMAND", "COUNT"}, false},
	{[]any{"ACL", "WHOAMI"}, false},
}

// dryRuns are the dangerous commands ACL DRYRUN is asked about; it checks
// permissions only and runs nothing.
var dryRuns = []struct {
	name string
	args []any
}{
	{"CONFIG SET", []any{"CONFIG", "SET", "dir", "/"}}, {"FLUSHALL", []any{"FLUSHALL"}},
	{"MODULE LOAD", []any{"MODULE", "LOAD", "/x"}}, {"DEBUG", []any{"DEBUG", "SLEEP", "0"}},
	{"REPLICAOF", []any{"REPLICAOF", "NO", "ONE"}}, {"ACL SETUSER", []any{"ACL", "SETUSER", "x"}},
}

// harmlessReads tries DBSIZE and, when the default user's rules refuse it,
// the other harmless reads and ACL DRYRUN; all on one connection.
func harmlessReads(ctx context.Context, opts redisconn.Options, p *Probe) {
	c := opts.Client(ctx)
	defer c.Close()
	first := harmlessRead(ctx, c)
	p.Read = first
	if first.Code != "NOPERM" {
		return
	}
	p.Others = make([]ReadAttempt, 0, len(otherReads))
	for _, r := range otherReads {
		a := ReadAttempt{Command: commandText(r.args), Data: r.data}
		if err := c.Do(ctx, r.args...).Err(); err == nil {
			a.Served = true
		} else if redisconn.IsUnknownCommand(err) {
			a.Code = "unknown command"
		} else if code := redisconn.ErrorCode(err); code != "" {
			a.Code = code
		} else {
			a.Err = err
		}
		p.Others = append(p.Others, a)
		if a.Err != nil {
			return // the connection is gone or the deadline passed
		}
		if a.Served && a.Data && p.Read == first {
			p.Read = &p.Others[len(p.Others)-1]
		}
	}
	for _, d := range dryRuns {
		args := append([]any{"ACL", "DRYRUN", "default"}, d.args...)
		ok, err := c.Do(ctx, args...).Text()
		if err != nil {
			// NOPERM for ACL DRYRUN itself, an unknown subcommand before
			// 7.0, or a denial naming the command: in each case nothing
			// more is learnt here.
			if code := redisconn.ErrorCode(err); code == "" || code == "NOPERM" {
				return
			}
			continue
		}
		if ok == "OK" {
			p.DryRun = append(p.DryRun, d.name)
		}
	}
}

func commandText(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = a.(string)
	}
	return strings.Join(parts, " ")
}

// harmlessRead tries DBSIZE, and INFO server where DBSIZE does not exist
// (Sentinel answers unknown commands before it checks authentication).
// Two commands at most, on a fresh connection of a full client.
func harmlessRead(ctx context.Context, c *redis.Client) *ReadAttempt {
	if err := c.DBSize(ctx).Err(); err == nil {
		return &ReadAttempt{Command: "DBSIZE", Served: true, Data: true}
	} else if !redisconn.IsUnknownCommand(err) {
		return readFailure("DBSIZE", err)
	}
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return readFailure("INFO server", err)
	}
	return &ReadAttempt{Command: "INFO server", Served: true, Data: true, Sentinel: infoMode(info) == "sentinel"}
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

// HasACL: ACL users exist since 6.0 (in Sentinel since 6.2).
func (v Version) HasACL(sentinel bool) bool {
	if sentinel {
		return v.Major > 6 || (v.Major == 6 && v.Minor >= 2)
	}
	return v.Major >= 6
}

// infoMode is the server's mode from INFO server: redis_mode, or
// server_mode where Valkey writes it instead.
func infoMode(info string) string {
	if m := infoField(info, "redis_mode"); m != "" {
		return m
	}
	return infoField(info, "server_mode")
}
