package exposure

import (
	"fmt"

	"github.com/sensu-community/sensu-redis-security-checks/checks/neterr"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
)

// classifyDial turns a failed TCP connect into a class, from the shared
// classification of checks/neterr (errnos, never error text). parentDone
// tells whether the check's own deadline, not the attempt's timeout,
// stopped it.
func classifyDial(err error, parentDone bool) (Class, string) {
	switch neterr.Classify(err) {
	case neterr.Refused:
		return Refused, "connection refused (TCP reset or ICMP port unreachable)"
	case neterr.HostUnreachable:
		return Unreachable, "ICMP host unreachable or prohibited (EHOSTUNREACH)"
	case neterr.NetUnreachable:
		return Unreachable, "ICMP network unreachable (ENETUNREACH)"
	case neterr.HostDown:
		return Unreachable, "ICMP host down or isolated"
	case neterr.Prohibited:
		return Prohibited, "ICMP administratively prohibited (EACCES)"
	case neterr.NoFiles:
		return LocalError, "out of file descriptors on this host (" + errnoName(err) + "); lower --concurrency or raise the limit"
	case neterr.NoLocalAddr:
		return LocalError, "no local port or address available on this host (" + errnoName(err) + ")"
	case neterr.NoMemory:
		return LocalError, "out of kernel memory on this host (" + errnoName(err) + ")"
	case neterr.LocalPolicy:
		return LocalError, "this host refused to send (EPERM): its own firewall or a security policy"
	}
	if parentDone {
		return NotFinished, deadlineFirst
	}
	if isTimeout(err) {
		return Filtered, "no answer to the SYN within the timeout"
	}
	return LocalError, fmt.Sprintf("unexpected error: %v", err)
}

// classifyRoute reads the error of the route lookup made before each
// attempt. Any failure there is local: this host has no way to try.
func classifyRoute(err error) (Class, string) {
	return LocalError, "no route from this host (" + errnoName(err) + ")"
}

func isTimeout(err error) bool { return neterr.Classify(err) == neterr.Timeout }

// errnoName returns the errno's text, or the error when there is none.
func errnoName(err error) string {
	if en, ok := neterr.Errno(err); ok {
		return en.Error()
	}
	return err.Error()
}

// classifyReply maps a PING reply class to an exposure class.
func classifyReply(c resp.Class) Class {
	switch c {
	case resp.Pong, resp.NoPerm:
		return OpenUnauthenticated
	case resp.NoAuth:
		return OpenAuthRequired
	case resp.Denied:
		return OpenProtectedMode
	case resp.OtherError:
		return OpenErrorReply
	}
	return OpenNotRedis
}

// looksLikeTLS reports whether a reply starts with a TLS alert record: what
// a TLS listener sends back to plain-text bytes.
func looksLikeTLS(line string) bool {
	return len(line) >= 3 && line[0] == 0x15 && line[1] == 0x03 && line[2] <= 0x04
}

// deadlineFirst is the one detail of every NotFinished attempt, wherever
// the deadline caught it: the output must not depend on that race.
const deadlineFirst = "the check's deadline came before an answer"
