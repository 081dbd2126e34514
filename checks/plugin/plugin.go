// Package plugin is the one way a check of this collection runs: it turns
// flags, environment variables and Sensu annotations into options, gives the
// check a deadline, renders its result in the output contract and maps the
// state to the exit code.
//
// Its options behave like the sensu-plugin-sdk's (flags, env and annotation
// lookup keep the SDK's names, syntax and precedence), but it does not run
// through sensu.Check.Execute, because that path exits 0 on an unknown flag
// or a malformed value, exits 1
// (WARNING) on a bad stdin event, and writes usage text to stderr, which the
// agent pastes into the alert. Here every such case is one line on stdout and
// exit 3 (UNKNOWN).
package plugin

import (
	"context"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Check describes one check binary.
type Check struct {
	// Name is the binary name; it starts every output line the agent shows.
	Name string
	// Short is the one-line description shown by --help.
	Short string
	// Long is the longer description shown by --help (optional).
	Long string
	// Options are the check's own options. The runner adds --timeout (-t),
	// the whole check's deadline, the same in every binary.
	Options []ConfigOption
	// DefaultTimeout is the whole check's deadline unless --timeout says
	// otherwise.
	DefaultTimeout time.Duration
	// Validate checks the options once they are all known (flags, env,
	// annotations). getenv is the runner's environment, the only one a
	// check may read (secrets such as $REDIS_PASSWORD). An error is bad
	// input: UNKNOWN, exit 3.
	Validate func(getenv func(string) string) error
	// Event, when set, receives the event read from stdin (after its
	// annotations were applied), e.g. to name the agent in the output.
	Event func(*Event)
	// Run does the work. It must honour ctx; the runner reports UNKNOWN
	// if it has not returned by the deadline.
	Run func(ctx context.Context) result.Result
}

// Keyspace is the annotation prefix of a check's options, as in the SDK:
// sensu.io/plugins/<name>/config/<path>.
func Keyspace(name string) string { return "sensu.io/plugins/" + name + "/config" }
