package tlscheck

import (
	"crypto/tls"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/certtest"
)

// goServer runs crypto/tls's server on one end of a pipe, records the
// ClientHello it parsed, and returns the other end.
func goServer(t *testing.T, cfg *tls.Config) (net.Conn, <-chan *tls.ClientHelloInfo) {
	t.Helper()
	client, server := net.Pipe()
	seen := make(chan *tls.ClientHelloInfo, 1)
	cfg = cfg.Clone()
	cfg.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		seen <- h
		return nil, nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = server.SetDeadline(time.Now().Add(5 * time.Second))
		_ = tls.Server(server, cfg).Handshake()
		server.Close()
	}()
	t.Cleanup(func() { client.Close(); <-done })
	return client, seen
}

func serverConfig(t *testing.T) *tls.Config {
	ca := certtest.NewCA(t, "Test Root")
	leaf := ca.Server(t, "redis")
	cert, err := tls.LoadX509KeyPair(leaf.ChainFile, leaf.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10}
}

// Go's own parser is the oracle for the encoding: it must see exactly
// what the hello offers.
func TestClientHelloAsGoParsesIt(t *testing.T) {
	cfg := serverConfig(t)
	for _, v := range probedVersions {
		t.Run(versionName(v), func(t *testing.T) {
			offer := legacySuites(false)
			if v == versionTLS13 {
				offer = tls13Suites()
			}
			c, seen := goServer(t, cfg)
			spec := helloSpec{Version: v, Suites: offer, ServerName: "redis.example", KeyShare: make([]byte, 32)}
			spec.KeyShare[0] = 9
			hello := buildClientHello(spec)
			if n := len(hello) - 5; n >= 256 && n < 512 {
				t.Errorf("hello body of %d bytes, padding missing", n)
			}
			go func() { _, _ = c.Write(hello) }()
			var h *tls.ClientHelloInfo
			select {
			case h = <-seen:
			case <-time.After(5 * time.Second):
				t.Fatal("Go's server did not parse the hello")
			}
			if !slices.Equal(h.CipherSuites, offer) {
				t.Errorf("suites %x, want %x", h.CipherSuites, offer)
			}
			if h.ServerName != "redis.example" {
				t.Errorf("SNI %q", h.ServerName)
			}
			wantVersions := []uint16{v}
			if v < versionTLS13 {
				// Go lists the versions from the legacy maximum down to
				// TLS 1.0, the oldest it knows.
				wantVersions = nil
				for x := v; x >= versionTLS10; x-- {
					wantVersions = append(wantVersions, x)
				}
			}
			if !slices.Equal(h.SupportedVersions, wantVersions) {
				t.Errorf("versions %x, want %x", h.SupportedVersions, wantVersions)
			}
			for _, g := range []tls.CurveID{tls.X25519, tls.CurveP256, 0x0100} {
				if !slices.Contains(h.SupportedCurves, g) {
					t.Errorf("group %x not offered: %x", g, h.SupportedCurves)
				}
			}
			if !slices.Equal(h.SupportedPoints, []uint8{0}) {
				t.Errorf("point formats %x", h.SupportedPoints)
			}
			hasSHA1 := slices.Contains(h.SignatureSchemes, tls.PKCS1WithSHA1)
			if v >= versionTLS12 != hasSHA1 {
				t.Errorf("%s: signature schemes %x", versionName(v), h.SignatureSchemes)
			}
		})
	}
}

func TestClientHelloLeavesAddressesOutOfSNI(t *testing.T) {
	for _, name := range []string{"127.0.0.1", "::1", ""} {
		a := buildClientHello(helloSpec{Version: versionTLS12, Suites: []uint16{0x002f}, ServerName: name})
		b := buildClientHello(helloSpec{Version: versionTLS12, Suites: []uint16{0x002f}})
		if string(a) != string(b) {
			t.Errorf("%q changed the hello", name)
		}
	}
}

// Go's server answers are read back: version, suite, alerts.
func TestServerReplyFromGo(t *testing.T) {
	base := serverConfig(t)
	for _, tc := range []struct {
		name      string
		min, max  uint16
		offer     uint16
		suites    []uint16
		want      verdict
		wantVer   uint16
		wantAlert byte
	}{
		{"TLS 1.2 at 1.2", tls.VersionTLS10, tls.VersionTLS12, versionTLS12, legacySuites(false), verdictAccepted, versionTLS12, 0},
		{"TLS 1.3 at 1.3", tls.VersionTLS12, tls.VersionTLS13, versionTLS13, tls13Suites(), verdictAccepted, versionTLS13, 0},
		{"TLS 1.3 to a 1.2 server", tls.VersionTLS12, tls.VersionTLS12, versionTLS13, tls13Suites(), verdictRefused, 0, 70},
		{"TLS 1.1 to a 1.2+ server", tls.VersionTLS12, tls.VersionTLS13, versionTLS11, legacySuites(false), verdictRefused, 0, 70},
		{"TLS 1.2 to a 1.1 server", tls.VersionTLS10, tls.VersionTLS11, versionTLS12, legacySuites(false), verdictRefused, versionTLS11, 0},
		{"weak suites only", tls.VersionTLS12, tls.VersionTLS12, versionTLS12, []uint16{0x0001, 0x0003}, verdictRefused, 0, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base.Clone()
			cfg.MinVersion, cfg.MaxVersion = tc.min, tc.max
			c, _ := goServer(t, cfg)
			spec := helloSpec{Version: tc.offer, Suites: tc.suites}
			if tc.offer == versionTLS13 {
				spec.KeyShare = make([]byte, 32)
				spec.KeyShare[0] = 9 // the X25519 base point: a valid public key
			}
			go func() { _, _ = c.Write(buildClientHello(spec)) }()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			r, err := readServerReply(c)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			o := helloOutcome{Offered: tc.offer, Suites: tc.suites, Connected: true, Reply: r}
			v := judgeHello(o)
			if v.Verdict != tc.want {
				t.Errorf("verdict %v (%s), want %v; reply %+v", v.Verdict, v.Why, tc.want, r)
			}
			if tc.wantVer != 0 && r.negotiated() != tc.wantVer {
				t.Errorf("version %x, want %x", r.negotiated(), tc.wantVer)
			}
			if tc.wantAlert != 0 && (!r.Alert || r.AlertDesc != tc.wantAlert) {
				t.Errorf("reply %+v, want alert %d", r, tc.wantAlert)
			}
			if tc.want == verdictAccepted && !slices.Contains(tc.suites, r.Suite) {
				t.Errorf("suite %x not offered", r.Suite)
			}
			if tc.offer == versionTLS12 && tc.max == tls.VersionTLS12 && r.Downgrade != 0 {
				t.Errorf("downgrade sentinel from a server without TLS 1.3")
			}
		})
	}
}

// A TLS 1.3 server answering a TLS 1.2 hello marks its random (RFC 8446
// 4.1.3); the parser reports it.
func TestDowngradeSentinelFromGo(t *testing.T) {
	cfg := serverConfig(t)
	cfg.MaxVersion = tls.VersionTLS13
	c, _ := goServer(t, cfg)
	go func() {
		_, _ = c.Write(buildClientHello(helloSpec{Version: versionTLS12, Suites: legacySuites(false)}))
	}()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	r, err := readServerReply(c)
	if err != nil || r.Downgrade != 1 {
		t.Fatalf("reply %+v, err %v: want the TLS 1.2 downgrade sentinel", r, err)
	}
	var nt *notTLSError
	if errors.As(err, &nt) {
		t.Fatal(err)
	}
}

// FuzzClientHello: whatever version, suites and server name, the encoding
// is one well-formed record that Go's server parses back to the same offer.
func FuzzClientHello(f *testing.F) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS10}
	f.Add(uint16(versionTLS12), []byte{0x00, 0x2f, 0xc0, 0x13}, "redis.example")
	f.Add(uint16(versionTLS13), []byte{0x13, 0x01}, "")
	f.Add(uint16(versionSSL30), []byte{0x00, 0x0a}, "10.0.0.1")
	f.Fuzz(func(t *testing.T, version uint16, raw []byte, name string) {
		version = versionSSL30 + version%5
		if len(raw) > 400 {
			raw = raw[:400]
		}
		var offer []uint16
		for i := 0; i+1 < len(raw); i += 2 {
			if id := uint16(raw[i])<<8 | uint16(raw[i+1]); id != 0x00ff && id != 0x5600 { // SCSVs Go acts on
				offer = append(offer, id)
			}
		}
		if len(offer) == 0 {
			offer = []uint16{0x002f}
		}
		// Names Go itself would refuse (outside [a-z0-9.-], a trailing
		// dot) are not what this target is about.
		name = strings.Trim(strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
				return r
			}
			return -1
		}, name), ".")
		spec := helloSpec{Version: version, Suites: offer, ServerName: name, KeyShare: make([]byte, 32)}
		rec := buildClientHello(spec)
		if n := int(rec[3])<<8 | int(rec[4]); n != len(rec)-5 || n > 1<<14 {
			t.Fatalf("record length %d for %d bytes", n, len(rec)-5)
		}
		c, seen := goServer(t, cfg)
		go func() { _, _ = c.Write(rec) }()
		select {
		case h := <-seen:
			if !slices.Equal(h.CipherSuites, offer) {
				t.Fatalf("suites %x, want %x", h.CipherSuites, offer)
			}
			if want := sniName(name); h.ServerName != want {
				t.Fatalf("SNI %q, want %q", h.ServerName, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Go's server did not parse the hello")
		}
	})
}
