// Package exposure proves from a vantage point whether Redis ports can be
// reached: it connects to every address and port of its targets, with
// bounded concurrency and a timeout per attempt, and classifies each
// attempt (open and answering PING, wanting a password, refused by
// protected mode, speaking TLS, not Redis, refused, filtered, ICMP
// unreachable or prohibited). Run from an untrusted segment it fails when
// anything is open; run from a trusted one (--expect reachable) it fails
// when Redis cannot be reached.
package exposure

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/deploy"
	"github.com/sensu-community/sensu-redis-security-checks/checks/plugin"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Name is the binary's name.
const Name = "redis-exposure-check"

// Defaults. A /24 times three ports (762 attempts) fits in one wave, so it
// takes about one attempt timeout; the whole check's deadline leaves room
// for the few slow conversations after a connect.
const (
	DefaultAttemptTimeout = 2 * time.Second
	DefaultTimeout        = 10 * time.Second
	DefaultConcurrency    = 1024
	maxAttemptTimeout     = time.Minute
)

// Options holds the options as given and as parsed.
type Options struct {
	TargetArgs        []string
	PortsArg          string
	ExpectArg         string
	AttemptTimeoutArg string
	Concurrency       int
	// Agent is the Sensu entity that runs the check (from the event on
	// stdin); empty: the host name.
	Agent string

	Targets        []Target
	Ports          []int
	Expect         Expectation
	AttemptTimeout time.Duration

	// Discover holds --discover and its kin (discover.go); discoverConn
	// the walk's credentials and TLS files.
	Discover     deploy.Options
	discoverConn redisconn.Options
}

// ConfigOptions are the check's flags, environment variables and
// annotations. The runner adds --timeout, the whole check's deadline.
func (o *Options) ConfigOptions() []plugin.ConfigOption {
	return append([]plugin.ConfigOption{
		&plugin.SliceOption[string]{Path: "target", Argument: "target", Env: "REDIS_EXPOSURE_TARGETS",
			Value: &o.TargetArgs, UseCobraStringArray: true,
			Usage: "HOST, HOST:PORT, [IPv6]:PORT or CIDR to try (repeatable; commas also separate) [$REDIS_EXPOSURE_TARGETS]"},
		&plugin.Option[string]{Path: "ports", Argument: "ports", Env: "REDIS_EXPOSURE_PORTS",
			Default: DefaultPorts, Value: &o.PortsArg,
			Usage: "ports for targets given without one [$REDIS_EXPOSURE_PORTS]"},
		&plugin.Option[string]{Path: "expect", Argument: "expect",
			Default: "unreachable", Value: &o.ExpectArg,
			Usage: "unreachable: CRITICAL when any port is open (untrusted vantage point); reachable: CRITICAL when Redis cannot be reached (trusted vantage point)"},
		&plugin.Option[string]{Path: "attempt-timeout", Argument: "attempt-timeout",
			Default: DefaultAttemptTimeout.String(), Value: &o.AttemptTimeoutArg,
			Usage: "per attempt: how long a SYN may go unanswered (then: filtered), and again for the conversation after a connect"},
		&plugin.Option[int]{Path: "concurrency", Argument: "concurrency",
			Default: DefaultConcurrency, Value: &o.Concurrency,
			Usage: fmt.Sprintf("simultaneous attempts (at most %d, and fewer when RLIMIT_NOFILE is low)", MaxConcurrency)},
	}, o.discoverOptions()...)
}

// Validate parses and checks the options: every error here is bad input.
// The check reads no environment beyond its options.
func (o *Options) Validate(func(string) string) error {
	var targets []Target
	for _, arg := range o.TargetArgs {
		for _, f := range strings.FieldsFunc(arg, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
			t, err := ParseTarget(f)
			if err != nil {
				return err
			}
			targets = append(targets, t)
		}
	}
	if len(targets) == 0 {
		return errors.New("no --target given")
	}
	ports, err := ParsePorts(o.PortsArg)
	if err != nil {
		return err
	}
	exp, err := ParseExpectation(o.ExpectArg)
	if err != nil {
		return err
	}
	d, err := time.ParseDuration(strings.TrimSpace(o.AttemptTimeoutArg))
	if err != nil || d <= 0 || d > maxAttemptTimeout {
		return fmt.Errorf("invalid --attempt-timeout %q: want a per-attempt duration such as 2s, at most %s", o.AttemptTimeoutArg, maxAttemptTimeout)
	}
	if o.Concurrency < 1 || o.Concurrency > MaxConcurrency {
		return fmt.Errorf("--concurrency %d is outside 1-%d", o.Concurrency, MaxConcurrency)
	}
	if n := AttemptCount(targets, ports); n > MaxAttempts {
		return fmt.Errorf("the targets expand to more than %d attempts (addresses times ports); split them over several checks", MaxAttempts)
	}
	o.Targets, o.Ports, o.Expect, o.AttemptTimeout = targets, ports, exp, d
	return nil
}

// New returns the check, ready for plugin.Main.
func New() plugin.Check {
	o := &Options{}
	return plugin.Check{
		Name:           Name,
		Short:          "Prove from this host whether Redis ports can be reached (run it where untrusted clients sit)",
		Options:        o.ConfigOptions(),
		DefaultTimeout: DefaultTimeout,
		Validate: func(getenv func(string) string) error {
			if err := o.Validate(getenv); err != nil {
				return err
			}
			return o.validateDiscover(getenv)
		},
		Event: func(ev *plugin.Event) { o.Agent, o.Discover.CheckName = ev.EntityName(), ev.CheckName() },
		Run: func(ctx context.Context) result.Result {
			if o.Discover.Enabled {
				return o.RunDeployment(ctx)
			}
			return Judge(*o, Gather(ctx, o))
		},
	}
}
