package acceptance

import (
	"fmt"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Cell is one binary's verdict in one deployment from one vantage point.
type Cell struct {
	Deployment string
	Column     string
	Want       result.State
	// Known names a product defect that makes this cell fail today. The
	// cell still fails the suite; the note tells the reader it is known.
	Known string

	// Ran: the binary was run and its output recorded.
	Ran  bool
	Got  result.State
	Argv []string
	Res  bintest.Result
	// Problems are breaches of the output contract, whatever the state.
	Problems []string
	// Skip explains a cell that was not run (binary not built yet).
	Skip string
}

// Pass reports whether the cell ran, kept the contract and gave the
// expected state.
func (c *Cell) Pass() bool {
	return c.Skip != "" || c.Ran && len(c.Problems) == 0 && c.Got == c.Want
}

// Matrix collects cells of all deployments; safe for parallel subtests.
type Matrix struct {
	mu      sync.Mutex
	columns []string
	rows    []string
	cells   map[[2]string]*Cell
}

// NewMatrix makes an empty matrix with the given column labels.
func NewMatrix(columns []string) *Matrix {
	return &Matrix{columns: columns, cells: map[[2]string]*Cell{}}
}

// AddRow fixes a row's place: rows appear in the order they were added,
// whichever deployment finishes first.
func (m *Matrix) AddRow(deployment string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !contains(m.rows, deployment) {
		m.rows = append(m.rows, deployment)
	}
}

// Expect registers a cell before it runs, so a deployment whose set-up
// fails still shows every cell it owed.
func (m *Matrix) Expect(deployment, column string, want result.State, known string) *Cell {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !contains(m.rows, deployment) {
		m.rows = append(m.rows, deployment)
	}
	c := &Cell{Deployment: deployment, Column: column, Want: want, Known: known}
	m.cells[[2]string{deployment, column}] = c
	return c
}

// Record stores what a run produced (under the lock: subtests may run in
// parallel).
func (m *Matrix) Record(c *Cell, argv []string, r bintest.Result, col Column) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c.Ran, c.Argv, c.Res = true, argv, r
	c.Got, c.Problems = judgeContract(col.Binary, r)
	if col.Deadline > 0 && r.Elapsed > col.Deadline+startSlack {
		c.Problems = append(c.Problems, fmt.Sprintf("took %v, past its %v deadline", r.Elapsed.Round(time.Millisecond), col.Deadline))
	}
}

// startSlack covers process and namespace start-up around a check's own
// deadline.
const startSlack = time.Second

// SkipCell marks a cell as not run, with the reason.
func (m *Matrix) SkipCell(c *Cell, why string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c.Skip = why
}

// Failed lists the failing cells in row order.
func (m *Matrix) Failed() []*Cell {
	return m.filter(func(c *Cell) bool { return !c.Pass() })
}

// Details is the command line and output of every cell that ran, for a
// reader who wants to see what each verdict rests on.
func (m *Matrix) Details() string {
	var b strings.Builder
	for _, c := range m.filter(func(c *Cell) bool { return c.Ran }) {
		b.WriteString(c.detail() + "\n")
	}
	return b.String()
}

func (m *Matrix) filter(keep func(*Cell) bool) []*Cell {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Cell
	for _, r := range m.rows {
		for _, col := range m.columns {
			if c := m.cells[[2]string{r, col}]; c != nil && keep(c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// Render draws deployment × column. A passing cell shows its state; a
// failing one "!GOT (want WANT)"; a cell a deployment does not have, "·".
// With details, the command line and output of every failing cell follow.
func (m *Matrix) Render(details bool) string {
	m.mu.Lock()
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "deployment\t%s\n", strings.Join(m.columns, "\t"))
	for _, r := range m.rows {
		fields := []string{r}
		for _, col := range m.columns {
			fields = append(fields, m.cells[[2]string{r, col}].short())
		}
		fmt.Fprintf(tw, "%s\n", strings.Join(fields, "\t"))
	}
	tw.Flush()
	m.mu.Unlock()
	if !details {
		return b.String()
	}
	for _, c := range m.Failed() {
		b.WriteString("\n" + c.detail())
	}
	return b.String()
}

func (c *Cell) short() string {
	switch {
	case c == nil:
		return "·"
	case c.Skip != "":
		return "skipped"
	case !c.Ran:
		return "!none (want " + c.Want.String() + ")"
	}
	s := c.Got.String()
	if !c.Pass() {
		if c.Got != c.Want {
			s = "!" + s + " (want " + c.Want.String() + ")"
		} else {
			s = "!" + s + " (contract)"
		}
		if c.Known != "" {
			s += " known"
		}
	}
	return s
}

func (c *Cell) detail() string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s / %s: want %s", c.Deployment, c.Column, c.Want)
	if c.Skip != "" {
		fmt.Fprintf(&b, ", skipped: %s\n", c.Skip)
		return b.String()
	}
	if !c.Ran {
		b.WriteString(", no result (set-up failed or the run did not finish; see the subtest's log)\n")
		return b.String()
	}
	fmt.Fprintf(&b, ", got %s (exit %d) in %v\n", c.Got, c.Res.Code, c.Res.Elapsed.Round(time.Millisecond))
	if c.Known != "" {
		fmt.Fprintf(&b, "known product defect: %s\n", c.Known)
	}
	for _, p := range c.Problems {
		fmt.Fprintf(&b, "contract: %s\n", p)
	}
	fmt.Fprintf(&b, "$ %s\n%s", strings.Join(c.Argv, " "), c.Res.Stdout)
	if c.Res.Stderr != "" {
		fmt.Fprintf(&b, "stderr:\n%s", c.Res.Stderr)
	}
	return b.String()
}

// judgeContract reads the state from the exit code and checks the output
// contract every binary keeps: first line "<binary> <STATE>: <summary>"
// matching the exit code, at most one "|" on it, nothing on stderr.
func judgeContract(binary string, r bintest.Result) (result.State, []string) {
	var problems []string
	st := result.State(r.Code)
	if r.Code < 0 || r.Code > 3 {
		problems = append(problems, fmt.Sprintf("exit code %d is not a Sensu state", r.Code))
		st = result.Unknown
	}
	first, _, _ := strings.Cut(r.Stdout, "\n")
	if want := binary + " " + st.String() + ": "; !strings.HasPrefix(first, want) {
		problems = append(problems, fmt.Sprintf("first line %q does not start with %q", first, want))
	}
	if strings.Count(first, "|") > 1 {
		problems = append(problems, "more than one | on the first line")
	}
	if r.Stderr != "" {
		problems = append(problems, "wrote to stderr")
	}
	return st, problems
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
