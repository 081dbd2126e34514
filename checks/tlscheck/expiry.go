package tlscheck

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Expiry is the judgement of a chain's expiry windows.
type Expiry struct {
	Findings []result.Finding
	// DaysLeft is the whole days until the earliest expiry in the chain
	// (negative once expired); the perf data.
	DaysLeft int
	Earliest *x509.Certificate
}

// JudgeExpiry applies the windows to every certificate of chain (leaf,
// intermediates and, when the chain was verified, the root). Certificates
// already expired are left to VerifyChain, which reports them.
func JudgeExpiry(chain []*x509.Certificate, now time.Time, warningDays, criticalDays int) Expiry {
	var e Expiry
	if len(chain) == 0 {
		return e
	}
	for i, c := range chain {
		if e.Earliest == nil || c.NotAfter.Before(e.Earliest.NotAfter) {
			e.Earliest = c
		}
		left := c.NotAfter.Sub(now)
		if left <= 0 {
			continue
		}
		state := result.OK
		switch {
		case left < time.Duration(criticalDays)*24*time.Hour:
			state = result.Critical
		case left < time.Duration(warningDays)*24*time.Hour:
			state = result.Warning
		}
		if state != result.OK {
			e.Findings = append(e.Findings, result.Finding{State: state, Text: fmt.Sprintf(
				"expires soon: %s %s expires %s (in %s)", role(i, c), name(c),
				c.NotAfter.UTC().Format(time.DateOnly), dayCount(days(left)))})
		}
	}
	e.DaysLeft = days(e.Earliest.NotAfter.Sub(now))
	if e.DaysLeft >= 0 && len(e.Findings) == 0 {
		e.Findings = append(e.Findings, result.Finding{State: result.OK, Text: fmt.Sprintf(
			"earliest expiry in %s: %s, %s", dayCount(e.DaysLeft), name(e.Earliest), e.Earliest.NotAfter.UTC().Format(time.DateOnly))})
	}
	return e
}
