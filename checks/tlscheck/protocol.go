package tlscheck

import (
	"crypto/tls"
	"fmt"

	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// below returns the version just under floor, or 0 when there is none a
// client can still offer.
func below(floor uint16) uint16 {
	switch floor {
	case tls.VersionTLS13:
		return tls.VersionTLS12
	case tls.VersionTLS12:
		return tls.VersionTLS11
	case tls.VersionTLS11:
		return tls.VersionTLS10
	}
	return 0
}

// JudgeNegotiated reports the version and suite of the main connection.
func JudgeNegotiated(o Observed, floor uint16) result.Finding {
	if o.Version < floor {
		return result.Finding{State: result.Critical, Text: fmt.Sprintf(
			"negotiated %s, below the floor %s", versionName(o.Version), versionName(floor))}
	}
	return result.Finding{State: result.OK, Text: fmt.Sprintf("negotiated %s, %s",
		versionName(o.Version), tls.CipherSuiteName(o.CipherSuite))}
}

// JudgeFloor reads the probe that offered only versions below the floor.
// The server accepted if it answered with its certificate at such a version,
// even if the handshake failed afterwards (on a missing client certificate,
// say).
func JudgeFloor(o Observed, floor uint16) result.Finding {
	probe := below(floor)
	switch {
	case o.ServerHello() && o.Version < floor:
		return result.Finding{State: result.Critical, Text: fmt.Sprintf(
			"protocol floor: the server accepts %s, below --min-tls-version %s", versionName(o.Version), versionName(floor))}
	case o.ServerHello():
		// A server never picks a version the client did not offer; if it
		// does, it is broken, not compliant.
		return result.Finding{State: result.Critical, Text: fmt.Sprintf(
			"protocol floor: offered at most %s, the server chose %s", versionName(probe), versionName(o.Version))}
	}
	switch classify(o.Err) {
	case failRemote, failLocal, failClosed:
		return result.Finding{State: result.OK, Text: fmt.Sprintf("protocol floor: %s and below refused", versionName(probe))}
	case failTimeout:
		return result.Finding{State: result.Unknown, Text: fmt.Sprintf(
			"protocol floor: no answer to a %s handshake before the deadline", versionName(probe))}
	}
	return result.Finding{State: result.Unknown, Text: fmt.Sprintf(
		"protocol floor: the %s handshake failed without a verdict: %v", versionName(probe), o.Err)}
}
