package tlscheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"sync"
	"time"
)

// Facts is what the probes observed, for Judge. Which probes ran depends
// on what the main handshake showed; a probe that did not run leaves its
// field zero.
type Facts struct {
	// Start is when the check began: the "now" of expiry and chain
	// verification.
	Start time.Time
	// MainBudget is the share of the deadline the main handshake had.
	MainBudget time.Duration
	// ConfigErr: the TLS configuration could not be built from the
	// options (their files changed since Validate); nothing was probed.
	ConfigErr error

	ServerName string         // as sent in the SNI and verified
	Roots      *x509.CertPool // nil: the system roots
	// PresentedCert: --cert/--key gave a client certificate to present.
	PresentedCert bool

	// Main is the handshake and PING with the options as given.
	Main Observed

	// When the main handshake got no ServerHello:
	// SamePortPlain is the plaintext PING on the TLS port after a silent
	// or closed handshake; RefusedScan the version scan after the server
	// refused it.
	SamePortPlain *PlainProbe
	RefusedScan   *VersionScan

	// After a ServerHello:
	// NoCert is the handshake without a client certificate (Main when
	// none was presented); Scan the version and suite scan; Live the
	// server's TLS configuration, or LiveErr why it was not read.
	NoCert Observed
	// Stranger is the handshake presenting a self-signed client
	// certificate minted by the check, made when the server asked for one.
	Stranger Observed
	Scan     VersionScan
	Live     *LiveConfig
	LiveErr  error

	// PlainPorts are the --plaintext-port probes, in flag order.
	PlainPorts []PlainProbe
}

// Shares of the whole deadline. The main handshake gets the first part;
// if it times out, the plaintext PING on the same port gets half of what is
// left, so a silent server is reported before the deadline. The probes that
// follow the main handshake run in parallel until just before the deadline.
const (
	mainShare = 0.4
	reserve   = 100 * time.Millisecond
)

// Gather runs the probes. It returns within ctx's deadline and never
// fails: what it could not observe is recorded with the reason.
func Gather(ctx context.Context, o *Options) Facts {
	f := Facts{Start: time.Now()}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = f.Start.Add(10 * time.Second)
	}
	total := deadline.Sub(f.Start)
	f.MainBudget = time.Duration(float64(total) * mainShare)
	lateCtx, cancelLate := context.WithDeadline(ctx, deadline.Add(-min(reserve, total/10)))
	defer cancelLate()

	tcfg, err := o.Conn.TLSConfig()
	if err != nil { // Validate has already loaded these files once
		f.ConfigErr = err
		return f
	}
	f.ServerName, f.Roots = tcfg.ServerName, tcfg.RootCAs
	var clientCert *tls.Certificate
	if len(tcfg.Certificates) > 0 {
		clientCert = &tcfg.Certificates[0]
	}
	f.PresentedCert = clientCert != nil

	// The plaintext ports are independent of everything else.
	plainDone := make(chan []PlainProbe, 1)
	go func() { plainDone <- o.probePlainPorts(lateCtx) }()

	mainCtx, cancelMain := context.WithTimeout(ctx, f.MainBudget)
	f.Main = handshake(mainCtx, probeSpec{Addr: o.Conn.Addr(), ServerName: tcfg.ServerName,
		Min: o.floor, Max: tls.VersionTLS13, Cert: clientCert, Ping: true})
	cancelMain()
	m := f.Main

	if !m.ServerHello() {
		o.gatherNoHandshake(lateCtx, &f)
		f.PlainPorts = <-plainDone
		return f
	}

	// Whether the live configuration may be asked depends on the chain.
	v := VerifyChain(f.verifyInput(*o))

	// Follow-up probes in parallel.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		f.Scan = scanVersions(lateCtx, o.Conn.Addr(), tcfg.ServerName)
	}()
	if clientCert != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.NoCert = handshake(lateCtx, probeSpec{Addr: o.Conn.Addr(), ServerName: tcfg.ServerName,
				Min: o.floor, Max: tls.VersionTLS13, Ping: true})
		}()
	} else {
		f.NoCert = m
	}
	if m.CertRequested {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cert, err := strangerCert(f.Start)
			if err != nil {
				f.Stranger = Observed{Err: err}
				return
			}
			f.Stranger = handshake(lateCtx, probeSpec{Addr: o.Conn.Addr(), ServerName: tcfg.ServerName,
				Min: o.floor, Max: tls.VersionTLS13, Cert: cert, Ping: true})
		}()
	}
	switch {
	case m.CertRequested && clientCert == nil && ClassifyClientCert(m) == PolicyRequired:
		f.LiveErr = errors.New("not asked: the server requires a client certificate")
	case !m.Replied || !m.Reply.Class.IsRedis():
		f.LiveErr = errors.New("not asked: no Redis answer over TLS")
	case !v.Trusted && !o.Conn.InsecureSkipVerify:
		f.LiveErr = errConfigSkipped
	default:
		wg.Add(1)
		go func() {
			defer wg.Done()
			lc, err := readLiveConfig(lateCtx, o.Conn)
			if err != nil {
				f.LiveErr = err
				return
			}
			f.Live = &lc
		}()
	}
	wg.Wait()
	f.PlainPorts = <-plainDone
	return f
}

// gatherNoHandshake asks what the main handshake's failure leaves open:
// whether plaintext Redis answers on the port, or which versions a server
// that refused the handshake accepts.
func (o *Options) gatherNoHandshake(lateCtx context.Context, f *Facts) {
	m := f.Main
	if !m.Connected {
		return
	}
	switch classify(m.Err) {
	case failTimeout, failClosed:
		// Plain Redis reads a ClientHello as an unfinished inline command
		// and waits: ask it in its own protocol.
		plainCtx, cancel := context.WithDeadline(lateCtx, halfway(lateCtx))
		p := probePlain(plainCtx, o.Conn.Host, o.Conn.Port)
		cancel()
		f.SamePortPlain = &p
	case failRemote:
		scan := scanVersions(lateCtx, o.Conn.Addr(), o.serverName())
		f.RefusedScan = &scan
	}
}

// verifyInput is what chain verification needs of the facts and options.
func (f Facts) verifyInput(o Options) VerifyInput {
	rootsName := "the system roots"
	if o.Conn.CACert != "" {
		rootsName = "the --ca-cert roots"
	}
	return VerifyInput{Peer: f.Main.Peer, Roots: f.Roots, RootsName: rootsName, ServerName: f.ServerName,
		Now: f.Start, Lenient: o.Conn.InsecureSkipVerify}
}

// probePlainPorts runs the --plaintext-port probes in parallel.
func (o *Options) probePlainPorts(ctx context.Context) []PlainProbe {
	out := make([]PlainProbe, len(o.PlaintextPorts))
	var wg sync.WaitGroup
	for i, port := range o.PlaintextPorts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = probePlain(ctx, o.Conn.Host, port)
		}()
	}
	wg.Wait()
	return out
}
