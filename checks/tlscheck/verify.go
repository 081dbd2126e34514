package tlscheck

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Verification is the judgement of a presented chain.
type Verification struct {
	Findings []result.Finding
	// Chain is the verified path, leaf to root, when the authority checked
	// out (possibly at a moment when every presented certificate was valid,
	// so an expired leaf still shows whether the CA is right). Otherwise it
	// is the presented chain.
	Chain []*x509.Certificate
	// Trusted is true when nothing was wrong with the chain: authority,
	// dates, host name and usage.
	Trusted bool
}

// VerifyInput is what VerifyChain judges.
type VerifyInput struct {
	Peer       []*x509.Certificate // as presented, leaf first
	Roots      *x509.CertPool      // nil: the system roots
	RootsName  string              // how findings name Roots ("--ca-cert x.pem")
	ServerName string
	Now        time.Time
	// Lenient demotes authority and host-name failures to WARNING
	// (--insecure-skip-verify: the operator knowingly runs without the CA).
	// Dates stay CRITICAL: an expired certificate breaks clients that do
	// verify.
	Lenient bool
}

// VerifyChain judges a presented chain the way a verifying client would,
// but reports each failure on its own: unknown authority, expired, not yet
// valid and host-name mismatch, rather than the first error Go's verifier
// meets.
func VerifyChain(in VerifyInput) Verification {
	v := Verification{Chain: in.Peer}
	add := func(s result.State, format string, args ...any) {
		v.Findings = append(v.Findings, result.Finding{State: s, Text: fmt.Sprintf(format, args...)})
	}
	if len(in.Peer) == 0 {
		add(result.Critical, "the server presented no certificate")
		return v
	}
	trustState := result.Critical
	if in.Lenient {
		trustState = result.Warning
	}
	leaf := in.Peer[0]

	datesOK := true
	for i, c := range in.Peer {
		switch {
		case in.Now.After(c.NotAfter):
			datesOK = false
			add(result.Critical, "expired: %s %s expired %s (%s ago)", role(i, c), name(c),
				c.NotAfter.UTC().Format(time.DateOnly), dayCount(-days(c.NotAfter.Sub(in.Now))))
		case in.Now.Before(c.NotBefore):
			datesOK = false
			add(result.Critical, "not yet valid: %s %s is valid from %s", role(i, c), name(c),
				c.NotBefore.UTC().Format(time.RFC3339))
		}
	}

	var hostErr x509.HostnameError
	hostOK := true
	if err := leaf.VerifyHostname(in.ServerName); errors.As(err, &hostErr) {
		hostOK = false
		add(trustState, "hostname mismatch: the certificate is for %s, not %s", certNames(leaf), in.ServerName)
	} else if err != nil {
		hostOK = false
		add(trustState, "hostname mismatch: %v", err)
	}

	// The authority is judged at a moment when every presented certificate
	// is valid, so an expired leaf from the right CA is not also reported
	// as an unknown authority.
	at := in.Now
	if !datesOK {
		var ok bool
		if at, ok = commonValidity(in.Peer, in.Now); !ok {
			add(result.Unknown, "the presented certificates are never valid at the same time: the authority could not be checked")
			return v
		}
	}
	inter := x509.NewCertPool()
	for _, c := range in.Peer[1:] {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: in.Roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	var ua x509.UnknownAuthorityError
	var inv x509.CertificateInvalidError
	switch {
	case err == nil:
		v.Chain = chains[0]
		root := chains[0][len(chains[0])-1]
		add(result.OK, "chain verified: %s issued by %s (%s)", name(leaf), name(root), in.RootsName)
		v.Trusted = datesOK && hostOK
	case errors.As(err, &ua):
		add(trustState, "unknown authority: %s, issued by %s, does not chain to %s", name(leaf), issuerName(in.Peer), in.RootsName)
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		// Only a trusted root outside the presented chain can be out of
		// date at this point.
		add(result.Critical, "chain invalid: a trusted root is outside its validity period (%v)", err)
	default:
		add(trustState, "chain invalid: %v", err)
	}
	return v
}

// commonValidity returns the moment closest to now inside every
// certificate's validity window, if there is one (closest, so the trusted
// root, which is not among certs, is most likely valid then too).
func commonValidity(certs []*x509.Certificate, now time.Time) (time.Time, bool) {
	from, until := certs[0].NotBefore, certs[0].NotAfter
	for _, c := range certs[1:] {
		if c.NotBefore.After(from) {
			from = c.NotBefore
		}
		if c.NotAfter.Before(until) {
			until = c.NotAfter
		}
	}
	if from.After(until) {
		return time.Time{}, false
	}
	switch {
	case now.Before(from):
		return from, true
	case now.After(until):
		return until, true
	}
	return now, true
}

// role names a certificate's place in a chain.
func role(i int, c *x509.Certificate) string {
	switch {
	case i == 0:
		return "leaf"
	case c.IsCA && isSelfSigned(c):
		return "root"
	}
	return "intermediate"
}

func isSelfSigned(c *x509.Certificate) bool {
	return c.CheckSignatureFrom(c) == nil
}

// name is how findings refer to a certificate.
func name(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return fmt.Sprintf("%q", c.Subject.CommonName)
	}
	return fmt.Sprintf("%q", c.Subject.String())
}

// issuerName names who signed the last presented certificate: the
// authority the client would have to trust.
func issuerName(peer []*x509.Certificate) string {
	last := peer[len(peer)-1]
	if last.Issuer.CommonName != "" {
		return fmt.Sprintf("%q", last.Issuer.CommonName)
	}
	return fmt.Sprintf("%q", last.Issuer.String())
}

// certNames lists the names a certificate is valid for.
func certNames(c *x509.Certificate) string {
	var n []string
	n = append(n, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		n = append(n, ip.String())
	}
	if len(n) == 0 {
		if c.Subject.CommonName != "" {
			return fmt.Sprintf("no subject alternative name (CN %q is not used)", c.Subject.CommonName)
		}
		return "no name at all"
	}
	const max = 5
	if len(n) > max {
		return strings.Join(n[:max], ", ") + fmt.Sprintf(" and %d more", len(n)-max)
	}
	return strings.Join(n, ", ")
}
