package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sensu/sensu-plugin-sdk/version"
	"github.com/spf13/cobra"

	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Env is what a run sees of its process: arguments (without the program
// name), standard streams and environment lookup. Main fills it from the real
// process; tests fill it by hand.
type Env struct {
	Args   []string
	Stdin  io.Reader // nil: no event is read
	Stdout io.Writer
	Getenv func(string) string
}

// Main runs c as the process and exits with its state's code.
func Main(c Check) {
	os.Exit(Execute(c, Env{Args: os.Args[1:], Stdin: eventStdin(os.Stdin), Stdout: os.Stdout, Getenv: os.Getenv}))
}

// eventStdin returns stdin when it can hold an event: a pipe (the agent's
// `stdin: true`) or a regular file (`< event.json`). The agent gives
// /dev/null, a character device, to checks without `stdin: true`, and a
// terminal must never be waited on.
func eventStdin(f *os.File) io.Reader {
	fi, err := f.Stat()
	if err != nil || (fi.Mode()&os.ModeNamedPipe == 0 && !fi.Mode().IsRegular()) {
		return nil
	}
	return f
}

// grace is how long after the deadline the runner waits for Run before it
// reports the check as timed out on its own.
const grace = 150 * time.Millisecond

// Execute runs c and returns the exit code. Everything it prints goes to
// env.Stdout; nothing goes to stderr.
func Execute(c Check, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	timeout := c.DefaultTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	timeoutText := timeout.String()
	const flag, short = "timeout", "t"
	formatText, format := "nagios", result.Nagios
	opts := append([]ConfigOption{&Option[string]{
		Path: flag, Argument: flag, Shorthand: short, Default: timeoutText, Value: &timeoutText,
		Usage: "deadline of the whole check (Go duration: 500ms, 10s); keep it below the Sensu check's timeout",
	}, &Option[string]{
		Path: "metrics-format", Argument: "metrics-format", Env: "REDIS_CHECKS_METRICS_FORMAT",
		Default: formatText, Value: &formatText,
		Usage: "nagios (perf data on a last line after the only |; output_metric_format: nagios_perfdata) or prometheus (text lines as # comments, then gauges; output_metric_format: prometheus_text) [$REDIS_CHECKS_METRICS_FORMAT]",
	}}, c.Options...)
	// setFormat makes even a bad-input answer use the format asked for,
	// once it is known.
	setFormat := func() error {
		f, err := result.ParseFormat(formatText)
		if err != nil {
			return badInput{err}
		}
		format = f
		return nil
	}

	code := -1 // set when the command ran the check itself
	cmd := &cobra.Command{
		Use:           c.Name,
		Short:         c.Short,
		Long:          c.Long,
		Args:          cobra.NoArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd, opts, env.Getenv); err != nil {
				return err
			}
			if err := setFormat(); err != nil {
				return err
			}
			deadline := time.Now().Add(timeout) // provisional, for reading stdin
			if env.Stdin != nil {
				ev, err := readEvent(env.Stdin, time.Until(deadline))
				if err != nil {
					return err
				}
				if ev != nil {
					if err := applyAnnotations(c.Name, opts, ev); err != nil {
						return err
					}
					if err := setFormat(); err != nil {
						return err
					}
					if c.Event != nil {
						c.Event(ev)
					}
				}
			}
			d, err := parseTimeout(flag, timeoutText)
			if err != nil {
				return err
			}
			if c.Validate != nil {
				if err := c.Validate(env.Getenv); err != nil {
					return err
				}
			}
			code = runWithDeadline(c, d, env.Stdout, format)
			return nil
		},
	}
	cmd.SetOut(env.Stdout)
	cmd.SetErr(env.Stdout)
	cmd.SetArgs(env.Args)
	cmd.CompletionOptions.DisableDefaultCmd = true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		if passwordFlag(env.Args) {
			return badInput{errPasswordFlag}
		}
		return badInput{err}
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(env.Stdout, "%s %s\n", c.Name, version.Version())
			code = 0
		},
	})
	for _, o := range opts {
		if err := o.setupFlag(cmd.Flags()); err != nil {
			return fail(env.Stdout, c.Name, fmt.Errorf("internal: %w", err), format)
		}
	}
	if err := cmd.Execute(); err != nil {
		return fail(env.Stdout, c.Name, err, format)
	}
	if code < 0 { // --help
		return 0
	}
	return code
}

func parseTimeout(flag, s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d <= 0 {
		return 0, badInput{fmt.Errorf("invalid --%s %q: want a positive duration such as 10s", flag, s)}
	}
	return d, nil
}

// runWithDeadline gives the check its context and renders what it returns.
// If the check overruns, the runner still answers before the agent's kill:
// a late check is UNKNOWN, never silent.
func runWithDeadline(c Check, d time.Duration, out io.Writer, f result.Format) int {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan result.Result, 1)
	go func() { done <- safeRun(ctx, c) }()
	var r result.Result
	select {
	case r = <-done:
	case <-time.After(d + grace):
		r = result.Unknownf("check did not finish within its %s deadline", d)
	}
	r.Finalize()
	_ = result.RenderAs(out, c.Name, r, f)
	return r.State.ExitCode()
}

// safeRun turns a panic into UNKNOWN: a crashing check must not exit 2 with
// a Go trace on stderr.
func safeRun(ctx context.Context, c Check) (r result.Result) {
	defer func() {
		if p := recover(); p != nil {
			r = result.Unknownf("internal error: %v", p)
		}
	}()
	return c.Run(ctx)
}

// errPasswordFlag answers --password, which no check defines: a password
// in argv is visible to every local user and stored in the check definition.
var errPasswordFlag = errors.New("--password is not accepted: a password on the command line is visible in ps and in the check " +
	"definition; set $REDIS_PASSWORD (a Sensu secret) instead")

// passwordFlag reports a --password or --password=… among the flags.
func passwordFlag(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--password" || strings.HasPrefix(a, "--password=") {
			return true
		}
	}
	return false
}

// badInput marks errors in what the user gave the check.
type badInput struct{ err error }

func (b badInput) Error() string { return b.err.Error() }
func (b badInput) Unwrap() error { return b.err }

// BadInput wraps err so the runner reports it as bad input. Validate
// functions may return plain errors too; both exit 3.
func BadInput(err error) error { return badInput{err} }

// fail prints the single line bad input gets and returns exit code 3.
func fail(w io.Writer, name string, err error, f result.Format) int {
	msg := err.Error()
	var b badInput
	if !errors.As(err, &b) {
		msg = strings.TrimPrefix(msg, "Error: ")
	}
	r := result.Unknownf("%s", msg)
	r.Finalize()
	_ = result.RenderAs(w, name, r, f)
	return result.Unknown.ExitCode()
}
