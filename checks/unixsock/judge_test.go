package unixsock

import (
	"errors"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

func text(r result.Result) string {
	s := r.State.String() + ": " + r.Summary
	for _, f := range r.Findings {
		s += "\n" + f.State.String() + ": " + f.Text
	}
	return s
}

// What cannot be seen is never OK: no process, unreadable descriptors or
// tables, an unfollowable path; an abstract socket is open to everyone.
func TestJudgeFailsClosed(t *testing.T) {
	db := &UserDB{Users: []User{{"redis", 100, 100}}, Groups: []Group{{"redis", 100, nil}}}
	proc := Process{PID: 7, Comm: "redis-server", UID: 100, GID: 100, SocketInodes: map[uint64]bool{}}
	closed := Chain{{Path: "/run", Need: permX, Mode: 0o755}, {Path: "/run/redis", Need: permX, Mode: 0o750, UID: 100, GID: 100},
		{Path: "/run/redis/redis.sock", Need: permW, Mode: 0o770, UID: 100, GID: 100}}
	noFD := proc
	noFD.SocketInodes, noFD.FDErr = nil, errors.New("permission denied")
	cases := []struct {
		name string
		in   Facts
		want result.State
		text string
	}{
		{"no process", Facts{DB: db}, result.Unknown, "no redis-server or valkey-server process is visible"},
		{"proc unreadable", Facts{DB: db, ProcErr: "permission denied"}, result.Unknown, "cannot list processes"},
		{"descriptors unreadable", Facts{DB: db, Processes: []Process{noFD}}, result.Unknown, "descriptors cannot be read"},
		{"table unreadable", Facts{DB: db, Processes: []Process{proc}, TableErr: map[int]string{7: "EACCES"}}, result.Unknown, "socket table cannot be read"},
		{"no socket", Facts{DB: db, Processes: []Process{proc}}, result.OK, "listens on no UNIX socket"},
		{"closed socket", Facts{DB: db, Processes: []Process{proc}, Sockets: []SocketFacts{{Proc: proc, Path: "/run/redis/redis.sock",
			Listener: Listener{Name: "/run/redis/redis.sock"}, Chain: closed, Probe: resp.Pong}}}, result.OK, "only root, user redis, group redis can connect"},
		{"walk failed", Facts{DB: db, Processes: []Process{proc}, Sockets: []SocketFacts{{Proc: proc, Path: "/x/s",
			Listener: Listener{Name: "/x/s"}, WalkErr: "cannot follow"}}}, result.Unknown, "who can connect is not known"},
		{"abstract", Facts{DB: db, Processes: []Process{proc}, Sockets: []SocketFacts{{Proc: proc,
			Listener: Listener{Name: "@redis"}, Probe: resp.NoAuth}}}, result.Warning, "every process in its network namespace can connect (the server needs a password)"},
		{"abstract unprobed", Facts{DB: db, Processes: []Process{proc}, Sockets: []SocketFacts{{Proc: proc,
			Listener: Listener{Name: "@redis"}, ProbeErr: "other namespace"}}}, result.Critical, "whether it needs a password is unknown"},
		{"declared not listening", Facts{DB: db, Processes: []Process{proc}, Declared: []Declared{{"/run/redis/redis.sock", "redis.conf:3"}}},
			result.Warning, "redis.conf:3: unixsocket /run/redis/redis.sock, but no Redis server listens there"},
		{"other mount namespace", Facts{DB: db, Processes: []Process{{PID: 7, Comm: "redis-server", UID: 100, GID: 100, OtherMountNS: true}},
			Sockets: []SocketFacts{{Proc: Process{PID: 7, Comm: "redis-server", UID: 100, GID: 100, OtherMountNS: true}, Path: "/run/redis/redis.sock",
				Listener: Listener{Name: "/run/redis/redis.sock"}, Chain: closed, Probe: resp.Pong}}}, result.Unknown, "bind mounts elsewhere were not examined"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Judge(Options{}, c.in)
			if r.State != c.want || !strings.Contains(text(r), c.text) {
				t.Errorf("want %v with %q, got\n%s", c.want, c.text, text(r))
			}
		})
	}
}
