package plugin

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

type fixture struct {
	days  int
	names []string
	seen  context.Context
}

func (f *fixture) check(run func(ctx context.Context) result.Result) Check {
	return Check{
		Name:  "redis-test-check",
		Short: "test",
		Options: []ConfigOption{
			&Option[int]{Path: "warning-days", Argument: "warning-days", Env: "TEST_DAYS", Default: 30, Value: &f.days, Usage: "days"},
			&SliceOption[string]{Path: "allow", Argument: "allow", Value: &f.names, Usage: "names", UseCobraStringArray: true},
		},
		DefaultTimeout: 2 * time.Second,
		Validate: func(func(string) string) error {
			if f.days < 0 {
				return errors.New("--warning-days must not be negative")
			}
			return nil
		},
		Run: run,
	}
}

func exec1(t *testing.T, c Check, env Env) (int, string) {
	t.Helper()
	var out strings.Builder
	env.Stdout = &out
	code := Execute(c, env)
	return code, out.String()
}

func okRun(ctx context.Context) result.Result { return result.Result{Summary: "fine"} }

func TestBadInputIsOneLineAndExit3(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown flag", []string{"--nope"}, nil, "redis-test-check UNKNOWN: unknown flag: --nope\n| check_state=3;;;0;3\n"},
		{"password flag", []string{"--password", "s3cret"}, nil, "redis-test-check UNKNOWN: --password is not accepted: a password on the command line is visible in ps and in the check definition; set $REDIS_PASSWORD (a Sensu secret) instead\n| check_state=3;;;0;3\n"},
		{"password flag with value", []string{"--password=s3cret"}, nil, "redis-test-check UNKNOWN: --password is not accepted: a password on the command line is visible in ps and in the check definition; set $REDIS_PASSWORD (a Sensu secret) instead\n| check_state=3;;;0;3\n"},
		{"malformed int", []string{"--warning-days", "abc"}, nil, "redis-test-check UNKNOWN: invalid argument \"abc\" for \"--warning-days\" flag: strconv.ParseInt: parsing \"abc\": invalid syntax\n| check_state=3;;;0;3\n"},
		{"stray argument", []string{"extra"}, nil, "redis-test-check UNKNOWN: unknown command \"extra\" for \"redis-test-check\"\n| check_state=3;;;0;3\n"},
		{"validation", []string{"--warning-days=-1"}, nil, "redis-test-check UNKNOWN: --warning-days must not be negative\n| check_state=3;;;0;3\n"},
		{"bad env", nil, map[string]string{"TEST_DAYS": "soon"}, "redis-test-check UNKNOWN: invalid value in $TEST_DAYS\n| check_state=3;;;0;3\n"},
		{"bad timeout", []string{"--timeout", "5"}, nil, "redis-test-check UNKNOWN: invalid --timeout \"5\": want a positive duration such as 10s\n| check_state=3;;;0;3\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f fixture
			code, out := exec1(t, f.check(okRun), Env{Args: tc.args, Getenv: func(k string) string { return tc.env[k] }})
			if code != 3 || out != tc.want {
				t.Fatalf("exit %d, output %q; want 3, %q", code, out, tc.want)
			}
		})
	}
}

func TestPrecedenceAnnotationFlagEnvDefault(t *testing.T) {
	event := `{"check":{"metadata":{"name":"c","annotations":{"sensu.io/plugins/redis-test-check/config/warning-days":"9"}}},
	"entity":{"metadata":{"name":"e","annotations":{"sensu.io/plugins/redis-test-check/config/allow":"[\"a\",\"b\"]"}}}}`
	for _, tc := range []struct {
		name  string
		args  []string
		env   string
		stdin string
		want  int
	}{
		{"default", nil, "", "", 30},
		{"env", nil, "12", "", 12},
		{"flag beats env", []string{"--warning-days", "5"}, "12", "", 5},
		{"annotation beats flag", []string{"--warning-days", "5"}, "12", event, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f fixture
			env := Env{Args: tc.args, Getenv: func(k string) string {
				if k == "TEST_DAYS" {
					return tc.env
				}
				return ""
			}}
			if tc.stdin != "" {
				env.Stdin = strings.NewReader(tc.stdin)
			}
			code, out := exec1(t, f.check(okRun), env)
			if code != 0 || f.days != tc.want {
				t.Fatalf("exit %d (%q), days %d; want 0, %d", code, out, f.days, tc.want)
			}
			if tc.stdin != "" && strings.Join(f.names, ",") != "a,b" {
				t.Fatalf("entity annotation not applied: %v", f.names)
			}
		})
	}
}

func TestBadEventIsUnknown(t *testing.T) {
	var f fixture
	code, out := exec1(t, f.check(okRun), Env{Stdin: strings.NewReader("not json")})
	if code != 3 || !strings.HasPrefix(out, "redis-test-check UNKNOWN: stdin is not a Sensu event") {
		t.Fatalf("exit %d, %q", code, out)
	}
	code, out = exec1(t, f.check(okRun), Env{Stdin: strings.NewReader(`{"check":{"metadata":{"annotations":{"sensu.io/plugins/redis-test-check/config/warning-days":"many"}}}}`)})
	if code != 3 || !strings.Contains(out, "invalid value in annotation sensu.io/plugins/redis-test-check/config/warning-days") {
		t.Fatalf("exit %d, %q", code, out)
	}
	// An empty pipe is no event, not an error.
	code, _ = exec1(t, f.check(okRun), Env{Stdin: strings.NewReader("  \n")})
	if code != 0 {
		t.Fatalf("empty stdin: exit %d", code)
	}
}

func TestRunnerEnforcesDeadline(t *testing.T) {
	var f fixture
	stuck := func(ctx context.Context) result.Result {
		time.Sleep(5 * time.Second) // ignores ctx on purpose
		return result.Result{}
	}
	start := time.Now()
	code, out := exec1(t, f.check(stuck), Env{Args: []string{"--timeout", "300ms"}})
	if el := time.Since(start); el > time.Second {
		t.Fatalf("took %v with a 300ms deadline", el)
	}
	if code != 3 || out != "redis-test-check UNKNOWN: check did not finish within its 300ms deadline\n| check_state=3;;;0;3\n" {
		t.Fatalf("exit %d, %q", code, out)
	}
}

func TestContextCarriesDeadline(t *testing.T) {
	var f fixture
	var left time.Duration
	code, _ := exec1(t, f.check(func(ctx context.Context) result.Result {
		d, ok := ctx.Deadline()
		if !ok {
			return result.Unknownf("no deadline")
		}
		left = time.Until(d)
		return result.Result{}
	}), Env{Args: []string{"-t", "1500ms"}})
	if code != 0 || left <= time.Second || left > 1500*time.Millisecond {
		t.Fatalf("exit %d, deadline in %v", code, left)
	}
}

func TestPanicIsUnknown(t *testing.T) {
	var f fixture
	code, out := exec1(t, f.check(func(context.Context) result.Result { panic("boom") }), Env{})
	if code != 3 || out != "redis-test-check UNKNOWN: internal error: boom\n| check_state=3;;;0;3\n" {
		t.Fatalf("exit %d, %q", code, out)
	}
}

func TestRenderAndExitFollowState(t *testing.T) {
	var f fixture
	code, out := exec1(t, f.check(func(context.Context) result.Result {
		var r result.Result
		r.Add(result.OK, "bind 127.0.0.1")
		r.Add(result.Critical, "listening on 0.0.0.0:6379")
		return r
	}), Env{})
	want := "redis-test-check CRITICAL: listening on 0.0.0.0:6379\nCRITICAL: listening on 0.0.0.0:6379\nOK: bind 127.0.0.1\n| check_state=2;;;0;3\n"
	if code != 2 || out != want {
		t.Fatalf("exit %d, %q", code, out)
	}
}

func TestHelpAndVersion(t *testing.T) {
	var f fixture
	code, out := exec1(t, f.check(okRun), Env{Args: []string{"--help"}})
	if code != 0 || !strings.Contains(out, "--warning-days") || !strings.Contains(out, "--timeout") {
		t.Fatalf("help: exit %d, %q", code, out)
	}
	code, out = exec1(t, f.check(okRun), Env{Args: []string{"version"}})
	if code != 0 || !strings.HasPrefix(out, "redis-test-check dev, commit none") {
		t.Fatalf("version: exit %d, %q", code, out)
	}
}

func TestMetricsFormat(t *testing.T) {
	var f fixture
	code, out := exec1(t, f.check(okRun), Env{Args: []string{"--metrics-format", "prometheus"}})
	if want := "# redis-test-check OK: fine\n# TYPE check_state gauge\ncheck_state 0\n"; code != 0 || out != want {
		t.Fatalf("flag: exit %d, %q; want %q", code, out, want)
	}
	ev := `{"check":{"metadata":{"annotations":{"sensu.io/plugins/redis-test-check/config/metrics-format":"prometheus"}}}}`
	code, out = exec1(t, f.check(okRun), Env{Stdin: strings.NewReader(ev)})
	if code != 0 || !strings.HasPrefix(out, "# redis-test-check OK: fine\n") {
		t.Fatalf("annotation: exit %d, %q", code, out)
	}
	// A bad value is bad input, reported in the format Sensu expects.
	code, out = exec1(t, f.check(okRun), Env{Args: []string{"--metrics-format", "graphite"}})
	if want := "redis-test-check UNKNOWN: invalid metrics format \"graphite\": want nagios or prometheus\n| check_state=3;;;0;3\n"; code != 3 || out != want {
		t.Fatalf("bad value: exit %d, %q; want %q", code, out, want)
	}
	code, out = exec1(t, f.check(okRun), Env{Args: []string{"--metrics-format", "prometheus", "--timeout", "x"}})
	if code != 3 || !strings.HasPrefix(out, "# redis-test-check UNKNOWN: ") || !strings.HasSuffix(out, "\ncheck_state 3\n") {
		t.Fatalf("bad input after the format is known: exit %d, %q", code, out)
	}
}

// The agent may hand a check a regular file as stdin (and shells do with
// "< event.json"): the event is read from it as from a pipe.
func TestEventStdinFromRegularFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(p, []byte(`{"check":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if eventStdin(fh) == nil {
		t.Fatal("a regular file on stdin is ignored")
	}
	dev, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	if eventStdin(dev) != nil {
		t.Fatal("/dev/null is taken as an event")
	}
}
