package exposure

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/exposure")

func TestMain(m *testing.M) { bintest.Main(m) }

// elapsedRe matches the only part of the output that differs between runs.
var elapsedRe = regexp.MustCompile(`elapsed=[0-9.]+s`)

// normalise makes an output comparable: the elapsed time is blanked and
// the per-run port numbers become their names ({{open}}, …).
var vantageRe = regexp.MustCompile(`vantage point: [^,\n]+,`)

func normalise(out string, ports map[string]int) string {
	out = elapsedRe.ReplaceAllString(out, "elapsed=Xs")
	out = vantageRe.ReplaceAllString(out, "vantage point: HOST,") // the host name
	names := make([]string, 0, len(ports))
	for n := range ports {
		names = append(names, n)
	}
	// longest number first, so 16379 is not half-replaced by 1637
	sort.Slice(names, func(i, j int) bool { return ports[names[i]] > ports[names[j]] })
	for _, n := range names {
		out = regexp.MustCompile(`:`+strconv.Itoa(ports[n])+`\b`).ReplaceAllString(out, ":{{"+n+"}}")
	}
	return out
}

// golden compares a run of the binary with testdata/exposure/NAME.golden,
// which holds the normalised output and, on its last line, the exit code.
func golden(t *testing.T, name string, r bintest.Result, ports map[string]int) {
	t.Helper()
	if r.Stderr != "" {
		t.Fatalf("stderr must stay empty, got %q", r.Stderr)
	}
	got := normalise(r.Stdout, ports) + "exit " + strconv.Itoa(r.Code) + "\n"
	path := testenv.Testdata(t, "exposure", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("%s: output differs\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// Bad input needs no network: one line, exit 3.
func TestBinaryBadInput(t *testing.T) {
	bin := bintest.Build(t, Name)
	for _, tc := range []struct {
		name string
		args []string
		env  []string
	}{
		{"no-target", nil, nil},
		{"bad-target", []string{"--target", "redis.example:http"}, nil},
		{"too-many", []string{"--target", "10.0.0.0/16"}, nil},
		{"bad-expect", []string{"--target", "192.0.2.1", "--expect", "open"}, nil},
		{"bad-timeout", []string{"--target", "192.0.2.1", "--attempt-timeout", "2"}, nil},
		{"bad-concurrency", []string{"--target", "192.0.2.1", "--concurrency", "0"}, nil},
		{"bad-ports-env", []string{"--target", "192.0.2.1"}, []string{"REDIS_EXPOSURE_PORTS=6379,redis"}},
		{"unknown-flag", []string{"--target", "192.0.2.1", "--bogus", "x"}, nil},
		{"password-flag", []string{"--target", "192.0.2.1", "--password", "x"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := bintest.Run(t, 10*time.Second, tc.env, append([]string{bin}, tc.args...)...)
			if r.Code != 3 || strings.Count(r.Stdout, "\n") != 2 || !strings.HasSuffix(r.Stdout, "\n| check_state=3;;;0;3\n") {
				t.Fatalf("exit %d, %q; want one line, the state metric and exit 3", r.Code, r.Stdout)
			}
			golden(t, "bad-input-"+tc.name, r, nil)
		})
	}
}

// On loopback, with nothing listening: OK, and the perf data counts.
func TestBinaryLoopbackRefused(t *testing.T) {
	bin := bintest.Build(t, Name)
	ln := listen(t, silent) // occupied: open-silent
	free := freePort(t)
	r := bintest.Run(t, 10*time.Second, nil, bin, "--target", "127.0.0.1:"+strconv.Itoa(free), "--attempt-timeout", "300ms")
	golden(t, "loopback-refused", r, map[string]int{"free": free})
	r = bintest.Run(t, 10*time.Second, []string{"REDIS_EXPOSURE_TARGETS=127.0.0.1:" + strconv.Itoa(free) + ",127.0.0.1:" + strconv.Itoa(ln)},
		bin, "--attempt-timeout", "300ms")
	golden(t, "loopback-silent", r, map[string]int{"free": free, "silent": ln})
}
