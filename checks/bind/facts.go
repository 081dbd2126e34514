package bind

import (
	"net/netip"

	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconf"
	"github.com/sensu-community/sensu-redis-security-checks/checks/sockets"
)

// Facts is everything the judgement needs, gathered beforehand. A nil
// source comes with the reason it is missing.
type Facts struct {
	Target     string // host:port asked
	TargetPort int
	Local      bool // the target is this host: file and sockets describe it

	Live    *Live
	LiveErr string
	// LiveBroken: the server broke off the conversation or sent a reply the
	// check refuses (see broken).
	LiveBroken bool

	File     *redisconf.Config // with command-line overrides appended
	FilePath string
	FileErr  string
	// FileIsSentinel marks a sentinel.conf (its default port is 26379).
	FileIsSentinel bool
	CmdlineNote    string

	Sockets    []sockets.Listener // every listener of this namespace
	SocketsErr string

	// Localnet is whether this namespace lets outside packets reach
	// 127.0.0.0/8 (read with the sockets); LocalnetErr why it is unknown.
	Localnet    Localnet
	LocalnetErr string

	// Resolved holds the addresses of host names in bind lines; a name
	// missing here could not be resolved.
	Resolved map[string][]netip.Addr
}
