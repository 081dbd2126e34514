package tlscheck

import (
	"net/netip"
)

// A hand-built ClientHello: crypto/tls offers only the suites and versions
// Go implements, so a server that accepts TLS 1.0 with DHE alone answers
// Go with handshake_failure. These probes offer everything a server might
// take and only read its first answer; no handshake is ever finished.

// Version numbers on the wire.
const (
	versionSSL30 = 0x0300
	versionTLS10 = 0x0301
	versionTLS11 = 0x0302
	versionTLS12 = 0x0303
	versionTLS13 = 0x0304
)

// helloSpec says what one ClientHello offers.
type helloSpec struct {
	Version    uint16 // the highest version offered, SSL 3.0 to TLS 1.3
	Suites     []uint16
	ServerName string // SNI; left out when empty or an IP address
	Random     [32]byte
	KeyShare   []byte // X25519 public key, sent in the TLS 1.3 probe
}

// Extension and group numbers (IANA TLS registries).
const (
	extServerName       = 0
	extSupportedGroups  = 10
	extECPointFormats   = 11
	extSignatureAlgs    = 13
	extPadding          = 21
	extExtendedMS       = 23
	extSupportedVersion = 43
	extKeyShare         = 51
	extRenegotiation    = 0xff01

	groupX25519 = 0x001d
)

// groups are offered in supported_groups: the elliptic curves and the
// RFC 7919 finite-field groups, so no ECDHE or DHE suite is refused for
// want of a group.
var groups = []uint16{groupX25519, 0x0017, 0x0018, 0x0019, 0x001e, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104}

// signatureAlgs include the SHA-1 and SHA-224 schemes so that a server
// whose only certificate or key signs with them can still answer.
var signatureAlgs = []uint16{
	0x0403, 0x0503, 0x0603, 0x0807, 0x0808, // ECDSA SHA-2, Ed25519, Ed448
	0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b, // RSA-PSS
	0x0401, 0x0501, 0x0601, // RSA PKCS#1 SHA-2
	0x0402, 0x0502, 0x0602, // DSA SHA-2
	0x0303, 0x0301, 0x0302, // SHA-224
	0x0203, 0x0201, 0x0202, // SHA-1
}

// buildClientHello encodes h as one TLS record.
func buildClientHello(h helloSpec) []byte {
	legacy := h.Version
	if legacy > versionTLS12 {
		legacy = versionTLS12 // TLS 1.3 is offered in supported_versions
	}
	var body builder
	body.u16(legacy)
	body.bytes(h.Random[:])
	if h.Version >= versionTLS13 {
		// A non-empty session id keeps middleboxes calm (RFC 8446 D.4).
		body.u8(32)
		body.bytes(h.Random[:])
	} else {
		body.u8(0)
	}
	body.u16(uint16(2 * len(h.Suites)))
	for _, s := range h.Suites {
		body.u16(s)
	}
	body.u8(1) // compression methods: null only
	body.u8(0)

	var ext builder
	if name := sniName(h.ServerName); name != "" {
		ext.extension(extServerName, func(b *builder) {
			b.u16(uint16(3 + len(name)))
			b.u8(0) // host_name
			b.u16(uint16(len(name)))
			b.bytes([]byte(name))
		})
	}
	ext.extension(extSupportedGroups, func(b *builder) {
		b.u16(uint16(2 * len(groups)))
		for _, g := range groups {
			b.u16(g)
		}
	})
	ext.extension(extECPointFormats, func(b *builder) { b.u8(1); b.u8(0) })
	if h.Version >= versionTLS12 {
		// Defined from TLS 1.2 on; some older servers choke on it.
		ext.extension(extSignatureAlgs, func(b *builder) {
			b.u16(uint16(2 * len(signatureAlgs)))
			for _, a := range signatureAlgs {
				b.u16(a)
			}
		})
	}
	ext.extension(extRenegotiation, func(b *builder) { b.u8(0) })
	ext.extension(extExtendedMS, func(*builder) {})
	if h.Version >= versionTLS13 {
		ext.extension(extSupportedVersion, func(b *builder) { b.u8(2); b.u16(versionTLS13) })
		ext.extension(extKeyShare, func(b *builder) {
			b.u16(uint16(4 + len(h.KeyShare)))
			b.u16(groupX25519)
			b.u16(uint16(len(h.KeyShare)))
			b.bytes(h.KeyShare)
		})
	}
	// Some servers hang on hellos of 256 to 511 bytes (RFC 7685): pad to 512.
	if n := 4 + len(body.b) + 2 + len(ext.b); n >= 256 && n < 512 {
		pad := 512 - n - 4
		ext.extension(extPadding, func(b *builder) { b.bytes(make([]byte, pad)) })
	}
	body.u16(uint16(len(ext.b)))
	body.bytes(ext.b)

	var rec builder
	rec.u8(recordHandshake)
	if h.Version == versionSSL30 {
		rec.u16(versionSSL30)
	} else {
		rec.u16(versionTLS10) // what every client sends for its first record
	}
	rec.u16(uint16(4 + len(body.b)))
	rec.u8(handshakeClientHello)
	rec.u24(len(body.b))
	rec.bytes(body.b)
	return rec.b
}

// sniName is the name to send in SNI: not an address (RFC 6066 section 3),
// not empty, at most 255 bytes.
func sniName(s string) string {
	if s == "" || len(s) > 255 {
		return ""
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return ""
	}
	return s
}

// builder appends big-endian fields.
type builder struct{ b []byte }

func (b *builder) u8(v uint8)     { b.b = append(b.b, v) }
func (b *builder) u16(v uint16)   { b.b = append(b.b, byte(v>>8), byte(v)) }
func (b *builder) u24(v int)      { b.b = append(b.b, byte(v>>16), byte(v>>8), byte(v)) }
func (b *builder) bytes(p []byte) { b.b = append(b.b, p...) }
func (b *builder) extension(typ uint16, fill func(*builder)) {
	var inner builder
	fill(&inner)
	b.u16(typ)
	b.u16(uint16(len(inner.b)))
	b.bytes(inner.b)
}
