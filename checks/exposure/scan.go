package exposure

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/neterr"
)

// MaxConcurrency is the hard cap of simultaneous attempts.
const MaxConcurrency = 4096

// fdReserve is what is left of RLIMIT_NOFILE for everything but attempts
// (stdio, the resolver, the runtime). Each attempt holds one descriptor at
// a time.
const fdReserve = 64

// ResolveFunc looks up a name's addresses.
type ResolveFunc func(ctx context.Context, host string) ([]netip.Addr, error)

// Scanner runs attempts against targets.
type Scanner struct {
	Ports       []int
	Timeout     time.Duration
	Concurrency int
	// Dial defaults to net.Dialer.DialContext; Resolve to the system
	// resolver.
	Dial    DialFunc
	Resolve ResolveFunc
}

// Facts is what a scan found: the check's gathered facts.
type Facts struct {
	Outcomes []Outcome
	// Vantage, when set, names the agent and source addresses.
	Vantage     *Vantage
	Concurrency int
	Elapsed     time.Duration
}

// Scan resolves every name once, expands the targets over the ports and
// tries every address with bounded concurrency. It returns by ctx's
// deadline: attempts it had no time for are NotFinished.
func (s Scanner) Scan(ctx context.Context, targets []Target) Facts {
	start := time.Now()
	dial, resolve := s.Dial, s.Resolve
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	if resolve == nil {
		resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	var out []Outcome
	var todo []Attempt
	resolved := s.resolveAll(ctx, targets, resolve)
	for i, t := range targets {
		r := resolved[i]
		if r.err != "" {
			out = append(out, Outcome{Attempt: Attempt{Target: t.Text, Name: t.Host}, Class: r.class, Detail: r.err})
			continue
		}
		todo = append(todo, attempts(t, r.addrs, s.Ports)...)
	}
	if len(todo) > MaxAttempts {
		out = append(out, Outcome{Attempt: Attempt{Target: "all targets"}, Class: LocalError,
			Detail: fmt.Sprintf("the targets resolve to %d attempts, more than the limit of %d: split them over several checks", len(todo), MaxAttempts)})
		return Facts{Outcomes: out, Elapsed: time.Since(start)}
	}
	n := EffectiveConcurrency(s.Concurrency, len(todo), nofileLimit())
	p := prober{dial: dial, timeout: s.Timeout}
	results := make([]Outcome, len(todo))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, a := range todo {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			results[i] = Outcome{Attempt: a, Class: NotFinished, Detail: deadlineFirst}
			continue
		}
		wg.Add(1)
		go func(i int, a Attempt) {
			defer func() { <-sem; wg.Done() }()
			results[i] = p.probe(ctx, a)
		}(i, a)
	}
	wg.Wait()
	out = append(out, results...)
	return Facts{Outcomes: out, Concurrency: n, Elapsed: time.Since(start)}
}

type resolution struct {
	addrs []netip.Addr
	class Class
	err   string
}

// resolveAll resolves each distinct name once, all at the same time, each
// lookup bounded by the attempt timeout.
func (s Scanner) resolveAll(ctx context.Context, targets []Target, resolve ResolveFunc) []resolution {
	out := make([]resolution, len(targets))
	names := map[string][]int{}
	for i, t := range targets {
		if t.Host == "" {
			out[i].addrs = t.Addresses()
			continue
		}
		names[t.Host] = append(names[t.Host], i)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, idx := range names {
		wg.Add(1)
		go func(name string, idx []int) {
			defer wg.Done()
			lctx, cancel := context.WithTimeout(ctx, s.Timeout)
			defer cancel()
			addrs, err := resolve(lctx, name)
			r := resolution{}
			switch {
			case err != nil && ctx.Err() != nil:
				r.class, r.err = NotFinished, "the check's deadline came before the name resolved"
			case err != nil:
				r.class, r.err = LocalError, fmt.Sprintf("could not resolve %s: %s", name, resolveError(err))
			default:
				r.addrs = usable(addrs)
				if len(r.addrs) == 0 {
					r.class, r.err = LocalError, fmt.Sprintf("%s resolves to no usable address", name)
				}
			}
			mu.Lock()
			for _, i := range idx {
				out[i] = r
			}
			mu.Unlock()
		}(name, idx)
	}
	wg.Wait()
	return out
}

// usable drops duplicates and addresses that cannot be a remote target,
// and orders the rest (IPv4 first) for stable output.
func usable(in []netip.Addr) []netip.Addr {
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	for _, a := range in {
		a = a.Unmap()
		if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() || seen[a] {
			continue
		}
		seen[a] = true
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

// EffectiveConcurrency is the number of simultaneous attempts: what was
// asked for, no more than there are attempts, MaxConcurrency, or the file
// descriptors the process may open (less a reserve); at least one.
func EffectiveConcurrency(asked, attempts int, nofile uint64) int {
	n := asked
	if n > MaxConcurrency {
		n = MaxConcurrency
	}
	if n > attempts {
		n = attempts
	}
	if nofile > 0 && nofile < uint64(n)+fdReserve {
		if nofile > fdReserve {
			n = int(nofile - fdReserve)
		} else {
			n = 1
		}
	}
	if n < 1 {
		n = 1
	}
	return n
}

// resolveError says why a lookup failed without the resolver's socket
// addresses, which change with every run.
func resolveError(err error) string {
	var de *net.DNSError
	en, isErrno := neterr.Errno(err)
	switch {
	case errors.As(err, &de) && de.IsNotFound:
		return "no such host"
	case isTimeout(err):
		return "the resolver did not answer in time"
	case isErrno:
		return "the resolver failed (" + en.Error() + ")"
	case errors.As(err, &de) && de.Server != "":
		return "the resolver at " + de.Server + " failed"
	case errors.As(err, &de):
		return "the resolver failed"
	}
	return err.Error()
}
