package tlscheck

// The cipher suites the hand-built probes offer: every suite a server of
// the last twenty years might still accept, weak ones included, so that a
// handshake_failure means "no suite in common" and not "Go does not offer
// it". PSK, SRP, Kerberos and GOST suites are left out: no Redis
// deployment negotiates them without client-side secrets.

// weakness is a bit set of the reasons a suite is weak.
type weakness uint16

const (
	weakNoFS    weakness = 1 << iota // RSA key exchange: no forward secrecy
	weakCBCSHA1                      // CBC with an HMAC-SHA1 (Lucky13 family, no AEAD)
	weak3DES                         // 64-bit block (Sweet32)
	weakRC4                          // RC4 (RFC 7465 forbids it)
	weakDES                          // single DES, 56-bit key
	weakNull                         // no encryption at all
	weakExport                       // 40/56-bit export grade
	weakAnon                         // no server authentication
)

// suite is one cipher suite: its IANA number, the OpenSSL name Redis's
// tls-ciphers directive takes, and what is weak about it.
type suite struct {
	ID    uint16
	Name  string
	Weak  weakness
	TLS13 bool // a TLS 1.3 suite (offered only in the TLS 1.3 probe)
}

const (
	cbc1 = weakCBCSHA1
	rsa  = weakNoFS
)

// suites lists the probed suites, strongest first, as a client would.
var suites = []suite{
	// TLS 1.3 (RFC 8446): all AEAD with forward secrecy.
	{0x1301, "TLS_AES_128_GCM_SHA256", 0, true},
	{0x1302, "TLS_AES_256_GCM_SHA384", 0, true},
	{0x1303, "TLS_CHACHA20_POLY1305_SHA256", 0, true},
	{0x1304, "TLS_AES_128_CCM_SHA256", 0, true},
	{0x1305, "TLS_AES_128_CCM_8_SHA256", 0, true},

	// Forward secrecy and AEAD.
	{0xc02b, "ECDHE-ECDSA-AES128-GCM-SHA256", 0, false},
	{0xc02f, "ECDHE-RSA-AES128-GCM-SHA256", 0, false},
	{0xc02c, "ECDHE-ECDSA-AES256-GCM-SHA384", 0, false},
	{0xc030, "ECDHE-RSA-AES256-GCM-SHA384", 0, false},
	{0xcca9, "ECDHE-ECDSA-CHACHA20-POLY1305", 0, false},
	{0xcca8, "ECDHE-RSA-CHACHA20-POLY1305", 0, false},
	{0x009e, "DHE-RSA-AES128-GCM-SHA256", 0, false},
	{0x009f, "DHE-RSA-AES256-GCM-SHA384", 0, false},
	{0xccaa, "DHE-RSA-CHACHA20-POLY1305", 0, false},
	{0x00a2, "DHE-DSS-AES128-GCM-SHA256", 0, false},
	{0x00a3, "DHE-DSS-AES256-GCM-SHA384", 0, false},
	{0xc0ac, "ECDHE-ECDSA-AES128-CCM", 0, false},
	{0xc0ad, "ECDHE-ECDSA-AES256-CCM", 0, false},
	{0xc09e, "DHE-RSA-AES128-CCM", 0, false},
	{0xc09f, "DHE-RSA-AES256-CCM", 0, false},

	// Forward secrecy, CBC with SHA-2.
	{0xc023, "ECDHE-ECDSA-AES128-SHA256", 0, false},
	{0xc027, "ECDHE-RSA-AES128-SHA256", 0, false},
	{0xc024, "ECDHE-ECDSA-AES256-SHA384", 0, false},
	{0xc028, "ECDHE-RSA-AES256-SHA384", 0, false},
	{0x0067, "DHE-RSA-AES128-SHA256", 0, false},
	{0x006b, "DHE-RSA-AES256-SHA256", 0, false},
	{0x0040, "DHE-DSS-AES128-SHA256", 0, false},
	{0x006a, "DHE-DSS-AES256-SHA256", 0, false},

	// Forward secrecy, CBC with SHA-1: the only suites TLS 1.0/1.1 know.
	{0xc009, "ECDHE-ECDSA-AES128-SHA", cbc1, false},
	{0xc013, "ECDHE-RSA-AES128-SHA", cbc1, false},
	{0xc00a, "ECDHE-ECDSA-AES256-SHA", cbc1, false},
	{0xc014, "ECDHE-RSA-AES256-SHA", cbc1, false},
	{0x0033, "DHE-RSA-AES128-SHA", cbc1, false},
	{0x0039, "DHE-RSA-AES256-SHA", cbc1, false},
	{0x0032, "DHE-DSS-AES128-SHA", cbc1, false},
	{0x0038, "DHE-DSS-AES256-SHA", cbc1, false},
	{0x0045, "DHE-RSA-CAMELLIA128-SHA", cbc1, false},
	{0x0088, "DHE-RSA-CAMELLIA256-SHA", cbc1, false},

	// RSA key exchange: no forward secrecy.
	{0x009c, "AES128-GCM-SHA256", rsa, false},
	{0x009d, "AES256-GCM-SHA384", rsa, false},
	{0xc09c, "AES128-CCM", rsa, false},
	{0xc09d, "AES256-CCM", rsa, false},
	{0x003c, "AES128-SHA256", rsa, false},
	{0x003d, "AES256-SHA256", rsa, false},
	{0x002f, "AES128-SHA", rsa | cbc1, false},
	{0x0035, "AES256-SHA", rsa | cbc1, false},
	{0x0041, "CAMELLIA128-SHA", rsa | cbc1, false},
	{0x0084, "CAMELLIA256-SHA", rsa | cbc1, false},
	{0x0096, "SEED-SHA", rsa | cbc1, false},
	{0x0007, "IDEA-CBC-SHA", rsa | cbc1, false},

	// 3DES.
	{0xc008, "ECDHE-ECDSA-DES-CBC3-SHA", weak3DES | cbc1, false},
	{0xc012, "ECDHE-RSA-DES-CBC3-SHA", weak3DES | cbc1, false},
	{0x0016, "DHE-RSA-DES-CBC3-SHA", weak3DES | cbc1, false},
	{0x0013, "DHE-DSS-DES-CBC3-SHA", weak3DES | cbc1, false},
	{0x000a, "DES-CBC3-SHA", weak3DES | rsa | cbc1, false},

	// RC4 and single DES.
	{0xc007, "ECDHE-ECDSA-RC4-SHA", weakRC4, false},
	{0xc011, "ECDHE-RSA-RC4-SHA", weakRC4, false},
	{0x0005, "RC4-SHA", weakRC4 | rsa, false},
	{0x0004, "RC4-MD5", weakRC4 | rsa, false},
	{0x0015, "EDH-RSA-DES-CBC-SHA", weakDES | cbc1, false},
	{0x0009, "DES-CBC-SHA", weakDES | rsa | cbc1, false},

	// No authentication.
	{0xc018, "AECDH-AES128-SHA", weakAnon | cbc1, false},
	{0xc019, "AECDH-AES256-SHA", weakAnon | cbc1, false},
	{0x00a6, "ADH-AES128-GCM-SHA256", weakAnon, false},
	{0x00a7, "ADH-AES256-GCM-SHA384", weakAnon, false},
	{0x006c, "ADH-AES128-SHA256", weakAnon, false},
	{0x006d, "ADH-AES256-SHA256", weakAnon, false},
	{0x0034, "ADH-AES128-SHA", weakAnon | cbc1, false},
	{0x003a, "ADH-AES256-SHA", weakAnon | cbc1, false},
	{0xc017, "AECDH-DES-CBC3-SHA", weakAnon | weak3DES | cbc1, false},
	{0x001b, "ADH-DES-CBC3-SHA", weakAnon | weak3DES | cbc1, false},
	{0xc016, "AECDH-RC4-SHA", weakAnon | weakRC4, false},
	{0x0018, "ADH-RC4-MD5", weakAnon | weakRC4, false},

	// No encryption.
	{0xc006, "ECDHE-ECDSA-NULL-SHA", weakNull, false},
	{0xc010, "ECDHE-RSA-NULL-SHA", weakNull, false},
	{0xc015, "AECDH-NULL-SHA", weakNull | weakAnon, false},
	{0x003b, "NULL-SHA256", weakNull | rsa, false},
	{0x0002, "NULL-SHA", weakNull | rsa, false},
	{0x0001, "NULL-MD5", weakNull | rsa, false},

	// Export grade.
	{0x0014, "EXP-EDH-RSA-DES-CBC-SHA", weakExport, false},
	{0x0011, "EXP-EDH-DSS-DES-CBC-SHA", weakExport, false},
	{0x0008, "EXP-DES-CBC-SHA", weakExport | rsa, false},
	{0x0006, "EXP-RC2-CBC-MD5", weakExport | rsa, false},
	{0x0003, "EXP-RC4-MD5", weakExport | rsa, false},
}

// suiteByID finds a probed suite; ok is false for a number the probes
// never offer.
func suiteByID(id uint16) (suite, bool) {
	for _, s := range suites {
		if s.ID == id {
			return s, true
		}
	}
	return suite{}, false
}

// legacySuites are the suite numbers offered to TLS 1.2 and below; weakOnly
// keeps the weak ones, the most serious first: a server that follows the
// client's order (OpenSSL's default, Redis's tls-prefer-server-ciphers no)
// then shows its worst suites before any cap is reached.
func legacySuites(weakOnly bool) []uint16 {
	var out []uint16
	for rank := 0; rank < 3; rank++ {
		for _, s := range suites {
			if s.TLS13 || (weakOnly && (s.Weak == 0 || s.Weak.rank() != rank)) || (!weakOnly && rank > 0) {
				continue
			}
			out = append(out, s.ID)
		}
	}
	return out
}

// rank orders weaknesses: 0 for broken, 1 for obsolete ciphers, 2 for the
// rest.
func (w weakness) rank() int {
	switch {
	case w&broken != 0:
		return 0
	case w&(weakRC4|weakDES|weak3DES) != 0:
		return 1
	}
	return 2
}

// tls13Suites are the suite numbers offered in the TLS 1.3 probe.
func tls13Suites() []uint16 {
	var out []uint16
	for _, s := range suites {
		if s.TLS13 {
			out = append(out, s.ID)
		}
	}
	return out
}

// weaknessNames lists what is weak, most serious first.
func (w weakness) names() []string {
	var out []string
	for _, n := range []struct {
		w    weakness
		name string
	}{
		{weakNull, "no encryption"}, {weakAnon, "no authentication"}, {weakExport, "export grade"},
		{weakRC4, "RC4"}, {weakDES, "single DES"}, {weak3DES, "3DES"},
		{weakNoFS, "no forward secrecy"}, {weakCBCSHA1, "CBC with SHA-1"},
	} {
		if w&n.w != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// broken are the weaknesses that leave a connection as readable or as
// spoofable as plaintext, which the check reports as CRITICAL like an open
// plaintext port.
const broken = weakNull | weakAnon | weakExport
