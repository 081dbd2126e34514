package auth

import (
	"path/filepath"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Over --socket the unauthenticated probe is classified as over TCP: a
// server on its UNIX socket alone (port 0) without a password is CRITICAL,
// with one OK.
func TestSocketProbe(t *testing.T) {
	for _, c := range []struct {
		name  string
		conf  []string
		state result.State
		text  string
	}{
		{"no password", nil, result.Critical, "the default user is usable without a password"},
		{"password", []string{"requirepass " + pwDefault}, result.OK, "NOAUTH"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := redistest.Start(t, redistest.Spec{NoPort: true, ReadyAddr: "-",
				Config: append([]string{"port 0", "unixsocket {{DIR}}/redis.sock", "unixsocketperm 700"}, c.conf...)})
			r, out := check(t, redisconn.Options{Socket: filepath.Join(s.Dir, "redis.sock"), Port: 6379}, nil)
			expect(t, r, out, c.state, c.text)
		})
	}
}
