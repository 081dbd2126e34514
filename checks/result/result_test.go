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
	r.Add(Critical, "line one\nUNKNOWN: forged")
	r.Metric("open unauthenticated", 2, "")
	r.Metric("refused", 1, "")
	var b strings.Builder
	if err := Render(&b, "redis-x-check", r); err != nil {
		t.Fatal(err)
	}
	want := "redis-x-check CRITICAL: exposed/ fake | 'open unauthenticated'=2 refused=1\n" +
		"CRITICAL: line one UNKNOWN: forged\n"
	if b.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
	}
	if strings.Count(b.String(), "|") != 1 {
		t.Fatal("nagios_perfdata needs exactly one |")
	}
}
