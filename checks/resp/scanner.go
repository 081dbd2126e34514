package resp

import (
	"bytes"
	"strconv"
)

// Scanner validates RESP2/RESP3 framing incrementally: bytes are fed as
// they arrive, in chunks of any size, and nothing is kept but a few counters
// and the header being read. It checks framing and caps, not meaning.
type Scanner struct {
	lim Limits
	// Inline accepts lines that do not start with a type byte, as a server
	// does for commands typed in telnet. Replies are never inline.
	Inline bool

	off    int64 // bytes fed so far
	values int64 // elements announced by aggregates so far
	state  scanState
	typ    byte
	head   []byte // the start of the current line, for numbers and reports
	line   int    // length of the current line
	bulk   int64  // payload bytes still to skip
	stack  []frame

	// Replies counts complete top-level values other than pushes, Pushes
	// the push messages (RESP3 out-of-band data).
	Replies, Pushes int64
	topPush         bool
}

type frame struct {
	left int64 // elements still to come
	attr bool  // an attribute: its completion fills no slot of the parent
	push bool
}

type scanState uint8

const (
	stType scanState = iota
	stLine
	stLineLF
	stBulk
	stBulkCR
	stBulkLF
)

// maxHead is how much of a line is kept: enough for any number and for the
// start of a line in an error report.
const maxHead = 48

// NewScanner returns a scanner enforcing lim.
func NewScanner(lim Limits) *Scanner {
	return &Scanner{lim: lim, head: make([]byte, 0, maxHead)}
}

// Offset is the number of bytes fed so far.
func (s *Scanner) Offset() int64 { return s.off }

// Idle reports whether the scanner stands between two top-level values.
func (s *Scanner) Idle() bool { return s.state == stType && len(s.stack) == 0 }

// Feed validates p, the next bytes of the stream. The first error is final:
// the stream is broken and must be dropped.
func (s *Scanner) Feed(p []byte) error {
	if s.lim.MaxBytes > 0 && s.off+int64(len(p)) > s.lim.MaxBytes {
		return tooLarge(s.off, nil, "more than %d bytes on one connection", s.lim.MaxBytes)
	}
	for len(p) > 0 {
		switch s.state {
		case stType:
			s.typ, s.head, s.line = p[0], append(s.head[:0], p[0]), 0
			if !isType(s.typ) {
				if !s.Inline || s.typ == '\r' || s.typ == '\n' {
					return badFrame(s.off, p[:min(len(p), maxHead)], "byte %q where a reply type was expected", s.typ)
				}
				s.typ = 0 // inline: the byte is part of the line
				s.line = 1
			} else if !s.lim.RESP3 && isRESP3(s.typ) {
				return badFrame(s.off, p[:min(len(p), maxHead)], "RESP3 type %q on a RESP2 connection", s.typ)
			}
			s.state = stLine
			p = s.advance(p, 1)
		case stLine:
			i := bytes.IndexAny(p, "\r\n")
			n := i
			if i < 0 {
				n = len(p)
			}
			if s.line+n > s.lim.MaxLine {
				return tooLarge(s.off, append(s.head, p[:min(n, maxHead-len(s.head))]...), "line longer than %d bytes", s.lim.MaxLine)
			}
			s.line += n
			if room := maxHead - len(s.head); room > 0 {
				s.head = append(s.head, p[:min(n, room)]...)
			}
			if i < 0 {
				p = s.advance(p, n)
				continue
			}
			if p[i] == '\n' && s.typ != 0 {
				return badFrame(s.off+int64(i), s.head, "line ends in LF without CR")
			}
			s.state = stLineLF
			if p[i] == '\n' { // inline commands may end in a bare LF
				s.state = stType
				p = s.advance(p, i+1)
				if err := s.endLine(); err != nil {
					return err
				}
				continue
			}
			p = s.advance(p, i+1)
		case stLineLF:
			if p[0] != '\n' {
				return badFrame(s.off, s.head, "CR not followed by LF")
			}
			s.state = stType
			p = s.advance(p, 1)
			if err := s.endLine(); err != nil {
				return err
			}
		case stBulk:
			n := int64(len(p))
			if n > s.bulk {
				n = s.bulk
			}
			s.bulk -= n
			p = s.advance(p, int(n))
			if s.bulk == 0 {
				s.state = stBulkCR
			}
		case stBulkCR, stBulkLF:
			want := byte('\r')
			if s.state == stBulkLF {
				want = '\n'
			}
			if p[0] != want {
				return badFrame(s.off, p[:min(len(p), maxHead)], "bulk payload longer than announced in %s", quoteSeen(s.head))
			}
			p = s.advance(p, 1)
			if s.state == stBulkCR {
				s.state = stBulkLF
			} else {
				s.state = stType
				s.done()
			}
		}
	}
	return nil
}

func (s *Scanner) advance(p []byte, n int) []byte {
	s.off += int64(n)
	return p[n:]
}

func isType(c byte) bool {
	switch c {
	case '+', '-', ':', '$', '*', '%', '~', '>', '|', '_', ',', '#', '!', '=', '(':
		return true
	}
	return false
}

func isRESP3(c byte) bool {
	switch c {
	case '%', '~', '>', '|', '_', ',', '#', '!', '=', '(':
		return true
	}
	return false
}

// endLine acts on a complete line: a scalar is done, a header opens a bulk
// or an aggregate.
func (s *Scanner) endLine() error {
	body := s.head[1:]
	whole := len(s.head) == 1+s.line
	if s.typ == 0 {
		s.done()
		return nil
	}
	switch s.typ {
	case '+':
		s.done()
	case '-':
		// Every Redis error starts with a code word (the server adds "ERR"
		// when a module gives none); anything else, such as the request
		// echoed back, is not a Redis error.
		code, _, _ := bytes.Cut(body, []byte(" "))
		if !IsErrorCode(string(code)) {
			return badFrame(s.off, s.head, "error reply without an error code")
		}
		s.done()
	case ':':
		if _, ok := parseInt(body); !ok {
			return badFrame(s.off, s.head, "integer that is not a number")
		}
		s.done()
	case '(':
		// Only the kept start of a long number is checked: its value is
		// never allocated for, so its length is the only risk, and MaxLine
		// bounds that.
		if len(body) > 0 && body[0] == '-' {
			body = body[1:]
		}
		if len(body) == 0 || !allDigits(body) {
			return badFrame(s.off, s.head, "big number that is not a number")
		}
		s.done()
	case ',':
		if _, err := strconv.ParseFloat(string(body), 64); err != nil && whole {
			return badFrame(s.off, s.head, "double that is not a number")
		}
		s.done()
	case '#':
		if s.line != 1 || (body[0] != 't' && body[0] != 'f') {
			return badFrame(s.off, s.head, "boolean other than t or f")
		}
		s.done()
	case '_':
		if s.line != 0 {
			return badFrame(s.off, s.head, "null with a payload")
		}
		s.done()
	case '$', '!', '=':
		n, ok := parseInt(body)
		switch {
		case !ok || n < -1 || n == -1 && s.typ != '$':
			return badFrame(s.off, s.head, "bulk length that is not a length")
		case n == -1:
			s.done()
		case n > s.lim.MaxBulk:
			return tooLarge(s.off, s.head, "bulk string of %d bytes (cap %d)", n, s.lim.MaxBulk)
		case n == 0:
			s.state = stBulkCR
		default:
			s.bulk, s.state = n, stBulk
		}
	case '*', '~', '>', '%', '|':
		n, ok := parseInt(body)
		if !ok || n < -1 || n == -1 && s.typ != '*' {
			return badFrame(s.off, s.head, "aggregate length that is not a length")
		}
		if n > s.lim.MaxElements {
			return tooLarge(s.off, s.head, "aggregate of %d elements (cap %d)", n, s.lim.MaxElements)
		}
		if len(s.stack)+1 > s.lim.MaxDepth {
			return tooLarge(s.off, s.head, "aggregates nested deeper than %d", s.lim.MaxDepth)
		}
		elems := n
		if s.typ == '%' || s.typ == '|' {
			elems = 2 * n
		}
		if elems > 0 {
			s.values += elems
		}
		if s.values > s.lim.MaxValues {
			return tooLarge(s.off, s.head, "more than %d aggregate elements on one connection", s.lim.MaxValues)
		}
		if len(s.stack) == 0 && s.typ == '>' {
			s.topPush = true
		}
		if elems <= 0 {
			if s.typ != '|' {
				s.done()
			}
			return nil
		}
		s.stack = append(s.stack, frame{left: elems, attr: s.typ == '|'})
	}
	return nil
}

// done records a complete value and closes the aggregates it completes.
func (s *Scanner) done() {
	for len(s.stack) > 0 {
		top := &s.stack[len(s.stack)-1]
		top.left--
		if top.left > 0 {
			return
		}
		attr := top.attr
		s.stack = s.stack[:len(s.stack)-1]
		if attr {
			return // the value the attribute describes is still to come
		}
	}
	if s.topPush {
		s.Pushes++
		s.topPush = false
		return
	}
	s.Replies++
}

// parseInt reads a decimal int64 with an optional minus sign, strictly.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || (b[0] == '+') {
		return 0, false
	}
	return n, true
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
