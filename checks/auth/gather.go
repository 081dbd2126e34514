package auth

import (
	"context"

	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
)

// Gather probes without credentials and, when credentials are configured,
// audits the ACL users. It never fails: what it could not learn is recorded
// with the reason.
func Gather(ctx context.Context, o *Options) Facts {
	anon := o.Conn
	anon.Username, anon.Password = "", ""
	f := Facts{Target: o.Conn.Addr(), Credentials: o.Conn.Password != ""}
	f.Probe = probe(ctx, anon)
	// Protected mode closes every non-local connection, logged in or not:
	// an audit would only race the server's close.
	if f.Credentials && f.Probe.Err == nil && f.Probe.Ping.Class.IsRedis() && f.Probe.Ping.Class != resp.Denied {
		a := audit(ctx, o.Conn)
		f.Audit = &a
	}
	return f
}
