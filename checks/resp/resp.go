// Package resp speaks just enough of the Redis protocol to ask "are you
// Redis, and will you serve me?": one PING, one reply line, classified. The
// probes use it on raw (plain or TLS) connections where a full client would
// hide the difference between "not Redis", "needs a password" and "refused by
// protected mode".
package resp

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"time"
)

// PingCommand is PING as a RESP array. It is what redis-cli sends; it looks
// nothing like HTTP, which Redis treats as an attack and drops.
const PingCommand = "*1\r\n$4\r\nPING\r\n"

// maxLine caps what is kept of the reply line: a Redis answer to PING is
// under 1 KiB (protected mode's DENIED is the longest); the rest of the line
// is read up to DefaultLimits.MaxLine only to find its end, so a chatty
// non-Redis service cannot make the probe read megabytes.
const maxLine = 512

// Class is what a PING reply says about the service.
type Class int

const (
	// NotRedis: the peer answered with something that is not a RESP reply
	// to PING.
	NotRedis Class = iota
	// Pong: the server serves unauthenticated clients.
	Pong
	// NoAuth: the server wants a password (NOAUTH, or WRONGPASS/AUTH errors).
	NoAuth
	// Denied: protected mode refused a non-local client.
	Denied
	// NoPerm: an ACL user without PING permission; still Redis, still
	// serving commands to whoever that user is.
	NoPerm
	// OtherError: a RESP error reply of another kind (e.g. "-ERR max number
	// of clients reached", or LOADING).
	OtherError
)

func (c Class) String() string {
	switch c {
	case Pong:
		return "PONG"
	case NoAuth:
		return "NOAUTH"
	case Denied:
		return "DENIED"
	case NoPerm:
		return "NOPERM"
	case OtherError:
		return "error reply"
	}
	return "not Redis"
}

// IsRedis reports whether the reply came from a Redis-protocol server.
func (c Class) IsRedis() bool { return c != NotRedis }

// Reply is the first line a server sent back.
type Reply struct {
	Line  string // without CRLF, capped, may be empty
	Class Class
}

// ErrNoReply means the peer closed the connection without a byte.
var ErrNoReply = errors.New("connection closed without a reply")

// Ping sends PING on conn and reads one reply line before deadline. A
// timeout error is returned as is (net.Error with Timeout() true) so callers
// can tell "silent" from "closed".
func Ping(conn net.Conn, deadline time.Time) (Reply, error) {
	if err := conn.SetDeadline(deadline); err != nil {
		return Reply{}, err
	}
	if _, err := io.WriteString(conn, PingCommand); err != nil {
		return Reply{}, err
	}
	r := bufio.NewReaderSize(conn, maxLine)
	line, cut, err := readLine(r)
	if err != nil {
		return Reply{}, err
	}
	if r.Buffered() > 0 {
		// More than one reply to one PING: whatever it is, not Redis.
		// (Best effort: bytes that arrive later are not waited for.)
		cut = true
	}
	if cut {
		// A line the peer closed before its CRLF is no RESP reply: a
		// "-NOAUTH Auth" cut short proves nothing about the server.
		return Reply{Line: line, Class: NotRedis}, nil
	}
	return Reply{Line: line, Class: Classify(line)}, nil
}

// readLine reads a line up to its CRLF, keeping maxLine bytes of it. cut
// reports a line that is no whole RESP reply: ended by a close, an error or
// the deadline after some bytes, longer than DefaultLimits.MaxLine, or
// longer than maxLine without the look of a Redis error (which is all a
// long line to PING can be; the rest of anything else is not waited for).
func readLine(r *bufio.Reader) (line string, cut bool, err error) {
	var b strings.Builder
	for n := 0; n <= DefaultLimits.MaxLine; n++ {
		c, err := r.ReadByte()
		switch {
		case err != nil && n > 0:
			return b.String(), true, nil
		case errors.Is(err, io.EOF):
			return "", false, ErrNoReply
		case err != nil:
			return "", false, err
		case c == '\n':
			return strings.TrimSuffix(b.String(), "\r"), false, nil
		case b.Len() < maxLine:
			b.WriteByte(c)
		case n == maxLine && Classify(b.String()) == NotRedis:
			return b.String(), true, nil
		}
	}
	return b.String(), true, nil
}

// Classify reads a PING reply line. Error replies are told apart by their
// first word, the error code the protocol defines (Valkey drops the word
// "Redis" from the texts, never the codes).
func Classify(line string) Class {
	if line == "+PONG" {
		return Pong
	}
	if !strings.HasPrefix(line, "-") {
		return NotRedis
	}
	code, _, _ := strings.Cut(line[1:], " ")
	switch code {
	case "NOAUTH", "WRONGPASS":
		return NoAuth
	case "DENIED":
		return Denied
	case "NOPERM":
		return NoPerm
	case "":
		return NotRedis
	}
	if !IsErrorCode(code) {
		return NotRedis
	}
	return OtherError
}

// IsErrorCode accepts the upper-case words Redis uses as error codes.
func IsErrorCode(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && r != '_' && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}
