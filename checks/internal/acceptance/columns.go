package acceptance

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Vantage is where a binary runs.
type Vantage string

const (
	// AtRedis: the Redis host (an agent there runs the host checks).
	AtRedis Vantage = "redis"
	// AtSensu: the trusted host Sensu runs on (the Redis host itself in a
	// local install).
	AtSensu Vantage = "sensu"
	// AtUntrusted: a host that must not reach Redis.
	AtUntrusted Vantage = "untrusted"
)

// Column is one binary run from one vantage point, with the command line
// a Sensu check definition would give it in the deployment.
type Column struct {
	Binary string
	At     Vantage
	Args   func(s *Site) []string
	// Deadline is the whole-check deadline Args gives: a run that takes
	// longer (plus start-up slack) breaks the contract.
	Deadline time.Duration
}

// Label names the column in the matrix and in Deployment.Want:
// "exposure@untrusted" for redis-exposure-check at the untrusted host.
func (c Column) Label() string {
	short := strings.TrimSuffix(strings.TrimPrefix(c.Binary, "redis-"), "-check")
	return short + "@" + string(c.At)
}

// Deadlines given to the checks: short enough to keep a locked-out row
// quick, long enough for a TLS handshake on a loaded two-core machine.
const (
	checkTimeout   = 3 * time.Second
	attemptTimeout = "1s"
	// A trusted host that cannot connect is the finding: give its SYN two
	// seconds, longer than one retransmission.
	trustedAttempt = "2s"
	scanDeadline   = 8 * time.Second
)

// Columns are the binaries of the collection and where each runs.
var Columns = []Column{
	{Binary: "redis-bind-check", At: AtRedis, Args: func(s *Site) []string {
		return append(s.ConnFlags(s.ServiceAddr()), "--config-file", s.Server.ConfigFile, "--timeout", checkTimeout.String())
	}, Deadline: checkTimeout},
	{Binary: "redis-exposure-check", At: AtSensu, Args: func(s *Site) []string {
		return []string{"--target", net.JoinHostPort(s.ServiceAddr().String(), strconv.Itoa(s.Port)),
			"--expect", "reachable", "--attempt-timeout", trustedAttempt, "--timeout", scanDeadline.String()}
	}, Deadline: scanDeadline},
	{Binary: "redis-exposure-check", At: AtUntrusted, Args: func(s *Site) []string {
		return []string{"--target", s.Redis.Addr4().String(), "--target", s.Redis.Addr6().String(),
			"--ports", joinInts(s.Ports()), "--expect", "unreachable",
			"--attempt-timeout", attemptTimeout, "--timeout", scanDeadline.String()}
	}, Deadline: scanDeadline},
	{Binary: "redis-tls-check", At: AtSensu, Args: func(s *Site) []string {
		a := append(s.ConnFlags(s.ServiceAddr()), "--timeout", checkTimeout.String())
		if s.TLS != nil && s.PlainPort != 0 {
			a = append(a, "--plaintext-port", strconv.Itoa(s.PlainPort))
		}
		return a
	}, Deadline: checkTimeout},
	{Binary: "redis-auth-check", At: AtSensu, Args: func(s *Site) []string {
		return append(s.ConnFlags(s.ServiceAddr()), "--timeout", checkTimeout.String())
	}, Deadline: checkTimeout},
	{Binary: "redis-socket-check", At: AtRedis, Args: func(s *Site) []string {
		// This deployment's server only: the host may run others.
		return []string{"--pid", strconv.Itoa(s.Server.PID), "--config-file", s.Server.ConfigFile, "--timeout", checkTimeout.String()}
	}, Deadline: checkTimeout},
	{Binary: "redis-firewall-check", At: AtRedis, Args: func(s *Site) []string {
		// The ports Redis serves, not the standard three: the check wants
		// every --trusted network accepted on every port it audits, and
		// the guide keeps Sensu off the bus and Sentinel ports.
		a := []string{"--ports", joinInts(s.ServedPorts()), "--timeout", checkTimeout.String()}
		if !s.Local {
			a = append(a, "--trusted", netip.PrefixFrom(s.Sensu.Addr4(), 32).String())
		}
		return a
	}, Deadline: checkTimeout},
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
