package tlscheck

import (
	"context"
	"io"
	"strings"
	"syscall"
	"testing"

	. "github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

func hello(v, suite uint16) helloOutcome {
	return helloOutcome{Offered: v, Suites: legacySuites(false), Connected: true, Reply: serverReply{Version: v, Suite: suite}}
}

func alertOf(v uint16, desc byte) helloOutcome {
	return helloOutcome{Offered: v, Suites: legacySuites(false), Connected: true, Reply: serverReply{Alert: true, AlertLevel: 2, AlertDesc: desc}}
}

func failed(v uint16, err error) helloOutcome {
	return helloOutcome{Offered: v, Suites: legacySuites(false), Connected: true, Err: err}
}

func TestJudgeHelloRules(t *testing.T) {
	tls13 := helloOutcome{Offered: versionTLS13, Suites: tls13Suites(), Connected: true,
		Reply: serverReply{Version: versionTLS12, Selected: versionTLS13, Suite: 0x1302}}
	for _, tc := range []struct {
		name string
		o    helloOutcome
		want verdict
		why  string
	}{
		{"same version", hello(versionTLS10, 0x0033), verdictAccepted, "DHE-RSA-AES128-SHA"},
		{"TLS 1.3 in supported_versions", tls13, verdictAccepted, "TLS_AES_256_GCM_SHA384"},
		{"hello retry", func() helloOutcome { o := tls13; o.Reply.HelloRetry = true; return o }(), verdictAccepted, ""},
		{"protocol_version", alertOf(versionTLS11, 70), verdictRefused, "protocol_version"},
		{"handshake_failure", alertOf(versionTLS10, 40), verdictRefused, "handshake_failure: no suite at this version"},
		{"insufficient_security", alertOf(versionTLS10, 71), verdictRefused, "insufficient_security: no suite"},
		{"TLS 1.2", hello(versionTLS12, 0x0033), verdictAccepted, "DHE-RSA-AES128-SHA"},
		{"downgraded", func() helloOutcome { o := hello(versionTLS12, 0x0033); o.Reply.Version = versionTLS11; return o }(),
			verdictRefused, "the server chose TLS 1.1 instead"},
		{"TLS 1.3 answered with 1.2", func() helloOutcome { o := tls13; o.Reply.Selected = 0; return o }(),
			verdictRefused, "the server chose TLS 1.2 instead"},
		{"higher version chosen", func() helloOutcome { o := hello(versionTLS10, 0x0033); o.Reply.Version = versionTLS12; return o }(),
			verdictUnknown, "the server chose TLS 1.2, not offered"},
		{"supported_versions unasked", func() helloOutcome { o := hello(versionTLS12, 0x0033); o.Reply.Selected = versionTLS12; return o }(),
			verdictUnknown, "supported_versions"},
		{"suite not offered", hello(versionTLS12, 0x1301), verdictUnknown, "suite 0x1301, not offered"},
		{"garbage version", func() helloOutcome { o := hello(versionTLS12, 0x0033); o.Reply.Version = 0x0101; return o }(),
			verdictUnknown, "not offered"},
		{"unexpected alert", alertOf(versionTLS10, 10), verdictUnknown, "alert unexpected_message (10)"},
		{"internal error", alertOf(versionTLS10, 80), verdictUnknown, "internal_error (80)"},
		{"unnamed alert", alertOf(versionTLS10, 200), verdictUnknown, "alert 200"},
		{"close", failed(versionTLS10, io.EOF), verdictUnknown, "closed the connection without an alert"},
		{"reset", failed(versionTLS10, syscall.ECONNRESET), verdictUnknown, "closed the connection without an alert"},
		{"timeout", failed(versionTLS10, context.DeadlineExceeded), verdictUnknown, "no answer before the deadline"},
		{"garbage", failed(versionTLS10, &notTLSError{First: []byte("+PONG")}), verdictUnknown, "not TLS"},
		{"malformed", failed(versionTLS10, &malformedError{What: "record length 0"}), verdictUnknown, "record length 0"},
		{"refused", helloOutcome{Offered: versionTLS10, Err: syscall.ECONNREFUSED}, verdictUnknown, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := judgeHello(tc.o)
			if v.Verdict != tc.want || !strings.Contains(v.Why, tc.why) {
				t.Errorf("got %v %q, want %v %q", v.Verdict, v.Why, tc.want, tc.why)
			}
		})
	}
}

// scan builds a VersionScan from one outcome per version, oldest first.
func scan(os ...helloOutcome) VersionScan { return VersionScan{Probes: os} }

func texts(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.State.String() + ": " + f.Text + "\n")
	}
	return b.String()
}

func TestJudgeVersions(t *testing.T) {
	tls13ok := helloOutcome{Offered: versionTLS13, Suites: tls13Suites(), Connected: true,
		Reply: serverReply{Version: versionTLS12, Selected: versionTLS13, Suite: 0x1301}}
	tls13no := helloOutcome{Offered: versionTLS13, Suites: tls13Suites(), Connected: true,
		Reply: serverReply{Version: versionTLS12, Suite: 0xc02f}}
	modern := []helloOutcome{alertOf(versionSSL30, 70), alertOf(versionTLS10, 70), alertOf(versionTLS11, 70),
		hello(versionTLS12, 0xc02f), tls13ok}
	for _, tc := range []struct {
		name  string
		s     VersionScan
		floor uint16
		main  uint16
		want  []string // "STATE: text" fragments, in order
	}{
		{"modern server", scan(modern...), versionTLS12, versionTLS13, []string{
			"OK: protocol floor: TLS 1.1 and below refused (TLS 1.1: protocol_version, TLS 1.0: protocol_version, SSL 3.0: protocol_version)",
			"OK: versions at or above the floor: accepted TLS 1.2 (ECDHE-RSA-AES128-GCM-SHA256), TLS 1.3 (TLS_AES_128_GCM_SHA256)"}},
		{"DHE only at TLS 1.0", scan(alertOf(versionSSL30, 40), hello(versionTLS10, 0x0033), hello(versionTLS11, 0x0033),
			hello(versionTLS12, 0x0033), tls13ok), versionTLS12, versionTLS13, []string{
			`CRITICAL: protocol floor: the server accepts TLS 1.0, below --min-tls-version TLS 1.2 (chose DHE-RSA-AES128-SHA): set tls-protocols "TLSv1.2 TLSv1.3"`,
			"CRITICAL: protocol floor: the server accepts TLS 1.1",
			"OK: protocol floor: refused SSL 3.0: handshake_failure"}},
		{"floor 1.3", scan(modern...), versionTLS13, versionTLS13, []string{
			`CRITICAL: protocol floor: the server accepts TLS 1.2, below --min-tls-version TLS 1.3 (chose ECDHE-RSA-AES128-GCM-SHA256): set tls-protocols "TLSv1.3"`,
			"OK: protocol floor: refused TLS 1.1: protocol_version"}},
		{"floor 1.0", scan(modern...), versionTLS10, versionTLS13, []string{"OK: protocol floor: SSL 3.0 refused (SSL 3.0: protocol_version)",
			"OK: versions at or above the floor: accepted TLS 1.2 (ECDHE-RSA-AES128-GCM-SHA256), TLS 1.3 (TLS_AES_128_GCM_SHA256); refused TLS 1.0 (protocol_version), TLS 1.1"}},
		{"silent on TLS 1.0", scan(alertOf(versionSSL30, 70), failed(versionTLS10, io.EOF), alertOf(versionTLS11, 70),
			hello(versionTLS12, 0xc02f), tls13ok), versionTLS12, versionTLS13, []string{
			"UNKNOWN: protocol floor: TLS 1.0 not verified: the server closed the connection without an alert",
			"OK: protocol floor: refused TLS 1.1: protocol_version, SSL 3.0: protocol_version"}},
		{"DOWNGRD00 proves nothing about TLS 1.3", scan(alertOf(versionSSL30, 70), func() helloOutcome {
			o := hello(versionTLS10, 0xc013)
			o.Reply.Downgrade = 2
			return o
		}(), alertOf(versionTLS11, 70), hello(versionTLS12, 0xc02f), tls13no), versionTLS10, versionTLS12, []string{
			"refused TLS 1.1 (protocol_version), TLS 1.3 (the server chose TLS 1.2 instead)"}},
		{"probe contradicts Go", scan(alertOf(versionSSL30, 70), alertOf(versionTLS10, 70), alertOf(versionTLS11, 40),
			hello(versionTLS12, 0xc02f), tls13ok), versionTLS13, versionTLS11, []string{
			"UNKNOWN: protocol floor: TLS 1.1 not verified: refused a hand-built hello (handshake_failure: no suite at this version) though a Go handshake negotiated it"}},
		{"downgrade sentinel without TLS 1.3", scan(alertOf(versionSSL30, 70), alertOf(versionTLS10, 70), alertOf(versionTLS11, 70),
			func() helloOutcome { o := hello(versionTLS12, 0xc02f); o.Reply.Downgrade = 1; return o }(), tls13no), versionTLS12, versionTLS12, []string{
			"OK: versions at or above the floor: accepted TLS 1.2 (ECDHE-RSA-AES128-GCM-SHA256); not determined TLS 1.3 (refused (the server chose TLS 1.2 instead), yet the server's lower-version answers carry the TLS 1.3 downgrade sentinel)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := texts(JudgeVersions(tc.s, tc.floor, tc.main))
			at := 0
			for _, w := range tc.want {
				i := strings.Index(got[at:], w)
				if i < 0 {
					t.Fatalf("missing (in order) %q in\n%s", w, got)
				}
				at += i + len(w)
			}
		})
	}
}

func TestJudgeSuites(t *testing.T) {
	weak := legacySuites(true)
	step := func(suite uint16) helloOutcome {
		return helloOutcome{Offered: versionTLS12, Suites: weak, Connected: true, Reply: serverReply{Version: versionTLS12, Suite: suite}}
	}
	end := alertOf(versionTLS12, 40)
	tls13only := scan(alertOf(versionSSL30, 70), alertOf(versionTLS10, 70), alertOf(versionTLS11, 70), alertOf(versionTLS12, 70),
		helloOutcome{Offered: versionTLS13, Suites: tls13Suites(), Connected: true, Reply: serverReply{Version: versionTLS12, Selected: versionTLS13, Suite: 0x1301}})
	for _, tc := range []struct {
		name  string
		s     VersionScan
		state State
		want  []string
	}{
		{"none weak", VersionScan{Suites: SuiteScan{Version: versionTLS12, Steps: []helloOutcome{end}}}, OK,
			[]string{"OK: cipher suites at TLS 1.2: no weak suite accepted"}},
		{"default OpenSSL", VersionScan{Suites: SuiteScan{Version: versionTLS12, Steps: []helloOutcome{step(0xc013), step(0x009c), step(0x002f), end}}}, Warning,
			[]string{"WARNING: weak cipher suites at TLS 1.2: accepts ECDHE-RSA-AES128-SHA (CBC with SHA-1), AES128-GCM-SHA256 (no forward secrecy), AES128-SHA (no forward secrecy, CBC with SHA-1): set tls-ciphers \"ECDHE-ECDSA-AES128-GCM-SHA256:"}},
		{"NULL and anonymous", VersionScan{Suites: SuiteScan{Version: versionTLS12, Steps: []helloOutcome{step(0x0002), step(0x0034), step(0x000a), end}}}, Critical,
			[]string{"CRITICAL: cipher suites at TLS 1.2: accepts NULL-SHA (no encryption, no forward secrecy), ADH-AES128-SHA (no authentication, CBC with SHA-1): set tls-ciphers",
				"WARNING: weak cipher suites at TLS 1.2: accepts DES-CBC3-SHA (3DES, no forward secrecy, CBC with SHA-1)"}},
		{"cut short", VersionScan{Suites: SuiteScan{Version: versionTLS12, Steps: []helloOutcome{step(0x0005), failed(versionTLS12, io.EOF)}}}, Unknown,
			[]string{"WARNING: weak cipher suites at TLS 1.2: accepts RC4-SHA (RC4, no forward secrecy) and maybe more",
				"UNKNOWN: cipher suites at TLS 1.2: enumeration incomplete: the server closed the connection without an alert"}},
		{"capped", VersionScan{Suites: SuiteScan{Version: versionTLS12, Steps: []helloOutcome{step(0x0005)}, Capped: true}}, Unknown,
			[]string{"enumeration incomplete: stopped after 1 handshakes"}},
		{"first step unclear", VersionScan{Suites: SuiteScan{Version: versionTLS10, Steps: []helloOutcome{alertOf(versionTLS10, 80)}}}, Unknown,
			[]string{"UNKNOWN: cipher suites at TLS 1.0 not verified: the server answered with alert internal_error (80)"}},
		{"TLS 1.3 only", tls13only, OK, []string{"OK: cipher suites: TLS 1.3 only"}},
		{"nothing clear", scan(failed(versionTLS12, io.EOF)), Unknown, []string{"UNKNOWN: cipher suites not verified"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := JudgeSuites(tc.s)
			got := texts(fs)
			if Worst(func() []State {
				var s []State
				for _, f := range fs {
					s = append(s, f.State)
				}
				return s
			}()...) != tc.state {
				t.Errorf("state, want %v:\n%s", tc.state, got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in\n%s", w, got)
				}
			}
		})
	}
}

// Every weak suite is offered in the enumeration and every suite has one
// number only.
func TestSuiteTable(t *testing.T) {
	seen := map[uint16]bool{}
	names := map[string]bool{}
	for _, s := range suites {
		if seen[s.ID] || names[s.Name] {
			t.Errorf("duplicate %04x %s", s.ID, s.Name)
		}
		seen[s.ID], names[s.Name] = true, true
		if s.TLS13 && s.Weak != 0 {
			t.Errorf("%s: TLS 1.3 suites are not judged weak", s.Name)
		}
	}
	for _, name := range strings.Split(strongCiphers, ":") {
		if !names[name] {
			t.Errorf("recommended %s is not probed", name)
		}
		for _, s := range suites {
			if s.Name == name && s.Weak != 0 {
				t.Errorf("recommended %s is judged weak", name)
			}
		}
	}
}
