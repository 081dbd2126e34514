package tlscheck

import (
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/certtest"
)

func TestAgainstRealRedis(t *testing.T) {
	ca := certtest.NewCA(t, "Test Root")
	s := startTLS(t, ca.Server(t, "redis"), ca)
	r := run(t, config(s.Port, ca), nil, 5*time.Second)
	t.Log(render(r))
}
