package result

import (
	"strings"
	"testing"
)

func TestFinalizeRaisesStateAndOrders(t *testing.T) {
	var r Result
	r.Add(OK, "bind 127.0.0.1")
	r.Add(Warning, "protected-mode off")
	r.Add(Critical, "listening on 0.0.0.0:6379")
	r.Add(Unknown, "config file unreadable")
	r.Finalize()
	if r.State != Critical {
		t.Fatalf("state = %v, want CRITICAL", r.State)
	}
	got := []State{}
	for _, f := range r.Findings {
		got = append(got, f.State)
	}
	want := []State{Critical, Unknown, Warning, OK}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order = %v, want %v", got, want)
		}
	}
	if r.Summary != "listening on 0.0.0.0:6379" {
		t.Fatalf("summary = %q", r.Summary)
	}
}

func TestFinalizeKeepsExplicitWorseState(t *testing.T) {
	r := Result{State: Unknown, Summary: "no source could be read"}
	r.Add(OK, "sockets: none on the Redis ports")
	r.Finalize()
	if r.State != Unknown {
		t.Fatalf("state = %v, want UNKNOWN (a check's explicit verdict must not be lowered)", r.State)
	}
}

func TestUnknownIsWorseThanWarningButNotCritical(t *testing.T) {
	if !Unknown.Worse(Warning) || !Critical.Worse(Unknown) || OK.Worse(Warning) {
		t.Fatal("severity order broken")
	}
	if Worst(OK, Warning, Unknown) != Unknown || Worst() != OK {
		t.Fatal("Worst broken")
	}
}

func TestExitCodes(t *testing.T) {
	for s, want := range map[State]int{OK: 0, Warning: 1, Critical: 2, Unknown: 3, State(9): 3, State(-1): 3} {
		if got := s.ExitCode(); got != want {
			t.Errorf("%v.ExitCode() = %d, want %d", s, got, want)
		}
	}
}

func TestRenderContract(t *testing.T) {
	r := Result{State: Critical, Summary: "exposed|\nfake"}
	r.Add(Critical, "line one\nUNKNOWN: forged retries=3")
	r.Metric("open unauthenticated", 2, "")
	r.Metric("refused", 1, "")
	r.MetricWith(Metric{Name: "days_to_expiry", Value: 12, Warn: "30:", Crit: "7:"})
	var b strings.Builder
	if err := Render(&b, "redis-x-check", r); err != nil {
		t.Fatal(err)
	}
	want := "redis-x-check CRITICAL: exposed/ fake\n" +
		"CRITICAL: line one UNKNOWN: forged retries=3\n" +
		"| check_state=2;;;0;3 open_unauthenticated=2 refused=1 days_to_expiry=12;30:;7:\n"
	if b.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
	}
	assertSensuNagios(t, b.String(), []string{"check_state", "open_unauthenticated", "refused", "days_to_expiry"})
}

// A result with nothing measured still carries the state metric, so an
// UNKNOWN run is a point in Sensu's metrics, not an extraction error.
func TestRenderUnknownHasStateMetric(t *testing.T) {
	for _, f := range []Format{Nagios, Prometheus} {
		var b strings.Builder
		_ = RenderAs(&b, "redis-x-check", Unknownf("cannot connect"), f)
		if !strings.Contains(b.String(), "check_state") || !strings.Contains(b.String(), "3\n") {
			t.Errorf("format %d: %q has no check_state 3", f, b.String())
		}
	}
}

func TestRenderPrometheus(t *testing.T) {
	r := Result{State: Warning, Summary: "expires soon"}
	r.Add(Warning, "leaf expires in 12 days")
	r.Add(OK, "TYPE x gauge") // a finding that looks like a directive stays a comment
	r.MetricWith(Metric{Name: "days_to_expiry", Value: 12, Warn: "30:", Crit: "7:"})
	r.Metric("elapsed", 0.25, "s")
	r.Metric("elapsed", 0.5, "s")
	var b strings.Builder
	if err := RenderAs(&b, "redis-tls-check", r, Prometheus); err != nil {
		t.Fatal(err)
	}
	want := "# redis-tls-check WARNING: expires soon\n" +
		"# WARNING: leaf expires in 12 days\n" +
		"# OK: TYPE x gauge\n" +
		"# TYPE check_state gauge\ncheck_state 1\n" +
		"# TYPE days_to_expiry gauge\ndays_to_expiry 12\n" +
		"# TYPE elapsed gauge\nelapsed 0.25\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"nagios": Nagios, "": Nagios, "Prometheus": Prometheus, "prometheus_text": Prometheus, "nagios_perfdata": Nagios} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("graphite"); err == nil {
		t.Error("graphite accepted")
	}
}

// assertSensuNagios applies the rules of Sensu Go 6.12's nagios_perfdata
// transformer (agent/transformers/nagios.go): split the whole output on
// "|", exactly two parts; split the second on spaces; every token is
// label=value[;...] with a numeric value. The end-to-end test runs the real
// agent; this keeps the renderer honest without one.
func assertSensuNagios(t *testing.T, out string, names []string) {
	t.Helper()
	parts := strings.Split(out, "|")
	if len(parts) != 2 {
		t.Fatalf("%d parts around |, want 2: %q", len(parts), out)
	}
	var got []string
	for _, tok := range strings.Split(strings.TrimSpace(parts[1]), " ") {
		if tok == "" {
			continue
		}
		kv := strings.Split(strings.Split(tok, ";")[0], "=")
		if len(kv) != 2 || kv[1] == "" {
			t.Fatalf("invalid perf token %q", tok)
		}
		got = append(got, kv[0])
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("metrics %v, want %v", got, names)
	}
}
