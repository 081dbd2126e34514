package firewall

import (
	"context"
	"errors"
	"fmt"

	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Check reads the ruleset, evaluates the ports and judges the outcome.
func Check(ctx context.Context, cfg Config) result.Result {
	if _, ok := ctx.Deadline(); !ok && cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}
	in, err := Collect(ctx, cfg)
	if err != nil {
		if errors.Is(err, ErrPrivilege) {
			return result.Unknownf("%v", err)
		}
		return result.Unknownf("reading the firewall: %v", err)
	}
	rs, notes := Build(in)
	rep := Evaluate(rs, cfg.ports())
	rep.Notes = append(rep.Notes, notes...)
	rep.UFW = in.UFW
	if in.UFWErr != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("ufw's configuration could not be read: %v", in.UFWErr))
	}
	rep.Firewalld = in.Firewalld
	if in.FirewalldErr != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("firewalld's configuration could not be read: %v", in.FirewalldErr))
	}
	return Judge(rep, cfg.Trusted)
}
