package tlscheck

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// record wraps payload in one TLS record.
func record(typ byte, payload []byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(payload) >> 8), byte(len(payload))}, payload...)
}

// serverHello encodes a ServerHello handshake message.
func serverHello(version, suite uint16, random []byte, exts ...[]byte) []byte {
	var b builder
	b.u16(version)
	if random == nil {
		random = make([]byte, 32)
	}
	b.bytes(random)
	b.u8(0)
	b.u16(suite)
	b.u8(0)
	if len(exts) > 0 {
		all := bytes.Join(exts, nil)
		b.u16(uint16(len(all)))
		b.bytes(all)
	}
	var m builder
	m.u8(handshakeServerHello)
	m.u24(len(b.b))
	m.bytes(b.b)
	return m.b
}

func ext(typ uint16, data ...byte) []byte {
	var b builder
	b.u16(typ)
	b.u16(uint16(len(data)))
	b.bytes(data)
	return b.b
}

func TestReadServerReply(t *testing.T) {
	hello := serverHello(versionTLS12, 0x0033, nil)
	sentinel := append(make([]byte, 24), []byte("DOWNGRD\x00")...)
	type want struct {
		reply   serverReply
		errKind string // "", "eof", "nottls", "malformed"
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want want
	}{
		{"alert", record(recordAlert, []byte{2, 70}), want{reply: serverReply{Alert: true, AlertLevel: 2, AlertDesc: 70}}},
		{"hello", record(recordHandshake, hello), want{reply: serverReply{Version: versionTLS12, Suite: 0x0033}}},
		{"hello in three records", append(append(record(recordHandshake, hello[:3]), record(recordHandshake, hello[3:10])...),
			record(recordHandshake, hello[10:])...), want{reply: serverReply{Version: versionTLS12, Suite: 0x0033}}},
		{"hello with certificate after", record(recordHandshake, append(slicesClone(hello), 11, 0, 0, 0)),
			want{reply: serverReply{Version: versionTLS12, Suite: 0x0033}}},
		{"TLS 1.3", record(recordHandshake, serverHello(versionTLS12, 0x1301, nil, ext(extSupportedVersion, 3, 4), ext(extKeyShare, 0, 0x1d, 0, 0))),
			want{reply: serverReply{Version: versionTLS12, Selected: versionTLS13, Suite: 0x1301}}},
		{"hello retry", record(recordHandshake, serverHello(versionTLS12, 0x1301, helloRetryRandom, ext(extSupportedVersion, 3, 4))),
			want{reply: serverReply{Version: versionTLS12, Selected: versionTLS13, Suite: 0x1301, HelloRetry: true}}},
		{"downgrade sentinel", record(recordHandshake, serverHello(versionTLS11, 0xc013, sentinel)),
			want{reply: serverReply{Version: versionTLS11, Suite: 0xc013, Downgrade: 2}}},
		{"empty", nil, want{errKind: "eof"}},
		{"truncated record", record(recordHandshake, hello)[:20], want{errKind: "eof"}},
		{"plaintext RESP", []byte("-ERR unknown command\r\n"), want{errKind: "nottls"}},
		{"three bytes", []byte{22, 3, 3}, want{errKind: "nottls"}},
		{"SSLv2 answer", []byte{0x80, 0x2e, 0x04, 0x00, 0x01, 0x00, 0x02}, want{errKind: "nottls"}},
		{"oversized record", []byte{22, 3, 3, 0xff, 0xff}, want{errKind: "malformed"}},
		{"empty record", []byte{22, 3, 3, 0, 0}, want{errKind: "malformed"}},
		{"application data first", record(23, []byte{1, 2, 3}), want{errKind: "malformed"}},
		{"long alert", record(recordAlert, []byte{2, 40, 0}), want{errKind: "malformed"}},
		{"certificate instead of hello", record(recordHandshake, []byte{11, 0, 0, 0}), want{errKind: "malformed"}},
		{"huge hello", record(recordHandshake, []byte{2, 0xff, 0xff, 0xff}), want{errKind: "malformed"}},
		{"short hello", record(recordHandshake, []byte{2, 0, 0, 2, 3, 3}), want{errKind: "malformed"}},
		{"bad extensions length", record(recordHandshake, append(serverHello(versionTLS12, 0x0033, nil)[:4:4],
			append(slicesClone(hello[4:]), 0, 9)...)), want{errKind: "malformed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Fix the handshake length of the hand-patched case.
			in := tc.in
			if tc.name == "bad extensions length" {
				n := len(in) - 9
				in[6], in[7], in[8] = byte(n>>16), byte(n>>8), byte(n)
			}
			r, err := readServerReply(bytes.NewReader(in))
			var nt *notTLSError
			var mf *malformedError
			got := ""
			switch {
			case err == nil:
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				got = "eof"
			case errors.As(err, &nt):
				got = "nottls"
			case errors.As(err, &mf):
				got = "malformed"
			default:
				got = err.Error()
			}
			if got != tc.want.errKind {
				t.Fatalf("error %v (%s), want %q", err, got, tc.want.errKind)
			}
			if err == nil && r != tc.want.reply {
				t.Errorf("reply %+v, want %+v", r, tc.want.reply)
			}
		})
	}
}

func slicesClone(b []byte) []byte { return append([]byte(nil), b...) }

// A server that drips one-byte handshake records never makes the reader
// take more than maxFirstRead bytes.
func TestReadServerReplyTotalCap(t *testing.T) {
	var in []byte
	in = append(in, record(recordHandshake, []byte{2, 0, 0x3f, 0xff})...)
	for len(in) < 4*maxFirstRead {
		in = append(in, record(recordHandshake, []byte{0})...)
	}
	cr := &countingReader{r: bytes.NewReader(in)}
	_, err := readServerReply(cr)
	var mf *malformedError
	if !errors.As(err, &mf) {
		t.Fatalf("err %v, want malformed", err)
	}
	if cr.n > maxFirstRead {
		t.Fatalf("read %d bytes, cap %d", cr.n, maxFirstRead)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// FuzzReadServerReply: any bytes give a reply or a typed error, never a
// panic, never more than the cap read, and a reply a later judgement can
// rely on.
func FuzzReadServerReply(f *testing.F) {
	f.Add(record(recordAlert, []byte{2, 40}))
	f.Add(record(recordHandshake, serverHello(versionTLS12, 0x0033, nil)))
	f.Add(record(recordHandshake, serverHello(versionTLS12, 0x1301, helloRetryRandom, ext(extSupportedVersion, 3, 4))))
	f.Add([]byte("+PONG\r\n"))
	f.Add([]byte{22, 3, 1, 0, 4, 2, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		cr := &countingReader{r: bytes.NewReader(in)}
		r, err := readServerReply(cr)
		if cr.n > maxFirstRead {
			t.Fatalf("read %d bytes", cr.n)
		}
		if err != nil {
			var nt *notTLSError
			var mf *malformedError
			if !errors.As(err, &nt) && !errors.As(err, &mf) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if r.Alert && (r.Version != 0 || r.Suite != 0) {
			t.Fatalf("alert with hello fields: %+v", r)
		}
		// Whatever was read, judging it never claims acceptance of a
		// version or suite that was not offered.
		o := helloOutcome{Offered: versionTLS11, Suites: []uint16{0x002f}, Connected: true, Reply: r}
		if v := judgeHello(o); v.Verdict == verdictAccepted && (r.negotiated() != versionTLS11 || r.Suite != 0x002f) {
			t.Fatalf("accepted %+v", r)
		}
	})
}
