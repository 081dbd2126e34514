package tlscheck

import (
	"crypto/tls"
	"fmt"

	"github.com/sensu-community/sensu-redis-security-checks/checks/neterr"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Judge turns the options and the probes' facts into the check's result.
// It does no I/O: the findings of each part come from the pure functions
// of verify.go, expiry.go, protocol.go, versions.go, clientcert.go and
// plaintext.go.
func Judge(o Options, f Facts) result.Result {
	if f.ConfigErr != nil {
		return result.Unknownf("%v", f.ConfigErr)
	}
	m := f.Main
	var r result.Result
	if !m.ServerHello() {
		r.Findings = o.judgeNoHandshake(f)
		for _, p := range f.PlainPorts {
			r.Findings = append(r.Findings, JudgePlainProbe(p))
		}
		return r
	}

	v := VerifyChain(f.verifyInput(o))
	e := JudgeExpiry(v.Chain, f.Start, o.WarningDays, o.CriticalDays)

	r.Findings = append(r.Findings, judgeRedis(m, f.PresentedCert))
	r.Findings = append(r.Findings, v.Findings...)
	r.Findings = append(r.Findings, e.Findings...)
	r.Findings = append(r.Findings, JudgeNegotiated(m, o.floor))
	r.Findings = append(r.Findings, JudgeVersions(f.Scan, o.floor, m.Version)...)
	r.Findings = append(r.Findings, JudgeSuites(f.Scan)...)
	policy := ClassifyClientCert(f.NoCert)
	r.Findings = append(r.Findings, JudgeClientCert(policy, o.RequireClientCert, f.NoCert))
	if policy == PolicyRequired {
		r.Findings = append(r.Findings, JudgeStranger(ClassifyStranger(f.Stranger), o.RequireClientCert, f.Stranger))
	}
	r.Findings = append(r.Findings, JudgePlaintext(PlaintextInput{Config: f.Live, ConfigErr: f.LiveErr, Probes: f.PlainPorts})...)
	if e.Earliest != nil {
		// Nagios ranges: "30:" alerts below 30, as the windows do.
		r.MetricWith(result.Metric{Name: "days_to_expiry", Value: float64(e.DaysLeft),
			Warn: fmt.Sprintf("%d:", o.WarningDays), Crit: fmt.Sprintf("%d:", o.CriticalDays)})
	}
	if r.Worst() == result.OK {
		r.Summary = fmt.Sprintf("%s: Redis over %s, chain verified, plaintext off, earliest expiry in %s",
			o.Conn.Addr(), versionName(m.Version), dayCount(e.DaysLeft))
	}
	return r
}

// judgeRedis reads the PING over the main connection.
func judgeRedis(m Observed, presentedCert bool) result.Finding {
	f := func(s result.State, format string, args ...any) result.Finding {
		return result.Finding{State: s, Text: fmt.Sprintf(format, args...)}
	}
	if m.Replied {
		switch m.Reply.Class {
		case resp.Pong, resp.NoAuth, resp.Denied, resp.NoPerm:
			return f(result.OK, "Redis answers PING over TLS (%s)", m.Reply.Class)
		case resp.OtherError:
			return f(result.Warning, "answers PING over TLS with an error reply: %q", clip(m.Reply.Line))
		}
		return f(result.Critical, "not Redis: the TLS service answered PING with %q", clip(m.Reply.Line))
	}
	err := m.Err
	if err == nil {
		err = m.PingErr
	}
	switch {
	case m.CertRequested && !presentedCert && ClassifyClientCert(m) == PolicyRequired:
		return f(result.Unknown, "could not PING: the server requires a client certificate; give --cert/--key to verify it is Redis")
	case m.CertRequested && presentedCert && (classify(err) == failRemote || classify(err) == failClosed):
		return f(result.Unknown, "the server refused the connection after the client certificate of --cert: %v", err)
	case classify(err) == failRemote:
		return f(result.Critical, "the server aborted the TLS connection: %v", err)
	case classify(err) == failClosed:
		return f(result.Critical, "not Redis: the TLS service closed the connection without answering PING")
	case classify(err) == failTimeout && m.Completed:
		return f(result.Unknown, "no answer to PING over TLS before the deadline")
	case classify(err) == failTimeout:
		return f(result.Unknown, "the TLS handshake did not finish before the deadline")
	}
	return f(result.Unknown, "PING over TLS failed: %v", err)
}

// judgeNoHandshake explains a connection that never got a server
// certificate.
func (o Options) judgeNoHandshake(f Facts) []result.Finding {
	m, mainBudget := f.Main, f.MainBudget
	addr := o.Conn.Addr()
	one := func(s result.State, format string, args ...any) []result.Finding {
		return []result.Finding{{State: s, Text: fmt.Sprintf(format, args...)}}
	}
	if !m.Connected {
		switch {
		case classify(m.Err) == failTimeout:
			return one(result.Unknown, "no TCP connection to %s within %s: filtered, black-holed or down", addr, roughly(mainBudget))
		case neterr.Classify(m.Err) == neterr.Refused:
			return one(result.Unknown, "cannot connect to %s: connection refused (no listener on the TLS port)", addr)
		}
		return one(result.Unknown, "cannot connect to %s: %v", addr, m.Err)
	}
	switch classify(m.Err) {
	case failNotTLS:
		return one(result.Critical, "not TLS on %s: %s", addr, neterr.NotTLSReason(m.Err))
	case failTimeout, failClosed:
		if p := f.SamePortPlain; p != nil && p.AnsweredRedis() {
			return one(result.Critical, "not TLS on %s: plaintext Redis answers PING there (%s)", addr, p.Reply.Class)
		}
		if classify(m.Err) == failClosed {
			return one(result.Unknown, "%s closed the connection during the TLS handshake and does not answer plaintext PING", addr)
		}
		return one(result.Unknown, "no TLS handshake on %s within %s: the server accepted the connection and stayed silent",
			addr, roughly(mainBudget))
	case failRemote:
		var scan VersionScan
		if f.RefusedScan != nil {
			scan = *f.RefusedScan
		}
		out := one(result.Critical, "the server refused a %s to %s handshake: %v", versionName(o.floor), versionName(tls.VersionTLS13), m.Err)
		if v, suite, ok := AcceptedFrom(scan, o.floor); ok {
			// Go's client lacks the suites (DHE, say) the server takes:
			// the server is not refusing, this check cannot go further.
			out = one(result.Unknown, "Go's TLS client shares no suite with the server (%v), which accepts %s with %s: chain, expiry and Redis not verified",
				m.Err, versionName(v), suiteName(suite))
		}
		out = append(out, JudgeVersions(scan, o.floor, 0)...)
		return append(out, JudgeSuites(scan)...)
	case failLocal:
		return one(result.Critical, "TLS handshake with %s failed: %v", addr, m.Err)
	}
	return one(result.Unknown, "TLS handshake with %s failed: %v", addr, m.Err)
}
