package resp

import (
	"errors"
	"fmt"
	"strconv"
)

// Limits are the caps a guarded connection enforces on what the server
// sends. Each one stops a reply before the client library acts on a header
// (go-redis allocates an announced length before reading it), so memory stays
// bounded whatever a peer announces.
type Limits struct {
	// MaxBulk caps one bulk string, bulk error or verbatim string.
	MaxBulk int64
	// MaxElements caps the elements one array, set or push announces (a map
	// or attribute announces pairs; the cap is on pairs).
	MaxElements int64
	// MaxValues caps the elements announced by all aggregates over the
	// connection's life: the client allocates a slot per announced element
	// before the element arrives, and an empty map costs the peer four bytes
	// while it costs the client tens, so bytes alone do not bound memory.
	MaxValues int64
	// MaxDepth caps nesting of aggregates.
	MaxDepth int
	// MaxLine caps a simple string, error, number or inline line.
	MaxLine int
	// MaxBytes caps everything read over the connection.
	MaxBytes int64
	// RESP3 accepts the RESP3 types (maps, sets, pushes, attributes,
	// nulls, doubles, booleans, big numbers, verbatim and bulk errors). The
	// checks' client speaks RESP2 (HELLO 2), to which a server never sends
	// them, and go-redis silently skips attributes and pushes: off, a peer
	// cannot slip data past the check that way.
	RESP3 bool
}

// DefaultLimits are generous for what the checks ask a real server, and keep
// a check under 64 MiB whatever a peer sends (checks/internal/hostile's
// TestAtTheCaps measures replies just inside them):
//   - the largest reply is ACL LIST, one bulk per user of ~100-300 bytes,
//     which the auth check itself caps at 10,000 users and 4 MiB; 6 MiB a
//     connection leaves room for its ACL CAT calls and INFO; INFO server or
//     replication and CONFIG GET of one key are a few KiB;
//   - one bulk of 1 MiB is ten times INFO (every section) of a big server;
//   - 16,384 elements an aggregate and 32,768 a connection pass that ACL
//     LIST and 32 ACL CATs of ~250 names; go-redis spends up to several
//     hundred bytes on an announced element before it arrives;
//   - depth 16: the replies read nest two deep (COMMAND DOCS, the deepest
//     reply Redis has, seven);
//   - 64 KiB lines: error replies echo at most 128 bytes of each argument.
var DefaultLimits = Limits{
	MaxBulk:     1 << 20,
	MaxElements: 1 << 14,
	MaxValues:   1 << 15,
	MaxDepth:    16,
	MaxLine:     64 << 10,
	MaxBytes:    6 << 20,
}

// The kinds of FrameError, for errors.Is.
var (
	// ErrReplyTooLarge: a cap of Limits was exceeded.
	ErrReplyTooLarge = errors.New("reply exceeds a cap")
	// ErrBadFrame: the bytes are not RESP2/RESP3 framing, or a reply came
	// that no command asked for.
	ErrBadFrame = errors.New("malformed RESP reply")
)

// FrameError says what a guarded connection refused and where.
type FrameError struct {
	Kind   error  // ErrReplyTooLarge or ErrBadFrame
	What   string // e.g. "bulk string of 500000000000 bytes (cap 4194304)"
	Seen   string // the start of the offending header or line, quoted
	Offset int64  // bytes read from the connection before it
}

func (e *FrameError) Error() string {
	s := e.Kind.Error() + ": " + e.What
	if e.Seen != "" {
		s += " in " + e.Seen
	}
	return s + " at byte " + strconv.FormatInt(e.Offset, 10)
}

func (e *FrameError) Unwrap() error { return e.Kind }

func tooLarge(off int64, seen []byte, format string, args ...any) error {
	return &FrameError{Kind: ErrReplyTooLarge, What: fmt.Sprintf(format, args...), Seen: quoteSeen(seen), Offset: off}
}

func badFrame(off int64, seen []byte, format string, args ...any) error {
	return &FrameError{Kind: ErrBadFrame, What: fmt.Sprintf(format, args...), Seen: quoteSeen(seen), Offset: off}
}

// quoteSeen quotes at most 40 bytes of what the peer sent.
func quoteSeen(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > 40 {
		return strconv.Quote(string(b[:40])) + "…"
	}
	return strconv.Quote(string(b))
}
