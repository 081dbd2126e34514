package tlscheck

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/neterr"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Judging the hand-built probes (versionprobe.go). Pure: facts in,
// findings out.

type verdict int

const (
	verdictUnknown  verdict = iota
	verdictAccepted         // ServerHello at the offered version
	verdictRefused          // protocol_version, no suite in common, or a lower version chosen
)

// helloVerdict is one probe's reading: Why explains it in a finding.
type helloVerdict struct {
	Verdict verdict
	Why     string
}

// judgeHello reads one probe by the rules a scanner uses: a ServerHello at
// the offered version is acceptance; protocol_version, or handshake_failure
// / insufficient_security with every suite offered, is refusal, as is a
// ServerHello at a lower version (a server picks the highest version it
// shares, RFC 5246 appendix E.1); anything else proves nothing.
func judgeHello(o helloOutcome) helloVerdict {
	u := func(format string, args ...any) helloVerdict {
		return helloVerdict{verdictUnknown, fmt.Sprintf(format, args...)}
	}
	if o.Err != nil {
		return u("%s", describeProbeErr(o))
	}
	r := o.Reply
	if r.Alert {
		switch r.AlertDesc {
		case 70:
			return helloVerdict{verdictRefused, "protocol_version"}
		case 40, 71:
			return helloVerdict{verdictRefused, alertNames[r.AlertDesc] + ": no suite at this version"}
		}
		return u("the server answered with alert %s", alertName(r.AlertDesc))
	}
	if r.Selected != 0 && o.Offered < versionTLS13 {
		return u("the server sent supported_versions (%s) to a hello without it", versionName(r.Selected))
	}
	got := r.negotiated()
	switch {
	case got > o.Offered || got < versionSSL30:
		return u("the server chose %s, not offered", versionName(got))
	case got < o.Offered:
		return helloVerdict{verdictRefused, "the server chose " + versionName(got) + " instead"}
	case !slices.Contains(o.Suites, r.Suite):
		return u("the server chose suite 0x%04x, not offered", r.Suite)
	}
	return helloVerdict{verdictAccepted, suiteName(r.Suite)}
}

// describeProbeErr names how a probe ended without an answer.
func describeProbeErr(o helloOutcome) string {
	err := o.Err
	var nt *notTLSError
	var mf *malformedError
	switch {
	case !o.Connected && neterr.Classify(err) == neterr.Refused:
		return "connection refused"
	case !o.Connected:
		return "cannot connect: " + err.Error()
	case errors.As(err, &nt):
		return "the answer is not TLS"
	case errors.As(err, &mf):
		return mf.Error()
	case neterr.Classify(err) == neterr.Timeout:
		return "no answer before the deadline"
	case neterr.Is(err, neterr.Closed, neterr.Reset):
		return "the server closed the connection without an alert"
	}
	return err.Error()
}

func suiteName(id uint16) string {
	if s, ok := suiteByID(id); ok {
		return s.Name
	}
	return fmt.Sprintf("suite 0x%04x", id)
}

// protocolsLine is the tls-protocols directive that keeps floor and above.
func protocolsLine(floor uint16) string {
	var v []string
	for _, x := range []uint16{versionTLS10, versionTLS11, versionTLS12, versionTLS13} {
		if x >= floor {
			v = append(v, strings.Replace(versionName(x), "TLS 1.0", "TLS 1", 1))
		}
	}
	return `tls-protocols "` + strings.ReplaceAll(strings.Join(v, " "), "TLS ", "TLSv") + `"`
}

// JudgeVersions reads the per-version probes against the floor. main is the
// version Go's own handshake negotiated (0 when it failed): a probe refused
// at that version contradicts it and is reported as unverified.
func JudgeVersions(s VersionScan, floor, main uint16) []result.Finding {
	var out []result.Finding
	var refused, accepted, unsure, belowRefused []string
	sentinel := false
	for _, p := range s.Probes {
		// DOWNGRD01 on a TLS 1.2 answer comes only from a TLS 1.3
		// server; DOWNGRD00 may come from a TLS 1.2 one (RFC 8446 4.1.3).
		if !p.Reply.Alert && p.Err == nil && p.Reply.Downgrade == 1 && p.Reply.negotiated() == versionTLS12 {
			sentinel = true
		}
	}
	for _, p := range s.Probes {
		v := judgeHello(p)
		name := versionName(p.Offered)
		switch {
		case v.Verdict == verdictRefused && p.Offered == main:
			v = helloVerdict{verdictUnknown, fmt.Sprintf("refused a hand-built hello (%s) though a Go handshake negotiated it", v.Why)}
		case v.Verdict == verdictRefused && p.Offered == versionTLS13 && sentinel:
			// RFC 8446 4.1.3: only a server that supports TLS 1.3 marks
			// a lower version with the downgrade sentinel.
			v = helloVerdict{verdictUnknown, fmt.Sprintf("refused (%s), yet the server's lower-version answers carry the TLS 1.3 downgrade sentinel", v.Why)}
		}
		if p.Offered >= floor {
			switch v.Verdict {
			case verdictAccepted:
				accepted = append(accepted, fmt.Sprintf("%s (%s)", name, v.Why))
			case verdictRefused:
				refused = append(refused, fmt.Sprintf("%s (%s)", name, v.Why))
			default:
				unsure = append(unsure, fmt.Sprintf("%s (%s)", name, v.Why))
			}
			continue
		}
		switch v.Verdict {
		case verdictAccepted:
			out = append(out, result.Finding{State: result.Critical, Text: fmt.Sprintf(
				"protocol floor: the server accepts %s, below --min-tls-version %s (chose %s): set %s",
				name, versionName(floor), v.Why, protocolsLine(floor))})
		case verdictRefused:
			belowRefused = append(belowRefused, fmt.Sprintf("%s: %s", name, v.Why))
		default:
			out = append(out, result.Finding{State: result.Unknown, Text: fmt.Sprintf(
				"protocol floor: %s not verified: %s", name, v.Why)})
		}
	}
	if len(belowRefused) > 0 {
		slices.Reverse(belowRefused) // newest first
		text := "protocol floor: refused " + strings.Join(belowRefused, ", ")
		switch {
		case len(out) == 0 && below(floor) == 0:
			text = fmt.Sprintf("protocol floor: %s refused (%s)", versionName(versionSSL30), strings.Join(belowRefused, ", "))
		case len(out) == 0:
			text = fmt.Sprintf("protocol floor: %s and below refused (%s)", versionName(below(floor)), strings.Join(belowRefused, ", "))
		}
		out = append(out, result.Finding{State: result.OK, Text: text})
	}
	text := "versions at or above the floor: accepted " + orNone(accepted)
	if len(refused) > 0 {
		text += "; refused " + strings.Join(refused, ", ")
	}
	if len(unsure) > 0 {
		text += "; not determined " + strings.Join(unsure, ", ")
	}
	return append(out, result.Finding{State: result.OK, Text: text})
}

// AcceptedFrom returns the highest version at or above floor that a probe
// saw accepted, with the suite the server chose.
func AcceptedFrom(s VersionScan, floor uint16) (version, suite uint16, ok bool) {
	for _, p := range s.Probes {
		if p.Offered >= floor && p.Offered > version && judgeHello(p).Verdict == verdictAccepted {
			version, suite, ok = p.Offered, p.Reply.Suite, true
		}
	}
	return version, suite, ok
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// strongCiphers is Mozilla's "intermediate" TLS 1.2 list: forward secrecy
// and AEAD only.
const strongCiphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" +
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" +
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"

// JudgeSuites reports the weak suites the server chose during the
// enumeration. NULL, anonymous and export suites are CRITICAL (as readable
// or spoofable as plaintext); the others are WARNING.
func JudgeSuites(s VersionScan) []result.Finding {
	ss := s.Suites
	if ss.Version == 0 {
		for _, p := range s.Probes {
			if p.Offered == versionTLS13 && judgeHello(p).Verdict == verdictAccepted {
				if anyUnknownLegacy(s.Probes) {
					break
				}
				return []result.Finding{{State: result.OK, Text: "cipher suites: TLS 1.3 only, whose suites all have forward secrecy and AEAD"}}
			}
		}
		return []result.Finding{{State: result.Unknown, Text: "cipher suites not verified: no version below TLS 1.3 was seen accepted, and TLS 1.2 or below was not refused clearly"}}
	}
	var found []suite
	complete := false
	var stop string
	for _, st := range ss.Steps {
		v := judgeHello(st)
		if v.Verdict == verdictAccepted {
			sw, _ := suiteByID(st.Reply.Suite) // offered, hence known
			found = append(found, sw)
			continue
		}
		if v.Verdict == verdictRefused && st.Err == nil && st.Reply.Alert {
			complete = true
		} else {
			stop = v.Why
		}
		break
	}
	if ss.Capped {
		stop = fmt.Sprintf("stopped after %d handshakes", len(ss.Steps))
	}
	name := versionName(ss.Version)
	var out []result.Finding
	var crit, warn []string
	for _, sw := range found {
		t := fmt.Sprintf("%s (%s)", sw.Name, strings.Join(sw.Weak.names(), ", "))
		if sw.Weak&broken != 0 {
			crit = append(crit, t)
		} else {
			warn = append(warn, t)
		}
	}
	more := ""
	if !complete {
		more = " and maybe more"
	}
	fix := fmt.Sprintf(`set tls-ciphers "%s"`, strongCiphers)
	if len(crit) > 0 {
		out = append(out, result.Finding{State: result.Critical, Text: fmt.Sprintf(
			"cipher suites at %s: accepts %s%s: %s", name, strings.Join(crit, ", "), more, fix)})
	}
	if len(warn) > 0 {
		out = append(out, result.Finding{State: result.Warning, Text: fmt.Sprintf(
			"weak cipher suites at %s: accepts %s%s: %s", name, strings.Join(warn, ", "), more, fix)})
	}
	switch {
	case !complete && len(found) == 0:
		out = append(out, result.Finding{State: result.Unknown, Text: fmt.Sprintf(
			"cipher suites at %s not verified: %s", name, stop)})
	case !complete:
		out = append(out, result.Finding{State: result.Unknown, Text: fmt.Sprintf(
			"cipher suites at %s: enumeration incomplete: %s", name, stop)})
	case len(found) == 0:
		out = append(out, result.Finding{State: result.OK, Text: fmt.Sprintf(
			"cipher suites at %s: no weak suite accepted (no RSA key exchange, CBC-SHA1, 3DES, RC4, NULL, export or anonymous)", name)})
	}
	return out
}

// anyUnknownLegacy reports whether a version below TLS 1.3 is neither
// accepted nor refused.
func anyUnknownLegacy(ps []helloOutcome) bool {
	for _, p := range ps {
		if p.Offered < versionTLS13 && judgeHello(p).Verdict == verdictUnknown {
			return true
		}
	}
	return false
}
