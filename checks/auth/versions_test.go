package auth

import (
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// The unauthenticated probe and the ACL audit on every server version
// installed here (Redis 6.0, 7.0, Valkey 8 with scripts/setup).
func TestVersionsProbeAndAudit(t *testing.T) {
	for label, bin := range redistest.Binaries(t) {
		t.Run(label, func(t *testing.T) {
			open := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{"protected-mode no"}})
			r, out := check(t, redisconn.Options{Port: open.Port}, nil)
			expect(t, r, out, result.Critical, "the default user is usable without a password")

			pw := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{"requirepass " + pwDefault}})
			r, out = check(t, redisconn.Options{Port: pw.Port}, nil)
			expect(t, r, out, result.OK, "clients without credentials are refused (NOAUTH")

			acl := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{
				"user default on >" + pwDefault + " ~* +@all", // no &* (channel patterns): 6.2+
				"user cache on nopass ~cache:* -@all +get +set",
			}})
			r, out = check(t, redisconn.Options{Port: acl.Port}, map[string]string{redisconn.PasswordEnv: pwDefault})
			expect(t, r, out, result.Critical, `user "cache"`)
		})
	}
}
