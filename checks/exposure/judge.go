package exposure

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Expectation is which side of the firewall the check runs on.
type Expectation int

const (
	// ExpectUnreachable: an untrusted vantage point; any open port fails.
	ExpectUnreachable Expectation = iota
	// ExpectReachable: a trusted vantage point (the Sensu server, an
	// application host); a port it cannot reach fails.
	ExpectReachable
)

func (e Expectation) String() string {
	if e == ExpectReachable {
		return "reachable"
	}
	return "unreachable"
}

// ParseExpectation reads --expect.
func ParseExpectation(s string) (Expectation, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "unreachable":
		return ExpectUnreachable, nil
	case "reachable":
		return ExpectReachable, nil
	}
	return 0, fmt.Errorf("--expect %q: want unreachable or reachable", s)
}

// maxLines caps the findings printed per state; the counts in the summary
// and the perf data always cover everything.
const maxLines = 50

// stateOf is the verdict on one outcome.
func stateOf(e Expectation, o Outcome) result.State {
	if !o.Class.Known() {
		return result.Unknown // could not verify: never OK
	}
	if e == ExpectUnreachable {
		if o.Class.Open() {
			return result.Critical
		}
		return result.OK
	}
	switch {
	case o.Class.Closed(), o.Class == OpenProtectedMode:
		return result.Critical // this host cannot use Redis
	case o.Class == OpenNotRedis, o.Class == OpenSilent:
		return result.Warning // the port is reachable but no Redis answered
	}
	return result.OK
}

// Judge turns the options and a scan's facts into the check's result. It
// is pure: the tests feed it hand-made facts. Of the options it reads
// only the expectation.
func Judge(o Options, r Facts) result.Result {
	e := o.Expect
	outs := append([]Outcome(nil), r.Outcomes...)
	// Worst class first; within a class, the order the targets were given
	// in (CIDR blocks and names expand in address order).
	sort.SliceStable(outs, func(i, j int) bool { return outs[i].Class < outs[j].Class })
	var res result.Result
	var counts [numClasses]int
	perState := map[result.State]int{}
	for _, o := range outs {
		counts[o.Class]++
		st := stateOf(e, o)
		perState[st]++
		if st == result.OK && e == ExpectUnreachable {
			continue // hundreds of "filtered" lines help no one; the counts do
		}
		if perState[st] <= maxLines {
			res.Add(st, "%s", line(o))
		}
	}
	for _, st := range []result.State{result.Critical, result.Unknown, result.Warning, result.OK} {
		if n := perState[st] - maxLines; n > 0 && (st != result.OK || e == ExpectReachable) {
			res.Add(st, "… and %d more %s results (counts in the perf data)", n, st)
		}
	}
	res.State = result.Worst(statesOf(perState)...)
	if len(outs) == 0 {
		res.State = result.Unknown // nothing tried proves nothing
	}
	res.Summary = summary(e, res.State, counts, len(outs))
	if r.Vantage != nil {
		res.Add(result.OK, "%s", r.Vantage.line())
	}
	for c := Class(0); c < numClasses; c++ {
		res.Metric(c.perfLabel(), float64(counts[c]), "")
	}
	res.Metric("attempts", float64(len(outs)), "")
	res.Metric("elapsed", float64(r.Elapsed.Round(time.Millisecond))/float64(time.Second), "s")
	return res
}

func statesOf(m map[result.State]int) []result.State {
	var s []result.State
	for st, n := range m {
		if n > 0 {
			s = append(s, st)
		}
	}
	return s
}

// line is one finding: address, class, detail and where it came from.
func line(o Outcome) string {
	var b strings.Builder
	b.WriteString(o.Attempt.String())
	b.WriteByte(' ')
	b.WriteString(o.Class.String())
	if o.TLS {
		b.WriteString(" (TLS)")
	}
	if o.Detail != "" {
		b.WriteString(": ")
		b.WriteString(o.Detail)
	}
	if o.Addr.IsValid() && o.Target != "" && !targetIsAddr(o) {
		fmt.Fprintf(&b, " [target %s]", o.Target)
	}
	return b.String()
}

// targetIsAddr reports whether the target text is just this address and
// port, in which case repeating it adds nothing.
func targetIsAddr(o Outcome) bool {
	return o.Target == o.Addr.String() || o.Target == o.Addr.Addr().String()
}

func summary(e Expectation, st result.State, counts [numClasses]int, total int) string {
	if total == 0 {
		return "no attempt was made"
	}
	var open, closed, unknown []string
	nOpen, nClosed, nUnknown := 0, 0, 0
	for c := Class(0); c < numClasses; c++ {
		n := counts[c]
		if n == 0 {
			continue
		}
		part := fmt.Sprintf("%d %s", n, c)
		switch {
		case c.Open():
			open, nOpen = append(open, part), nOpen+n
		case c.Closed():
			closed, nClosed = append(closed, part), nClosed+n
		default:
			unknown, nUnknown = append(unknown, part), nUnknown+n
		}
	}
	unverified := ""
	if nUnknown > 0 {
		unverified = fmt.Sprintf("; %d of %d attempts unverified (%s)", nUnknown, total, strings.Join(unknown, ", "))
	}
	if e == ExpectUnreachable {
		switch {
		case nOpen > 0:
			return fmt.Sprintf("%d of %d attempts reached a Redis port that must be unreachable: %s%s",
				nOpen, total, strings.Join(open, ", "), unverified)
		case nUnknown > 0:
			return fmt.Sprintf("could not verify %d of %d attempts (%s); %d closed", nUnknown, total, strings.Join(unknown, ", "), nClosed)
		}
		return fmt.Sprintf("nothing reachable: %d attempts, %s", total, strings.Join(closed, ", "))
	}
	switch {
	case nClosed > 0 || counts[OpenProtectedMode] > 0:
		bad := append([]string(nil), closed...)
		if n := counts[OpenProtectedMode]; n > 0 {
			bad = append([]string{fmt.Sprintf("%d %s", n, OpenProtectedMode)}, bad...)
		}
		return fmt.Sprintf("%d of %d attempts could not reach Redis from here, which must: %s%s",
			nClosed+counts[OpenProtectedMode], total, strings.Join(bad, ", "), unverified)
	case nUnknown > 0:
		return fmt.Sprintf("could not verify %d of %d attempts (%s)", nUnknown, total, strings.Join(unknown, ", "))
	case st == result.Warning:
		return fmt.Sprintf("reachable, but not every port answered as Redis: %s", strings.Join(open, ", "))
	}
	return fmt.Sprintf("Redis reachable as expected: %d attempts, %s", total, strings.Join(open, ", "))
}
