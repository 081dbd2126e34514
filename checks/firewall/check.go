package firewall

import (
	"context"
	"errors"
	"fmt"

	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Check gathers the facts and judges them: the whole check, under ctx
// (the runner's deadline).
func Check(ctx context.Context, o Options) result.Result {
	return Judge(o, *Gather(ctx, o))
}

// Judge compiles the gathered ruleset, evaluates the ports and judges the
// outcome. It is pure: no I/O, the same options and facts always give the
// same result.
func Judge(o Options, f Facts) result.Result {
	if f.Err != nil {
		if errors.Is(f.Err, ErrPrivilege) {
			return result.Unknownf("%v", f.Err)
		}
		return result.Unknownf("reading the firewall: %v", f.Err)
	}
	rs, notes := Build(&f)
	rep := Evaluate(rs, o.ports())
	rep.Notes = append(rep.Notes, notes...)
	rep.UFW = f.UFW
	if f.UFWErr != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("ufw's configuration could not be read: %v", f.UFWErr))
	}
	rep.Firewalld = f.Firewalld
	if f.FirewalldErr != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("firewalld's configuration could not be read: %v", f.FirewalldErr))
	}
	return JudgeReport(rep, o.Trusted)
}
