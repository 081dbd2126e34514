// Package result holds what every check returns: a state, a one-line
// summary, the findings behind it and optional metrics. Checks build a Result;
// only the plugin runner renders it.
package result

import (
	"fmt"
	"sort"
)

// State is a Sensu check state. Its numeric value is the process exit code.
type State int

const (
	OK       State = 0
	Warning  State = 1
	Critical State = 2
	Unknown  State = 3
)

func (s State) String() string {
	switch s {
	case OK:
		return "OK"
	case Warning:
		return "WARNING"
	case Critical:
		return "CRITICAL"
	case Unknown:
		return "UNKNOWN"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// ExitCode maps a state to the process exit status Sensu expects. Anything
// outside the four known states is UNKNOWN: never exit 0 by accident.
func (s State) ExitCode() int {
	switch s {
	case OK, Warning, Critical, Unknown:
		return int(s)
	}
	return int(Unknown)
}

// severity orders states for "the worst one wins": CRITICAL outranks UNKNOWN
// because a proven exposure matters more than a part that could not be read,
// and UNKNOWN outranks WARNING and OK because an unverified check must never
// look healthier than it is.
func (s State) severity() int {
	switch s {
	case OK:
		return 0
	case Warning:
		return 1
	case Unknown:
		return 2
	case Critical:
		return 3
	}
	return 2
}

// Worse reports whether s is more severe than t.
func (s State) Worse(t State) bool { return s.severity() > t.severity() }

// Worst returns the most severe of the given states (OK for none).
func Worst(states ...State) State {
	w := OK
	for _, s := range states {
		if s.Worse(w) {
			w = s
		}
	}
	return w
}

// Finding is one observation behind the verdict. OK findings are context
// ("bind 127.0.0.1 -::1 (config file)"); the others explain the state.
type Finding struct {
	State State
	Text  string
}

// Metric is one perf-data point. Warn, Crit, Min and Max are Nagios
// threshold fields ("30:" means alert below 30), written only in the Nagios
// format and only where they mean something.
type Metric struct {
	Name  string
	Value float64
	Unit  string // "", "s", "ms", "B", "%", "c"; Nagios format only

	Warn, Crit, Min, Max string
}

// Result is what a check returns.
type Result struct {
	// State is the verdict. When left OK by a check that added findings,
	// Finalize raises it to the worst finding.
	State    State
	Summary  string
	Findings []Finding
	Metrics  []Metric
}

// Add records a finding.
func (r *Result) Add(s State, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{State: s, Text: fmt.Sprintf(format, args...)})
}

// Metric records a perf-data point.
func (r *Result) Metric(name string, value float64, unit string) {
	r.Metrics = append(r.Metrics, Metric{Name: name, Value: value, Unit: unit})
}

// MetricWith records a perf-data point with its thresholds and range.
func (r *Result) MetricWith(m Metric) { r.Metrics = append(r.Metrics, m) }

// Worst is the most severe state among the findings.
func (r *Result) Worst() State {
	w := OK
	for _, f := range r.Findings {
		if f.State.Worse(w) {
			w = f.State
		}
	}
	return w
}

// Finalize makes the result self-consistent: the state is at least as bad as
// the worst finding, findings are ordered worst first (stable, so a check's
// own order is kept within a state), and an empty summary is filled in.
func (r *Result) Finalize() {
	if w := r.Worst(); w.Worse(r.State) {
		r.State = w
	}
	sort.SliceStable(r.Findings, func(i, j int) bool {
		return r.Findings[i].State.Worse(r.Findings[j].State)
	})
	if r.Summary == "" {
		r.Summary = r.defaultSummary()
	}
}

func (r *Result) defaultSummary() string {
	for _, f := range r.Findings {
		if f.State == r.State {
			n := 0
			for _, g := range r.Findings {
				if g.State == r.State {
					n++
				}
			}
			if n > 1 {
				return fmt.Sprintf("%s (and %d more)", f.Text, n-1)
			}
			return f.Text
		}
	}
	if r.State == OK {
		return "no problems found"
	}
	return "no details"
}

// Unknownf is a shorthand for a result that could not be verified.
func Unknownf(format string, args ...any) Result {
	return Result{State: Unknown, Summary: fmt.Sprintf(format, args...)}
}
