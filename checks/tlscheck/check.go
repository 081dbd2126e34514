package tlscheck

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/plugin"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Name is the binary's name.
const Name = "redis-tls-check"

// Check returns the plugin definition of redis-tls-check.
func Check() plugin.Check {
	c := &Config{}
	return plugin.Check{
		Name:  Name,
		Short: "Redis TLS is on, sound (chain, expiry, protocol floor, client certificates) and the only way in",
		Long: "Handshakes with the Redis TLS port (default " + strconv.Itoa(DefaultPort) + ") as a TLS scanner would and PINGs over it,\n" +
			"verifies the chain against --ca-cert, applies expiry windows to every certificate, probes each\n" +
			"protocol version (SSL 3.0 to TLS 1.3) with ClientHellos offering every cipher suite so that a\n" +
			"version below --min-tls-version must be refused, lists the weak suites accepted (no forward\n" +
			"secrecy, CBC-SHA1, 3DES, RC4, NULL, export, anonymous), classifies the client-certificate policy\n" +
			"and checks that plaintext is off (live config port 0, and --plaintext-port probes).\n" +
			"Credentials for CONFIG GET come from $REDIS_USERNAME and $REDIS_PASSWORD only.",
		Options:        c.Options(),
		DefaultTimeout: 10 * time.Second,
		Validate:       c.Validate,
		Event:          func(ev *plugin.Event) { c.Discover.CheckName = ev.CheckName() },
		Run: func(ctx context.Context) result.Result {
			if c.Discover.Enabled {
				return c.RunDeployment(ctx)
			}
			return c.Run(ctx)
		},
	}
}

// Shares of the whole deadline. The main handshake gets the first part;
// if it times out, the plaintext PING on the same port gets half of what is
// left, so a silent server is reported before the deadline. The probes that
// follow the main handshake run in parallel until just before the deadline.
const (
	mainShare = 0.4
	reserve   = 100 * time.Millisecond
)

// Run performs the check. It returns within ctx's deadline.
func (c *Config) Run(ctx context.Context) result.Result {
	start := time.Now()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = start.Add(10 * time.Second)
	}
	total := deadline.Sub(start)
	lateCtx, cancelLate := context.WithDeadline(ctx, deadline.Add(-min(reserve, total/10)))
	defer cancelLate()

	tcfg, err := c.Conn.TLSConfig()
	if err != nil { // Validate has already loaded these files once
		return result.Unknownf("%v", err)
	}
	var clientCert *tls.Certificate
	if len(tcfg.Certificates) > 0 {
		clientCert = &tcfg.Certificates[0]
	}

	// The plaintext ports are independent of everything else.
	plainDone := make(chan []PlainProbe, 1)
	go func() { plainDone <- c.probePlainPorts(lateCtx) }()

	mainCtx, cancelMain := context.WithTimeout(ctx, time.Duration(float64(total)*mainShare))
	m := handshake(mainCtx, probeSpec{Addr: c.Conn.Addr(), ServerName: tcfg.ServerName,
		Min: c.floor, Max: tls.VersionTLS13, Cert: clientCert, Ping: true})
	cancelMain()

	var r result.Result
	if !m.ServerHello() {
		r.Findings = c.noHandshake(ctx, lateCtx, m, time.Duration(float64(total)*mainShare))
		for _, p := range <-plainDone {
			r.Findings = append(r.Findings, JudgePlainProbe(p))
		}
		return r
	}

	roots, rootsName := tcfg.RootCAs, "the system roots"
	if c.Conn.CACert != "" {
		rootsName = "the --ca-cert roots"
	}
	v := VerifyChain(VerifyInput{Peer: m.Peer, Roots: roots, RootsName: rootsName, ServerName: tcfg.ServerName,
		Now: start, Lenient: c.Conn.InsecureSkipVerify})
	e := JudgeExpiry(v.Chain, start, c.WarningDays, c.CriticalDays)

	// Follow-up probes in parallel.
	var wg sync.WaitGroup
	var noCertProbe Observed
	var scan VersionScan
	var live *LiveConfig
	var liveErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		scan = scanVersions(lateCtx, c.Conn.Addr(), tcfg.ServerName)
	}()
	if clientCert != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			noCertProbe = handshake(lateCtx, probeSpec{Addr: c.Conn.Addr(), ServerName: tcfg.ServerName,
				Min: c.floor, Max: tls.VersionTLS13, Ping: true})
		}()
	} else {
		noCertProbe = m
	}
	switch {
	case m.CertRequested && clientCert == nil && ClassifyClientCert(m) == PolicyRequired:
		liveErr = errors.New("not asked: the server requires a client certificate")
	case !m.Replied || !m.Reply.Class.IsRedis():
		liveErr = errors.New("not asked: no Redis answer over TLS")
	case !v.Trusted && !c.Conn.InsecureSkipVerify:
		liveErr = errConfigSkipped
	default:
		wg.Add(1)
		go func() {
			defer wg.Done()
			lc, err := readLiveConfig(lateCtx, c.Conn)
			if err != nil {
				liveErr = err
				return
			}
			live = &lc
		}()
	}
	wg.Wait()
	probes := <-plainDone

	r.Findings = append(r.Findings, c.judgeRedis(m, clientCert != nil))
	r.Findings = append(r.Findings, v.Findings...)
	r.Findings = append(r.Findings, e.Findings...)
	r.Findings = append(r.Findings, JudgeNegotiated(m, c.floor))
	r.Findings = append(r.Findings, JudgeVersions(scan, c.floor, m.Version)...)
	r.Findings = append(r.Findings, JudgeSuites(scan)...)
	r.Findings = append(r.Findings, JudgeClientCert(ClassifyClientCert(noCertProbe), c.RequireClientCert, noCertProbe))
	r.Findings = append(r.Findings, JudgePlaintext(PlaintextInput{Config: live, ConfigErr: liveErr, Probes: probes})...)
	if e.Earliest != nil {
		// Nagios ranges: "30:" alerts below 30, as the windows do.
		r.MetricWith(result.Metric{Name: "days_to_expiry", Value: float64(e.DaysLeft),
			Warn: fmt.Sprintf("%d:", c.WarningDays), Crit: fmt.Sprintf("%d:", c.CriticalDays)})
	}
	if r.Worst() == result.OK {
		r.Summary = fmt.Sprintf("%s: Redis over %s, chain verified, plaintext off, earliest expiry in %s",
			c.Conn.Addr(), versionName(m.Version), dayCount(e.DaysLeft))
	}
	return r
}

// judgeRedis reads the PING over the main connection.
func (c *Config) judgeRedis(m Observed, presentedCert bool) result.Finding {
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

// noHandshake explains a connection that never got a server certificate.
// roughly rounds a budget for a message: it is measured from when the
// check started, so a slow process start shaves a few milliseconds off it
// that say nothing to the reader.
func roughly(d time.Duration) time.Duration {
	if d >= 100*time.Millisecond {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

func (c *Config) noHandshake(ctx, lateCtx context.Context, m Observed, mainBudget time.Duration) []result.Finding {
	addr := c.Conn.Addr()
	one := func(s result.State, format string, args ...any) []result.Finding {
		return []result.Finding{{State: s, Text: fmt.Sprintf(format, args...)}}
	}
	if !m.Connected {
		switch {
		case classify(m.Err) == failTimeout:
			return one(result.Unknown, "no TCP connection to %s within %s: filtered, black-holed or down", addr, roughly(mainBudget))
		case errors.Is(m.Err, syscall.ECONNREFUSED):
			return one(result.Unknown, "cannot connect to %s: connection refused (no listener on the TLS port)", addr)
		}
		return one(result.Unknown, "cannot connect to %s: %v", addr, m.Err)
	}
	switch classify(m.Err) {
	case failNotTLS:
		return one(result.Critical, "not TLS on %s: %s", addr, notTLSReason(m.Err))
	case failTimeout, failClosed:
		// Plain Redis reads a ClientHello as an unfinished inline command
		// and waits: ask it in its own protocol.
		plainCtx, cancel := context.WithDeadline(lateCtx, halfway(lateCtx))
		p := probePlain(plainCtx, c.Conn.Host, c.Conn.Port)
		cancel()
		if p.AnsweredRedis() {
			return one(result.Critical, "not TLS on %s: plaintext Redis answers PING there (%s)", addr, p.Reply.Class)
		}
		if classify(m.Err) == failClosed {
			return one(result.Unknown, "%s closed the connection during the TLS handshake and does not answer plaintext PING", addr)
		}
		return one(result.Unknown, "no TLS handshake on %s within %s: the server accepted the connection and stayed silent",
			addr, roughly(mainBudget))
	case failRemote:
		scan := scanVersions(lateCtx, addr, c.serverName())
		out := one(result.Critical, "the server refused a %s to %s handshake: %v", versionName(c.floor), versionName(tls.VersionTLS13), m.Err)
		if v, suite, ok := AcceptedFrom(scan, c.floor); ok {
			// Go's client lacks the suites (DHE, say) the server takes:
			// the server is not refusing, this check cannot go further.
			out = one(result.Unknown, "Go's TLS client shares no suite with the server (%v), which accepts %s with %s: chain, expiry and Redis not verified",
				m.Err, versionName(v), suiteName(suite))
		}
		out = append(out, JudgeVersions(scan, c.floor, 0)...)
		return append(out, JudgeSuites(scan)...)
	case failLocal:
		return one(result.Critical, "TLS handshake with %s failed: %v", addr, m.Err)
	}
	return one(result.Unknown, "TLS handshake with %s failed: %v", addr, m.Err)
}

func (c *Config) serverName() string {
	if c.Conn.ServerName != "" {
		return c.Conn.ServerName
	}
	return c.Conn.Host
}

// probePlainPorts runs the --plaintext-port probes in parallel.
func (c *Config) probePlainPorts(ctx context.Context) []PlainProbe {
	out := make([]PlainProbe, len(c.PlaintextPorts))
	var wg sync.WaitGroup
	for i, port := range c.PlaintextPorts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = probePlain(ctx, c.Conn.Host, port)
		}()
	}
	wg.Wait()
	return out
}

// halfway is the moment between now and ctx's deadline.
func halfway(ctx context.Context) time.Time {
	dl, ok := ctx.Deadline()
	if !ok {
		return time.Now().Add(time.Second)
	}
	return time.Now().Add(time.Until(dl) / 2)
}

// clip keeps a remote reply short in a finding.
func clip(s string) string {
	const max = 60
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
