package result

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Format is how metrics are written after the human-readable text.
type Format int

const (
	// Nagios writes perf data on a last line of its own:
	//
	//	<name> <STATE>: <summary>
	//	<STATE>: <finding>
	//	| check_state=0;;;0;3 metric=value[unit][;warn;crit;min;max] ...
	//
	// The "|" is the only one in the whole output and only perf data follows
	// it: Sensu's nagios_perfdata transformer splits the whole output on "|"
	// and wants exactly two parts, then splits the rest on spaces; Nagios
	// reads a "|" in the long text as the start of more perf data.
	Nagios Format = iota
	// Prometheus writes the text as "#" comment lines, then one gauge per
	// metric, so the whole output is valid Prometheus text exposition
	// (Sensu's prometheus_text transformer rejects any other line):
	//
	//	# <name> <STATE>: <summary>
	//	# <STATE>: <finding>
	//	# TYPE check_state gauge
	//	check_state 0
	Prometheus
)

// ParseFormat reads the --metrics-format value.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "nagios", "nagios_perfdata", "":
		return Nagios, nil
	case "prometheus", "prometheus_text":
		return Prometheus, nil
	}
	return Nagios, fmt.Errorf("invalid metrics format %q: want nagios or prometheus", s)
}

// StateMetric is the metric every output carries, whatever the state: the
// state itself (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN). A check that could
// not measure emits no made-up counts, but Sensu still gets one point.
const StateMetric = "check_state"

// Render writes r in the Nagios format (see Nagios).
func Render(w io.Writer, name string, r Result) error { return RenderAs(w, name, r, Nagios) }

// RenderAs writes r in the output contract with metrics in format f.
// Control characters from remote input are neutralised so a hostile server
// cannot forge extra lines, and "|" never appears in the text.
func RenderAs(w io.Writer, name string, r Result, f Format) error {
	metrics := append([]Metric{{Name: StateMetric, Value: float64(r.State.ExitCode()), Min: "0", Max: "3"}}, r.Metrics...)
	comment := ""
	if f == Prometheus {
		comment = "# "
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s%s %s: %s\n", comment, name, r.State, clean(r.Summary))
	for _, fd := range r.Findings {
		fmt.Fprintf(&b, "%s%s: %s\n", comment, fd.State, clean(fd.Text))
	}
	if f == Prometheus {
		seen := map[string]bool{}
		for _, m := range metrics {
			n := metricName(m.Name)
			if seen[n] {
				continue // a second sample of a family is a parse error
			}
			seen[n] = true
			fmt.Fprintf(&b, "# TYPE %s gauge\n%s %s\n", n, n, strconv.FormatFloat(m.Value, 'g', -1, 64))
		}
	} else {
		b.WriteByte('|')
		for _, m := range metrics {
			b.WriteByte(' ')
			b.WriteString(metricName(m.Name))
			b.WriteByte('=')
			b.WriteString(strconv.FormatFloat(m.Value, 'f', -1, 64))
			b.WriteString(m.Unit)
			b.WriteString(thresholds(m))
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// thresholds is ";warn;crit;min;max" without trailing empty fields.
func thresholds(m Metric) string {
	t := strings.TrimRight(strings.Join([]string{"", m.Warn, m.Crit, m.Min, m.Max}, ";"), ";")
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '|' || r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, t)
}

// clean keeps a text on one line and free of the perf-data separator.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '|':
			return '/'
		case r < 0x20 || r == 0x7f:
			return ' '
		}
		return r
	}, s)
}

// metricName makes a name both formats take as is: letters, digits and
// "_", not starting with a digit. Sensu splits perf data on spaces, so a
// quoted Nagios label with a space would break it apart.
func metricName(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			if i == 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}
