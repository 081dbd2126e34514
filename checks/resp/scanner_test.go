package resp

import (
	"errors"
	"strings"
	"testing"
)

var validStreams = []struct {
	name    string
	in      string
	replies int64
	pushes  int64
}{
	{"simple", "+PONG\r\n", 1, 0},
	{"error", "-NOAUTH Authentication required.\r\n", 1, 0},
	{"integer", ":42\r\n:-1\r\n", 2, 0},
	{"bulk", "$4\r\nbind\r\n$0\r\n\r\n$-1\r\n", 3, 0},
	{"bulk with CRLF inside", "$4\r\n\r\n\r\n\r\n", 1, 0},
	{"config get", "*2\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n", 1, 0},
	{"null array", "*-1\r\n*0\r\n", 2, 0},
	{"nested", "*2\r\n*1\r\n:1\r\n*2\r\n$1\r\na\r\n*0\r\n", 1, 0},
	{"resp3 map", "%2\r\n+a\r\n:1\r\n+b\r\n#t\r\n", 1, 0},
	{"resp3 scalars", "_\r\n,3.14\r\n,inf\r\n#f\r\n(3492890328409238509324850943850943825024385\r\n(-1\r\n", 6, 0},
	{"resp3 set", "~2\r\n+a\r\n+b\r\n", 1, 0},
	{"verbatim and bulk error", "=8\r\ntxt:Some\r\n!5\r\nERR x\r\n", 2, 0},
	{"push between replies", ">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n+OK\r\n", 1, 1},
	{"attribute before reply", "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:2\r\n:3\r\n", 1, 0},
	{"attribute inside array", "*2\r\n|1\r\n+ttl\r\n:3600\r\n:1\r\n:2\r\n", 1, 0},
	{"empty attribute", "|0\r\n+OK\r\n", 1, 0},
	{"empty map and set", "%0\r\n~0\r\n", 2, 0},
}

// resp3 is DefaultLimits with the RESP3 types accepted.
var resp3 = func() Limits { l := DefaultLimits; l.RESP3 = true; return l }()

func TestScannerValid(t *testing.T) {
	for _, c := range validStreams {
		t.Run(c.name, func(t *testing.T) {
			// Every split of the stream into two chunks, and byte by byte,
			// must give the same answer as the whole.
			for cut := 0; cut <= len(c.in); cut++ {
				s := NewScanner(resp3)
				if err := s.Feed([]byte(c.in[:cut])); err != nil {
					t.Fatalf("cut %d: %v", cut, err)
				}
				if err := s.Feed([]byte(c.in[cut:])); err != nil {
					t.Fatalf("cut %d: %v", cut, err)
				}
				if s.Replies != c.replies || s.Pushes != c.pushes || !s.Idle() {
					t.Fatalf("cut %d: replies %d pushes %d idle %v, want %d %d idle", cut, s.Replies, s.Pushes, s.Idle(), c.replies, c.pushes)
				}
			}
			s := NewScanner(resp3)
			for i := range len(c.in) {
				if err := s.Feed([]byte{c.in[i]}); err != nil {
					t.Fatalf("byte %d: %v", i, err)
				}
			}
			if s.Replies != c.replies {
				t.Fatalf("byte by byte: %d replies, want %d", s.Replies, c.replies)
			}
		})
	}
}

func TestScannerRefuses(t *testing.T) {
	small := DefaultLimits
	small.MaxBytes = 1 << 10
	resp2 := DefaultLimits
	cases := []struct {
		name string
		in   string
		lim  Limits
		kind error
		what string
	}{
		{"huge bulk", "*2\r\n$4\r\nbind\r\n$500000000000\r\n", resp3, ErrReplyTooLarge, "bulk string of 500000000000 bytes (cap 1048576)"},
		{"bulk over cap", "$100000000\r\n", resp3, ErrReplyTooLarge, "bulk string of 100000000"},
		{"huge array", "*4294967296\r\n", resp3, ErrReplyTooLarge, "aggregate of 4294967296 elements"},
		{"huge map", "%100000\r\n", resp3, ErrReplyTooLarge, "aggregate of 100000"},
		{"deep", strings.Repeat("*1\r\n", 17) + ":1\r\n", resp3, ErrReplyTooLarge, "nested deeper than 16"},
		{"long line", "+" + strings.Repeat("a", 70000) + "\r\n", resp3, ErrReplyTooLarge, "line longer than 65536"},
		{"endless line", "-ERR " + strings.Repeat("x", 1<<20), resp3, ErrReplyTooLarge, "line longer"},
		{"total bytes", strings.Repeat("+OK\r\n", 300), small, ErrReplyTooLarge, "more than 1024 bytes"},
		{"many values", strings.Repeat("*16000\r\n"+strings.Repeat("_\r\n", 16000), 3), resp3, ErrReplyTooLarge, "more than 32768 aggregate elements"},
		{"http", "HTTP/1.1 400 Bad Request\r\n", resp3, ErrBadFrame, "byte 'H'"},
		{"inline reply", "PONG\r\n", resp3, ErrBadFrame, "byte 'P'"},
		{"bare LF", "+OK\n", resp3, ErrBadFrame, "LF without CR"},
		{"CR alone", "+OK\rX", resp3, ErrBadFrame, "CR not followed by LF"},
		{"bulk longer than said", "$2\r\nabc\r\n", resp3, ErrBadFrame, "longer than announced"},
		{"negative bulk", "$-2\r\n", resp3, ErrBadFrame, "not a length"},
		{"bulk length junk", "$4x\r\n", resp3, ErrBadFrame, "not a length"},
		{"plus sign", "$+4\r\nabcd\r\n", resp3, ErrBadFrame, "not a length"},
		{"null map", "%-1\r\n", resp3, ErrBadFrame, "not a length"},
		{"integer junk", ":12a\r\n", resp3, ErrBadFrame, "not a number"},
		{"bool", "#x\r\n", resp3, ErrBadFrame, "boolean"},
		{"null payload", "_x\r\n", resp3, ErrBadFrame, "null with a payload"},
		{"streamed string", "$?\r\n;4\r\nabcd\r\n;0\r\n", resp3, ErrBadFrame, "not a length"},
		{"empty line as type", "\r\n", resp3, ErrBadFrame, "reply type"},
		{"echoed request", "-*1  $4  PING  \r\n", resp3, ErrBadFrame, "without an error code"},
		{"lower-case code", "-err x\r\n", resp3, ErrBadFrame, "without an error code"},
		{"empty error", "-\r\n", resp3, ErrBadFrame, "without an error code"},
		{"push on RESP2", ">2\r\n+invalidate\r\n*0\r\n", resp2, ErrBadFrame, "RESP3 type '>' on a RESP2"},
		{"attribute on RESP2", "|1\r\n+a\r\n+b\r\n+PONG\r\n", resp2, ErrBadFrame, "RESP3 type '|'"},
		{"null on RESP2", "_\r\n", resp2, ErrBadFrame, "RESP3 type '_'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := NewScanner(c.lim).Feed([]byte(c.in))
			var fe *FrameError
			if !errors.Is(err, c.kind) || !errors.As(err, &fe) || !strings.Contains(err.Error(), c.what) {
				t.Fatalf("Feed(%.40q) = %v, want %v with %q", c.in, err, c.kind, c.what)
			}
		})
	}
}

func TestScannerInlineCommands(t *testing.T) {
	s := NewScanner(resp3)
	s.Inline = true
	if err := s.Feed([]byte("PING\r\nCONFIG GET bind\n*1\r\n$4\r\nPING\r\n")); err != nil {
		t.Fatal(err)
	}
	if s.Replies != 3 {
		t.Fatalf("%d commands, want 3", s.Replies)
	}
}

// FuzzScanner holds the scanner to chunking: any split gives the verdict of
// the whole, and nothing panics.
func FuzzScanner(f *testing.F) {
	for _, c := range validStreams {
		f.Add([]byte(c.in), uint16(3))
	}
	f.Add([]byte("*2\r\n$4\r\nbind\r\n$500000000000\r\n"), uint16(7))
	f.Fuzz(func(t *testing.T, in []byte, cut uint16) {
		whole := NewScanner(resp3)
		errWhole := whole.Feed(in)
		c := int(cut) % (len(in) + 1)
		split := NewScanner(resp3)
		errSplit := split.Feed(in[:c])
		if errSplit == nil {
			errSplit = split.Feed(in[c:])
		}
		if (errWhole == nil) != (errSplit == nil) || errWhole == nil && whole.Replies != split.Replies {
			t.Fatalf("whole: %v (%d replies); split at %d: %v (%d)", errWhole, whole.Replies, c, errSplit, split.Replies)
		}
	})
}
