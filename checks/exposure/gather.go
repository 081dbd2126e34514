package exposure

import "context"

// Gather scans every target and port within ctx's deadline and names the
// vantage point. It never fails: an attempt it could not finish is
// recorded as such.
func Gather(ctx context.Context, o *Options) Facts {
	s := Scanner{Ports: o.Ports, Timeout: o.AttemptTimeout, Concurrency: o.Concurrency}
	f := s.Scan(ctx, o.Targets)
	v := FindVantage(o.Agent, f.Outcomes)
	f.Vantage = &v
	return f
}
