package bind

import (
	"fmt"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// A server that binds only loopback (or opens no TCP listener) cannot be
// reached at another address by itself. When the check reached it at one,
// something relays to it: a TCP proxy (stunnel, haproxy, socat, nginx
// stream, an SSH tunnel), a container runtime's port proxy or sidecar, or a
// DNAT rule to 127.0.0.1 with route_localnet on. Then the bind line keeps
// nobody out, and the listener to judge is the forwarder's.

// judgeForwarded warns when the connection reached the server at a
// non-loopback address although the bind in force is loopback only.
func (j *judge) judgeForwarded(spec Spec, haveSpec bool) {
	l := j.in.Live
	if l == nil || !l.Peer.IsValid() || !haveSpec {
		return
	}
	peer := l.Peer.Addr().Unmap()
	if peer.IsLoopback() || peer.IsUnspecified() {
		return // loopback, or 0.0.0.0/:: which the kernel sends to loopback
	}
	if !j.loopbackOnly(spec) {
		return
	}
	// A wildcard listener on that port is already CRITICAL: the config
	// does not describe it, and it may be Redis's own.
	var seen string
	if j.in.Local && j.in.Sockets != nil {
		for _, s := range j.in.Sockets {
			a := s.Addr.Addr().Unmap()
			if s.Addr.Port() != l.Peer.Port() {
				continue
			}
			if a.IsUnspecified() && a.Is4() == peer.Is4() {
				return
			}
			if a == peer {
				seen = "; the kernel here shows the listener on " + s.Addr.String() + ", which the bind list does not name: that is the forwarder's (or a server the running config does not describe)"
			}
		}
	}
	binds := fmt.Sprintf("binds only loopback (%q)", spec.Text)
	if spec.Entries[0].Kind == NoListen {
		binds = "opens no TCP listener"
	}
	j.r.Add(result.Warning, "the server was reached at %s over the network, although %s %s: something forwards to it "+
		"(a TCP proxy such as stunnel, haproxy or socat, an SSH tunnel, a container port proxy or sidecar, or a DNAT rule to 127.0.0.1 with route_localnet)%s; "+
		"find the forwarder on the host of %s (ss -tlnp for port %d; iptables -t nat -S or nft list ruleset for a DNAT to 127.0.0.1) "+
		"and judge its exposure with redis-exposure-check and redis-firewall-check against %s",
		l.Peer, spec.Source, binds, seen, peer, l.Peer.Port(), l.Peer)
}

// loopbackOnly: every entry of the bind in force is loopback (a name
// counts when every address it resolves to is), or no TCP listener at all.
func (j *judge) loopbackOnly(s Spec) bool {
	if s.Uncertain || len(s.Entries) == 0 {
		return false
	}
	for _, e := range s.Entries {
		switch e.Kind {
		case Loopback, NoListen:
		case Hostname:
			addrs, ok := j.in.Resolved[strings.TrimPrefix(e.Text, "-")]
			if !ok || len(addrs) == 0 {
				return false
			}
			for _, a := range addrs {
				if !a.Unmap().IsLoopback() {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}
