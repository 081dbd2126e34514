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
