package bind

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
)

// The live read works over --socket: a server on its UNIX socket alone
// (port 0) is read there, and no TCP listener is expected of it.
func TestServerOverSocket(t *testing.T) {
	s := redistest.Start(t, redistest.Spec{NoPort: true, ReadyAddr: "-",
		Config: []string{"port 0", "bind 127.0.0.1", "unixsocket {{DIR}}/redis.sock", "unixsocketperm 700"}})
	r := bintest.Run(t, 10*time.Second, nil, bintest.Build(t, Name), "--socket", filepath.Join(s.Dir, "redis.sock"), "--timeout", "5s")
	if r.Stderr != "" {
		t.Fatalf("stderr %q", r.Stderr)
	}
	wantLines(t, r.Stdout, r.Code, 0, "at "+filepath.Join(s.Dir, "redis.sock")+" answered", "binds 127.0.0.1 (loopback)")
}
