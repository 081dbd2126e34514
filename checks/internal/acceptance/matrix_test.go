package acceptance

import (
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

func TestContract(t *testing.T) {
	for _, tc := range []struct {
		name     string
		r        bintest.Result
		want     result.State
		problems []string
	}{
		{"kept", bintest.Result{Stdout: "redis-x-check WARNING: w | a=1\nWARNING: w\n", Code: 1}, warning, nil},
		{"state and exit code disagree", bintest.Result{Stdout: "redis-x-check OK: fine\n", Code: 2}, critical,
			[]string{`first line "redis-x-check OK: fine" does not start with "redis-x-check CRITICAL: "`}},
		{"another binary's name", bintest.Result{Stdout: "redis-y-check OK: fine\n"}, ok,
			[]string{`first line "redis-y-check OK: fine" does not start with "redis-x-check OK: "`}},
		{"stderr and two bars", bintest.Result{Stdout: "redis-x-check OK: a | b | c\n", Stderr: "log\n"}, ok,
			[]string{"more than one | on the first line", "wrote to stderr"}},
		{"usage text exits 0", bintest.Result{Stdout: "Usage:\n  redis-x-check [flags]\n"}, ok,
			[]string{`first line "Usage:" does not start with "redis-x-check OK: "`}},
		{"not a Sensu state", bintest.Result{Stdout: "redis-x-check UNKNOWN: x\n", Code: 7}, unknown,
			[]string{"exit code 7 is not a Sensu state"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, problems := judgeContract("redis-x-check", tc.r)
			if got != tc.want || strings.Join(problems, "\n") != strings.Join(tc.problems, "\n") {
				t.Errorf("got %v %q, want %v %q", got, problems, tc.want, tc.problems)
			}
		})
	}
}

func TestMatrixRender(t *testing.T) {
	m := NewMatrix([]string{"a@redis", "b@sensu"})
	col := Column{Binary: "redis-a-check", Deadline: time.Second}
	pass := m.Expect("row one", "a@redis", ok, "")
	m.Record(pass, []string{"redis-a-check"}, bintest.Result{Stdout: "redis-a-check OK: fine\n"}, col)
	bad := m.Expect("row one", "b@sensu", ok, "lets Sensu in twice")
	m.Record(bad, []string{"ip", "netns", "exec", "ns", "redis-a-check", "--x"},
		bintest.Result{Stdout: "redis-a-check CRITICAL: exposed\nCRITICAL: exposed\n", Code: 2, Elapsed: 1500 * time.Millisecond}, col)
	m.Expect("row two", "a@redis", warning, "") // set-up failed: never recorded
	slow := m.Expect("row two", "b@sensu", ok, "")
	m.Record(slow, []string{"redis-a-check"}, bintest.Result{Stdout: "redis-a-check OK: fine\n", Elapsed: 3 * time.Second}, col)

	got := m.Render(true)
	want := `deployment  a@redis               b@sensu
row one     OK                    !CRITICAL (want OK) known
row two     !none (want WARNING)  !OK (contract)

--- row one / b@sensu: want OK, got CRITICAL (exit 2) in 1.5s
known product defect: lets Sensu in twice
$ ip netns exec ns redis-a-check --x
redis-a-check CRITICAL: exposed
CRITICAL: exposed

--- row two / a@redis: want WARNING, no result (set-up failed or the run did not finish; see the subtest's log)

--- row two / b@sensu: want OK, got OK (exit 0) in 3s
contract: took 3s, past its 1s deadline
$ redis-a-check
redis-a-check OK: fine
`
	if got != want {
		t.Errorf("render:\n%s\nwant:\n%s", got, want)
	}
	if n := len(m.Failed()); n != 3 {
		t.Errorf("%d failed cells, want 3", n)
	}
}

// TestTableNamesColumns guards the expectation table: a label that names
// no column would silently leave a cell unrun.
func TestTableNamesColumns(t *testing.T) {
	labels := map[string]bool{}
	for _, c := range Columns {
		if labels[c.Label()] {
			t.Errorf("two columns are labelled %s", c.Label())
		}
		labels[c.Label()] = true
	}
	names := map[string]bool{}
	for _, d := range deployments {
		if names[d.Name] {
			t.Errorf("two deployments are named %q", d.Name)
		}
		names[d.Name] = true
		if len(d.Want) == 0 || d.Setup == nil {
			t.Errorf("%s: no expectations or no set-up", d.Name)
		}
		for _, m := range []map[string]string{d.Known, d.Golden} {
			for l := range m {
				if _, ok := d.Want[l]; !ok {
					t.Errorf("%s: %s is marked but has no expected state", d.Name, l)
				}
			}
		}
		for l := range d.Want {
			if !labels[l] {
				t.Errorf("%s: expectation for unknown column %s", d.Name, l)
			}
		}
	}
}
