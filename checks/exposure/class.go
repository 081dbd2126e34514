package exposure

import "strings"

// Class is what one connection attempt found. The order of the constants
// is the order findings are listed in: the worst exposure first.
type Class int

const (
	// OpenUnauthenticated: Redis answered PING with +PONG (or NOPERM: the
	// default user is logged in without a password but may not PING).
	OpenUnauthenticated Class = iota
	// OpenErrorReply: Redis answered with another error reply (LOADING,
	// max clients, …): reachable, authentication state unknown.
	OpenErrorReply
	// OpenAuthRequired: Redis answered NOAUTH.
	OpenAuthRequired
	// OpenClientCertRequired: a TLS listener that wants a client
	// certificate before it serves anything.
	OpenClientCertRequired
	// OpenProtectedMode: Redis answered DENIED (protected mode).
	OpenProtectedMode
	// OpenNotRedis: the port accepted and answered, but not as Redis.
	OpenNotRedis
	// OpenSilent: the port accepted but nothing answered within the timeout.
	OpenSilent
	// Refused: a TCP RST or an ICMP port-unreachable (iptables REJECT's
	// default) came back.
	Refused
	// Filtered: no answer to the SYN within the timeout.
	Filtered
	// Unreachable: ICMP host or network unreachable. An IPv4 REJECT
	// --reject-with icmp-admin-prohibited arrives as this too: the kernel
	// maps both to EHOSTUNREACH.
	Unreachable
	// Prohibited: ICMPv6 administratively prohibited (EACCES).
	Prohibited
	// LocalError: this host could not make the attempt (bad name, no
	// route, out of file descriptors, …); nothing is known.
	LocalError
	// NotFinished: the check's deadline came first.
	NotFinished
	numClasses
)

var classNames = [numClasses]string{
	"open-unauthenticated", "open-error-reply", "open-auth-required", "open-client-cert-required",
	"open-protected-mode", "open-not-redis", "open-silent",
	"refused", "filtered", "unreachable", "prohibited",
	"local-error", "not-finished",
}

func (c Class) String() string {
	if c < 0 || c >= numClasses {
		return "invalid"
	}
	return classNames[c]
}

// Open reports whether the attempt got a TCP connection: the port is
// reachable from here, whatever the service then said.
func (c Class) Open() bool { return c >= OpenUnauthenticated && c <= OpenSilent }

// Closed reports whether the network answered "no" or stayed silent: the
// outcomes that prove the port unreachable from here.
func (c Class) Closed() bool { return c >= Refused && c <= Prohibited }

// Known reports whether the attempt produced evidence either way.
func (c Class) Known() bool { return c.Open() || c.Closed() }

// perfLabel is the class as a nagios_perfdata label.
func (c Class) perfLabel() string { return strings.ReplaceAll(c.String(), "-", "_") }
