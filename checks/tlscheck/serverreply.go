package tlscheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Reading the server's answer to a hand-built ClientHello: its first
// record(s), up to the ServerHello or an alert. Every length a server
// announces is checked against a cap before anything is read.

// Record and handshake types (RFC 8446 section 5.1 and 4).
const (
	recordAlert     = 21
	recordHandshake = 22

	handshakeClientHello = 1
	handshakeServerHello = 2
)

// Caps on what a server's first flight may make the probe read.
const (
	maxRecord    = 1<<14 + 2048 // TLSCiphertext limit; plaintext is 2^14
	maxHello     = 1 << 14      // a ServerHello is a few hundred bytes
	maxFirstRead = 1 << 16      // all records before the ServerHello
)

// serverReply is the server's first answer: a ServerHello or an alert.
type serverReply struct {
	Alert      bool
	AlertLevel byte
	AlertDesc  byte

	Version    uint16 // legacy_version of the ServerHello
	Selected   uint16 // supported_versions extension; 0 when absent
	Suite      uint16
	HelloRetry bool // a TLS 1.3 HelloRetryRequest: the version is accepted
	Downgrade  byte // 0, or 1 / 2 for the RFC 8446 TLS 1.2 / 1.1 downgrade sentinels
}

// negotiated is the version the ServerHello chose.
func (r serverReply) negotiated() uint16 {
	if r.Selected != 0 {
		return r.Selected
	}
	return r.Version
}

// notTLSError: the peer's first bytes are not a TLS record header.
type notTLSError struct{ First []byte }

func (e *notTLSError) Error() string { return fmt.Sprintf("not a TLS record: % x", e.First) }

// malformedError: a TLS-shaped answer that breaks the protocol or a cap.
type malformedError struct{ What string }

func (e *malformedError) Error() string { return "malformed server reply: " + e.What }

func malformed(format string, args ...any) error {
	return &malformedError{What: fmt.Sprintf(format, args...)}
}

// RFC 8446 section 4.1.3.
var (
	helloRetryRandom = []byte{0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65,
		0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c}
	downgradePrefix = []byte("DOWNGRD")
)

// readServerReply reads records from r until a complete ServerHello or an
// alert. It never reads more than maxFirstRead bytes. Errors are r's (EOF,
// timeout), *notTLSError or *malformedError.
func readServerReply(r io.Reader) (serverReply, error) {
	lr := &io.LimitedReader{R: r, N: maxFirstRead}
	var hs []byte // handshake bytes collected across records
	var hdr [5]byte
	for {
		if _, err := io.ReadFull(lr, hdr[:]); err != nil {
			if lr.N == 0 {
				return serverReply{}, malformed("no ServerHello within %d bytes", maxFirstRead)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) && len(hs) == 0 {
				return serverReply{}, &notTLSError{First: bytes.Clone(hdr[:])}
			}
			return serverReply{}, err
		}
		typ, major, n := hdr[0], hdr[1], int(hdr[3])<<8|int(hdr[4])
		if major != 3 || (typ != recordAlert && typ != recordHandshake && typ != 20 && typ != 23) {
			return serverReply{}, &notTLSError{First: bytes.Clone(hdr[:])}
		}
		if n == 0 || n > maxRecord {
			return serverReply{}, malformed("record length %d", n)
		}
		if int64(n) > lr.N {
			return serverReply{}, malformed("no ServerHello within %d bytes", maxFirstRead)
		}
		if typ != recordAlert && typ != recordHandshake {
			return serverReply{}, malformed("record type %d before the ServerHello", typ)
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(lr, payload); err != nil {
			return serverReply{}, noEOF(err)
		}
		if typ == recordAlert {
			if len(hs) != 0 {
				return serverReply{}, malformed("alert inside a fragmented handshake message")
			}
			if n != 2 {
				return serverReply{}, malformed("alert record of %d bytes", n)
			}
			return serverReply{Alert: true, AlertLevel: payload[0], AlertDesc: payload[1]}, nil
		}
		hs = append(hs, payload...)
		if len(hs) < 4 {
			continue
		}
		if hs[0] != handshakeServerHello {
			return serverReply{}, malformed("handshake message %d instead of ServerHello", hs[0])
		}
		msgLen := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
		if msgLen > maxHello {
			return serverReply{}, malformed("ServerHello of %d bytes", msgLen)
		}
		if len(hs) >= 4+msgLen {
			return parseServerHello(hs[4 : 4+msgLen])
		}
	}
}

// noEOF turns an EOF inside a record into ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseServerHello decodes a ServerHello body (RFC 5246 7.4.1.3, RFC 8446
// 4.1.3). SSL 3.0 and early TLS servers may omit the extensions.
func parseServerHello(b []byte) (serverReply, error) {
	var r serverReply
	p := parser{b: b}
	r.Version = p.u16()
	random := p.take(32)
	sid := p.take(int(p.u8()))
	r.Suite = p.u16()
	p.u8() // compression
	if p.err == nil && len(sid) > 32 {
		return r, malformed("session id of %d bytes", len(sid))
	}
	if p.err != nil {
		return r, malformed("short ServerHello")
	}
	r.HelloRetry = bytes.Equal(random, helloRetryRandom)
	if tail := random[24:]; bytes.Equal(tail[:7], downgradePrefix) && (tail[7] == 0 || tail[7] == 1) {
		r.Downgrade = 2 - tail[7]
	}
	if p.empty() {
		return r, nil
	}
	exts := parser{b: p.take(int(p.u16()))}
	if p.err != nil || !p.empty() {
		return r, malformed("ServerHello extensions length")
	}
	seen := map[uint16]bool{}
	for !exts.empty() && exts.err == nil {
		typ := exts.u16()
		data := parser{b: exts.take(int(exts.u16()))}
		if exts.err != nil {
			break
		}
		if seen[typ] {
			return r, malformed("extension %d twice", typ)
		}
		seen[typ] = true
		if typ == extSupportedVersion {
			r.Selected = data.u16()
			if data.err != nil || !data.empty() {
				return r, malformed("supported_versions extension")
			}
		}
	}
	if exts.err != nil {
		return r, malformed("truncated extension")
	}
	return r, nil
}

// parser reads big-endian fields; the first short read sets err and every
// later read returns zero values.
type parser struct {
	b   []byte
	err error
}

func (p *parser) take(n int) []byte {
	if p.err != nil || n > len(p.b) {
		p.err = io.ErrUnexpectedEOF
		return nil
	}
	out := p.b[:n]
	p.b = p.b[n:]
	return out
}

func (p *parser) u8() byte {
	if b := p.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (p *parser) u16() uint16 {
	if b := p.take(2); b != nil {
		return uint16(b[0])<<8 | uint16(b[1])
	}
	return 0
}

func (p *parser) empty() bool { return p.err == nil && len(p.b) == 0 }

// alertNames are the RFC 8446 / RFC 5246 alert descriptions.
var alertNames = map[byte]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed",
	22: "record_overflow", 30: "decompression_failure", 40: "handshake_failure", 41: "no_certificate",
	42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked", 45: "certificate_expired",
	46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied",
	50: "decode_error", 51: "decrypt_error", 60: "export_restriction", 70: "protocol_version",
	71: "insufficient_security", 80: "internal_error", 86: "inappropriate_fallback", 90: "user_canceled",
	100: "no_renegotiation", 109: "missing_extension", 110: "unsupported_extension",
	112: "unrecognized_name", 113: "bad_certificate_status_response", 115: "unknown_psk_identity",
	116: "certificate_required", 120: "no_application_protocol",
}

// alertName is "handshake_failure (40)".
func alertName(d byte) string {
	if n, ok := alertNames[d]; ok {
		return fmt.Sprintf("%s (%d)", n, d)
	}
	return fmt.Sprintf("alert %d", d)
}
