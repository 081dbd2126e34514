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
// takes about one timeout; the deadline leaves room for the few slow
// conversations after a connect.
const (
	DefaultTimeout     = 2 * time.Second
	DefaultDeadline    = 10 * time.Second
	DefaultConcurrency = 1024
	maxTimeout         = time.Minute
)

// Config holds the options as given and as parsed.
type Config struct {
	TargetArgs  []string
	PortsArg    string
	ExpectArg   string
	TimeoutArg  string
	Concurrency int
	// Agent is the Sensu entity that runs the check (from the event on
	// stdin); empty: the host name.
	Agent string

	Targets []Target
	Ports   []int
	Expect  Expectation
	Timeout time.Duration

	// Discover holds --discover and its kin (discover.go); discoverConn
	// the walk's credentials and TLS files.
	Discover     deploy.Options
	discoverConn redisconn.Options

	// Dial and Resolve replace the network for tests (nil: the real one).
	Dial    DialFunc
	Resolve ResolveFunc
}

// Options are the check's flags, environment variables and annotations.
func (c *Config) Options() []plugin.ConfigOption {
	return append([]plugin.ConfigOption{
		&plugin.SliceOption[string]{Path: "target", Argument: "target", Env: "REDIS_EXPOSURE_TARGETS",
			Value: &c.TargetArgs, UseCobraStringArray: true,
			Usage: "HOST, HOST:PORT, [IPv6]:PORT or CIDR to try (repeatable; commas also separate) [$REDIS_EXPOSURE_TARGETS]"},
		&plugin.Option[string]{Path: "ports", Argument: "ports", Env: "REDIS_EXPOSURE_PORTS",
			Default: DefaultPorts, Value: &c.PortsArg,
			Usage: "ports for targets given without one [$REDIS_EXPOSURE_PORTS]"},
		&plugin.Option[string]{Path: "expect", Argument: "expect",
			Default: "unreachable", Value: &c.ExpectArg,
			Usage: "unreachable: CRITICAL when any port is open (untrusted vantage point); reachable: CRITICAL when Redis cannot be reached (trusted vantage point)"},
		&plugin.Option[string]{Path: "timeout", Argument: "timeout",
			Default: DefaultTimeout.String(), Value: &c.TimeoutArg,
			Usage: "per attempt: how long a SYN may go unanswered (then: filtered), and again for the conversation after a connect"},
		&plugin.Option[int]{Path: "concurrency", Argument: "concurrency",
			Default: DefaultConcurrency, Value: &c.Concurrency,
			Usage: fmt.Sprintf("simultaneous attempts (at most %d, and fewer when RLIMIT_NOFILE is low)", MaxConcurrency)},
	}, c.discoverOptions()...)
}

// Validate parses and checks the options: every error here is bad input.
func (c *Config) Validate() error {
	var targets []Target
	for _, arg := range c.TargetArgs {
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
	ports, err := ParsePorts(c.PortsArg)
	if err != nil {
		return err
	}
	exp, err := ParseExpectation(c.ExpectArg)
	if err != nil {
		return err
	}
	d, err := time.ParseDuration(strings.TrimSpace(c.TimeoutArg))
	if err != nil || d <= 0 || d > maxTimeout {
		return fmt.Errorf("invalid --timeout %q: want a per-attempt duration such as 2s, at most %s", c.TimeoutArg, maxTimeout)
	}
	if c.Concurrency < 1 || c.Concurrency > MaxConcurrency {
		return fmt.Errorf("--concurrency %d is outside 1-%d", c.Concurrency, MaxConcurrency)
	}
	if n := AttemptCount(targets, ports); n > MaxAttempts {
		return fmt.Errorf("the targets expand to more than %d attempts (addresses times ports); split them over several checks", MaxAttempts)
	}
	c.Targets, c.Ports, c.Expect, c.Timeout = targets, ports, exp, d
	return nil
}

// Run scans and judges.
func (c *Config) Run(ctx context.Context) result.Result {
	s := Scanner{Ports: c.Ports, Timeout: c.Timeout, Concurrency: c.Concurrency, Dial: c.Dial, Resolve: c.Resolve}
	rep := s.Scan(ctx, c.Targets)
	if c.Dial == nil {
		v := FindVantage(c.Agent, rep.Outcomes)
		rep.Vantage = &v
	}
	return Judge(c.Expect, rep)
}

// NewCheck returns the check for plugin.Main.
func NewCheck() plugin.Check {
	c := &Config{}
	return plugin.Check{
		Name:           Name,
		Short:          "Prove from this host whether Redis ports can be reached (run it where untrusted clients sit)",
		Options:        c.Options(),
		DefaultTimeout: DefaultDeadline,
		DeadlineFlag:   "deadline",
		Validate: func(getenv func(string) string) error {
			if err := c.Validate(); err != nil {
				return err
			}
			return c.validateDiscover(getenv)
		},
		Event: func(ev *plugin.Event) { c.Agent, c.Discover.CheckName = ev.EntityName(), ev.CheckName() },
		Run: func(ctx context.Context) result.Result {
			if c.Discover.Enabled {
				return c.RunDeployment(ctx)
			}
			return c.Run(ctx)
		},
	}
}
