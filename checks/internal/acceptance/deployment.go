package acceptance

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Deployment is one row of the matrix: a configuration of the guide and
// the state every column must report in it.
type Deployment struct {
	Name string
	// Guide is what the guide says that this row reproduces.
	Guide string
	// Local: Sensu runs on the Redis host.
	Local bool
	// Setup configures the site: Redis (StartRedis) and the firewalls.
	Setup func(t testing.TB, s *Site)
	// Want holds the expected state by column label; a column the row
	// does not name is not run.
	Want map[string]result.State
	// Known marks cells that fail today because of a product defect
	// (label → description). They still fail the suite.
	Known map[string]string
	// Golden names cells whose exact output is compared with
	// testdata/<name>.golden (label → name).
	Golden map[string]string
}

// runLimit bounds one binary run; every check's own deadline is shorter.
const runLimit = 30 * time.Second

// Binaries builds the collection's binaries once. A binary whose cmd/
// directory does not exist yet maps to "" and its cells are skipped.
func Binaries(t testing.TB) map[string]string {
	t.Helper()
	bins := map[string]string{}
	for _, c := range Columns {
		if _, done := bins[c.Binary]; done {
			continue
		}
		if _, err := os.Stat(filepath.Join(moduleRoot(), "cmd", c.Binary)); err != nil {
			bins[c.Binary] = ""
			continue
		}
		bins[c.Binary] = bintest.Build(t, c.Binary)
	}
	return bins
}

// Run builds the deployment's site and runs every column it names,
// recording each cell in m. Each cell runs in a subtest, so a run that
// overstays its limit costs that cell only. The site is handed to onSite
// (may be nil) as soon as it exists, so a caller can check its removal
// even when the set-up fails.
func Run(t *testing.T, d Deployment, bins map[string]string, m *Matrix, onSite func(*Site)) map[string]*Cell {
	t.Helper()
	cells := map[string]*Cell{}
	var cols []Column
	for _, c := range Columns {
		want, ok := d.Want[c.Label()]
		if !ok {
			continue
		}
		cells[c.Label()] = m.Expect(d.Name, c.Label(), want, d.Known[c.Label()])
		cols = append(cols, c)
	}
	s := NewSite(t, d.Local)
	if onSite != nil {
		onSite(s)
	}
	d.Setup(t, s)
	for _, c := range cols {
		cell := cells[c.Label()]
		bin := bins[c.Binary]
		if bin == "" {
			m.SkipCell(cell, "cmd/"+c.Binary+" does not exist yet")
			continue
		}
		t.Run(c.Label(), func(t *testing.T) {
			argv := append(append(s.Host(c.At).Wrap(), bin), c.Args(s)...)
			r := bintest.Run(t, runLimit, s.Env, argv...)
			m.Record(cell, argv, r, c)
			if !cell.Pass() {
				t.Errorf("want %s, got %s (exit %d)%s\n%s", cell.Want, cell.Got, r.Code, knownNote(cell), r.Stdout)
			}
		})
	}
	return cells
}

func knownNote(c *Cell) string {
	if c.Known == "" {
		return ""
	}
	return "; known product defect: " + c.Known
}

// moduleRoot is the repository root, found from this file's place.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}
