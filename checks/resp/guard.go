package resp

import (
	"net"
	"sync"
	"time"
)

// Guard wraps the connection of a RESP client (go-redis) so that every byte
// the server sends is validated before the client sees it: a header that
// announces more than lim allows, bytes that are not RESP, or a reply no
// command asked for fail the Read with a *FrameError, and the client never
// allocates for it. Deadlines are clamped to deadline (when not zero): the
// client may set a later one, or none, and a peer that drips a byte at a
// time still cannot hold the check past it.
func Guard(c net.Conn, lim Limits, deadline time.Time) net.Conn {
	g := &guardConn{Conn: c, in: NewScanner(lim), deadline: deadline}
	// Commands are counted, not capped: what the client writes is its own.
	g.out = NewScanner(Limits{MaxBulk: 1 << 62, MaxElements: 1 << 62, MaxValues: 1 << 62, MaxDepth: 1 << 30, MaxLine: 1 << 30})
	g.out.Inline = true
	if !deadline.IsZero() {
		_ = c.SetDeadline(deadline)
	}
	return g
}

type guardConn struct {
	net.Conn
	deadline time.Time

	rmu sync.Mutex
	in  *Scanner
	err error

	wmu  sync.Mutex
	out  *Scanner
	sent int64 // complete commands written; read without wmu is racy, so under it
}

func (g *guardConn) Read(p []byte) (int, error) {
	g.rmu.Lock()
	defer g.rmu.Unlock()
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.Conn.Read(p)
	if n == 0 {
		return n, err
	}
	if ferr := g.in.Feed(p[:n]); ferr != nil {
		g.err = readError{ferr}
		return 0, g.err
	}
	g.wmu.Lock()
	sent := g.sent
	g.wmu.Unlock()
	if g.in.Replies > sent {
		g.err = readError{badFrame(g.in.Offset(), nil, "%d replies to %d commands", g.in.Replies, sent)}
		return 0, g.err
	}
	return n, err
}

func (g *guardConn) Write(p []byte) (int, error) {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	n, err := g.Conn.Write(p)
	if n > 0 && g.sent >= 0 {
		if g.out.Feed(p[:n]) != nil {
			g.sent = 1 << 62 // not RESP: stop counting rather than guess
		} else {
			g.sent = g.out.Replies
		}
	}
	return n, err
}

func (g *guardConn) clamp(t time.Time) time.Time {
	if g.deadline.IsZero() || (!t.IsZero() && t.Before(g.deadline)) {
		return t
	}
	return g.deadline
}

func (g *guardConn) SetDeadline(t time.Time) error { return g.Conn.SetDeadline(g.clamp(t)) }

func (g *guardConn) SetReadDeadline(t time.Time) error {
	return g.Conn.SetReadDeadline(g.clamp(t))
}

func (g *guardConn) SetWriteDeadline(t time.Time) error {
	return g.Conn.SetWriteDeadline(g.clamp(t))
}

// readError is what Read returns: go-redis unwraps an error of the
// connection's setup (HELLO, AUTH) once before handing it on, and the
// *FrameError, which says what was seen, must survive that.
type readError struct{ err error }

func (e readError) Error() string { return e.err.Error() }
func (e readError) Unwrap() error { return e.err }
