package tlscheck

import (
	"bufio"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"net"
	"slices"
	"sync"
	"time"
)

// helloOutcome is what one hand-built ClientHello got back.
type helloOutcome struct {
	Offered   uint16   // the version offered
	Suites    []uint16 // the suites offered
	Connected bool
	Reply     serverReply
	Err       error // dial, write or read error; nil when Reply holds the answer
}

// sendHello connects to addr, sends one ClientHello offering version and
// suites, and reads the server's first answer within ctx.
func sendHello(ctx context.Context, addr, serverName string, version uint16, suites []uint16) helloOutcome {
	o := helloOutcome{Offered: version, Suites: suites}
	spec := helloSpec{Version: version, Suites: suites, ServerName: serverName}
	if _, err := rand.Read(spec.Random[:]); err != nil {
		o.Err = err
		return o
	}
	if version >= versionTLS13 {
		key, err := ecdh.X25519().GenerateKey(rand.Reader)
		if err != nil {
			o.Err = err
			return o
		}
		spec.KeyShare = key.PublicKey().Bytes()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		o.Err = err
		return o
	}
	defer conn.Close()
	o.Connected = true
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(5 * time.Second)
	}
	_ = conn.SetDeadline(dl)
	// A cancelled ctx ends the read at once, not only at the deadline.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := conn.Write(buildClientHello(spec)); err != nil {
		o.Err = err
		return o
	}
	// Buffered: a server dripping tiny records would otherwise cost two
	// system calls per record.
	o.Reply, o.Err = readServerReply(bufio.NewReaderSize(conn, 4096))
	return o
}

// probedVersions are probed in parallel, oldest first.
var probedVersions = []uint16{versionSSL30, versionTLS10, versionTLS11, versionTLS12, versionTLS13}

// maxSuiteHandshakes bounds the weak-suite enumeration: one handshake per
// weak suite found plus the final refusal. It is above the number of weak
// suites probed, so only a server that repeats itself reaches it.
const maxSuiteHandshakes = 64

// VersionScan holds the hand-built probes: one per version, then the
// weak-suite enumeration at the highest version below TLS 1.3 the server
// accepted.
type VersionScan struct {
	Probes []helloOutcome
	Suites SuiteScan
}

// SuiteScan is the weak-suite enumeration: each handshake offered the weak
// suites not yet chosen, until the server refused or the cap was reached.
type SuiteScan struct {
	Version uint16 // 0: not run
	Steps   []helloOutcome
	Capped  bool
}

// scanVersions runs every version probe in parallel, then enumerates weak
// suites one handshake after another.
func scanVersions(ctx context.Context, addr, serverName string) VersionScan {
	var s VersionScan
	s.Probes = make([]helloOutcome, len(probedVersions))
	var wg sync.WaitGroup
	for i, v := range probedVersions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			offer := legacySuites(false)
			if v >= versionTLS13 {
				offer = tls13Suites()
			}
			s.Probes[i] = sendHello(ctx, addr, serverName, v, offer)
		}()
	}
	wg.Wait()
	s.Suites.Version = highestLegacy(s.Probes)
	if s.Suites.Version == 0 {
		return s
	}
	offer := legacySuites(true)
	for len(s.Suites.Steps) < maxSuiteHandshakes {
		o := sendHello(ctx, addr, serverName, s.Suites.Version, offer)
		s.Suites.Steps = append(s.Suites.Steps, o)
		if judgeHello(o).Verdict != verdictAccepted {
			return s
		}
		chosen := o.Reply.Suite
		offer = slices.DeleteFunc(slices.Clone(offer), func(id uint16) bool { return id == chosen })
		if len(offer) == 0 {
			return s
		}
	}
	s.Suites.Capped = true
	return s
}

// highestLegacy is the highest version below TLS 1.3 whose probe was
// accepted, or 0.
func highestLegacy(probes []helloOutcome) uint16 {
	var best uint16
	for _, p := range probes {
		if p.Offered < versionTLS13 && judgeHello(p).Verdict == verdictAccepted && p.Offered > best {
			best = p.Offered
		}
	}
	return best
}
