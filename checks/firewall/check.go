package firewall

import (
	"context"

	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Check gathers the facts and judges them: the whole check, under ctx
// (the runner's deadline).
func Check(ctx context.Context, o Options) result.Result {
	return Judge(o, *Gather(ctx, o))
}
