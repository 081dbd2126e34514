package result

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Render writes r in the collection's output contract:
//
//	<name> <STATE>: <summary>[ | perfdata]
//	<STATE>: <finding>
//	...
//
// The first line is what Sensu shows as the alert. Perf data, when present,
// follows a single "|" on the first line (nagios_perfdata allows exactly one).
// Control characters from remote input are neutralised so a hostile server
// cannot forge extra lines or a second "|".
func Render(w io.Writer, name string, r Result) error {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(r.State.String())
	b.WriteString(": ")
	b.WriteString(clean(r.Summary))
	if len(r.Metrics) > 0 {
		b.WriteString(" |")
		for _, m := range r.Metrics {
			b.WriteByte(' ')
			b.WriteString(perfLabel(m.Name))
			b.WriteByte('=')
			b.WriteString(strconv.FormatFloat(m.Value, 'f', -1, 64))
			b.WriteString(m.Unit)
		}
	}
	b.WriteByte('\n')
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%s: %s\n", f.State, clean(f.Text))
	}
	_, err := io.WriteString(w, b.String())
	return err
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

// perfLabel quotes a label the way nagios_perfdata wants when it has spaces
// or quotes.
func perfLabel(s string) string {
	s = clean(s)
	if strings.ContainsAny(s, " '=") {
		return "'" + strings.ReplaceAll(strings.ReplaceAll(s, "'", "''"), "=", "_") + "'"
	}
	return s
}
