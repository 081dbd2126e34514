package unixsock

import "github.com/sensu-community/sensu-redis-security-checks/checks/resp"

// Facts is everything the judgement needs, gathered beforehand.
type Facts struct {
	Processes []Process
	ProcErr   string

	DB    *UserDB
	DBErr string
	// Sockets are the listening sockets of the servers, one per listener.
	Sockets []SocketFacts
	// TableErr holds, per process, why its socket table could not be read.
	TableErr map[int]string

	// Declared are the unixsocket settings of the config file.
	Declared []Declared
	FilePath string
	FileErr  string
}

// Declared is a unixsocket line of the config file.
type Declared struct {
	Path  string
	Where string // file:line
}

// SocketFacts is one listener of one server and what was found about it.
type SocketFacts struct {
	Proc     Process
	Listener Listener
	// Path is the absolute path inside the server's mount namespace; "" for
	// abstract sockets.
	Path    string
	Chain   Chain
	WalkErr string
	// Stale: the path leads to another file than the listener's.
	Stale bool

	// Probe is the server's answer to a PING without credentials over this
	// socket; ProbeErr says why none came.
	Probe    resp.Class
	ProbeErr string

	// Live is CONFIG GET over the socket, when the server let the check in.
	Live *LiveSocket
}

// LiveSocket is the running server's socket settings.
type LiveSocket struct {
	Path  string
	Perm  string // octal as CONFIG GET returns it ("0" = left to the umask)
	Group string // unixsocketgroup (Valkey 8.1+); "" where absent or unset
}
