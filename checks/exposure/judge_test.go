package exposure

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

func out(addr string, c Class, detail string) Outcome {
	ap := netip.MustParseAddrPort(addr)
	return Outcome{Attempt: Attempt{Target: ap.Addr().String(), Addr: ap}, Class: c, Detail: detail}
}

func render(t *testing.T, r result.Result) string {
	t.Helper()
	r.Finalize()
	var b strings.Builder
	if err := result.Render(&b, Name, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestJudgeUnreachableListsOpenWorstFirst(t *testing.T) {
	r := Judge(Options{Expect: ExpectUnreachable}, Facts{Outcomes: []Outcome{
		out("192.0.2.10:16379", Filtered, "no answer"),
		out("192.0.2.10:26379", OpenAuthRequired, "answered PING with \"-NOAUTH Authentication required.\""),
		out("192.0.2.11:6379", Refused, "refused"),
		out("192.0.2.10:6379", OpenUnauthenticated, "answered PING with \"+PONG\""),
	}})
	got := render(t, r)
	want := "redis-exposure-check CRITICAL: 2 of 4 attempts reached a Redis port that must be unreachable: 1 open-unauthenticated, 1 open-auth-required\n" +
		"CRITICAL: 192.0.2.10:6379 open-unauthenticated: answered PING with \"+PONG\"\n" +
		"CRITICAL: 192.0.2.10:26379 open-auth-required: answered PING with \"-NOAUTH Authentication required.\"\n" +
		"| check_state=2;;;0;3 open_unauthenticated=1 open_error_reply=0 open_auth_required=1 open_client_cert_required=0 open_protected_mode=0 open_not_redis=0 open_silent=0" +
		" refused=1 filtered=1 unreachable=0 prohibited=0 local_error=0 not_finished=0 attempts=4 elapsed=0s\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if r.State.ExitCode() != 2 {
		t.Fatal("exit code")
	}
}

func TestJudgeUnreachableOK(t *testing.T) {
	r := Judge(Options{Expect: ExpectUnreachable}, Facts{Outcomes: []Outcome{
		out("192.0.2.10:6379", Filtered, ""), out("192.0.2.10:16379", Refused, ""),
		out("[2001:db8::1]:6379", Prohibited, ""), out("192.0.2.12:6379", Unreachable, ""),
	}})
	if r.State != result.OK || len(r.Findings) != 0 ||
		r.Summary != "nothing reachable: 4 attempts, 1 refused, 1 filtered, 1 unreachable, 1 prohibited" {
		t.Fatalf("%v %q %v", r.State, r.Summary, r.Findings)
	}
}

// Anything unverified keeps the check from saying OK; an open port still
// outranks it.
func TestJudgeFailsClosed(t *testing.T) {
	unknown := Outcome{Attempt: Attempt{Target: "nowhere.invalid"}, Class: LocalError, Detail: "could not resolve nowhere.invalid"}
	r := Judge(Options{Expect: ExpectUnreachable}, Facts{Outcomes: []Outcome{out("192.0.2.10:6379", Filtered, ""), unknown}})
	if r.State != result.Unknown || !strings.HasPrefix(r.Summary, "could not verify 1 of 2 attempts (1 local-error); 1 closed") {
		t.Fatalf("%v %q", r.State, r.Summary)
	}
	if r.Findings[0].Text != "nowhere.invalid local-error: could not resolve nowhere.invalid" {
		t.Fatalf("finding %q", r.Findings[0].Text)
	}
	r = Judge(Options{Expect: ExpectUnreachable}, Facts{Outcomes: []Outcome{out("192.0.2.10:6379", OpenSilent, ""), unknown}})
	if r.State != result.Critical || !strings.Contains(r.Summary, "1 of 2 attempts unverified") {
		t.Fatalf("%v %q", r.State, r.Summary)
	}
	for _, e := range []Expectation{ExpectUnreachable, ExpectReachable} {
		r = Judge(Options{Expect: e}, Facts{})
		r.Finalize()
		if r.State == result.OK {
			t.Fatalf("%v: an empty report is OK", e)
		}
	}
}

func TestJudgeReachable(t *testing.T) {
	for _, tc := range []struct {
		classes []Class
		state   result.State
		summary string
	}{
		{[]Class{OpenAuthRequired, OpenClientCertRequired}, result.OK, "Redis reachable as expected: 2 attempts, 1 open-auth-required, 1 open-client-cert-required"},
		{[]Class{OpenAuthRequired, Filtered}, result.Critical, "1 of 2 attempts could not reach Redis from here, which must: 1 filtered"},
		{[]Class{OpenProtectedMode}, result.Critical, "1 of 1 attempts could not reach Redis from here, which must: 1 open-protected-mode"},
		{[]Class{OpenUnauthenticated, OpenSilent}, result.Warning, "reachable, but not every port answered as Redis: 1 open-unauthenticated, 1 open-silent"},
		{[]Class{OpenUnauthenticated, NotFinished}, result.Unknown, "could not verify 1 of 2 attempts (1 not-finished)"},
	} {
		var outs []Outcome
		for i, c := range tc.classes {
			outs = append(outs, out(fmt.Sprintf("192.0.2.%d:6379", 10+i), c, ""))
		}
		r := Judge(Options{Expect: ExpectReachable}, Facts{Outcomes: outs})
		r.Finalize()
		if r.State != tc.state || r.Summary != tc.summary {
			t.Errorf("%v: %v %q; want %v %q", tc.classes, r.State, r.Summary, tc.state, tc.summary)
		}
	}
}

func TestJudgeCapsLines(t *testing.T) {
	var outs []Outcome
	for i := 1; i <= 254; i++ {
		outs = append(outs, out(fmt.Sprintf("192.0.2.%d:6379", i), OpenAuthRequired, ""))
	}
	r := Judge(Options{Expect: ExpectUnreachable}, Facts{Outcomes: outs})
	r.Finalize()
	if len(r.Findings) != maxLines+1 {
		t.Fatalf("%d findings", len(r.Findings))
	}
	if last := r.Findings[maxLines].Text; last != "… and 204 more CRITICAL results (counts in the perf data)" {
		t.Fatalf("last line %q", last)
	}
	if r.Findings[0].Text != "192.0.2.1:6379 open-auth-required" {
		t.Fatalf("first line %q (addresses must sort numerically)", r.Findings[0].Text)
	}
}

func TestLineNamesTargetAndTLS(t *testing.T) {
	o := out("192.0.2.10:6379", OpenUnauthenticated, "answered PING over TLS with \"+PONG\"")
	o.Target, o.Name, o.TLS = "redis.example", "redis.example", true
	want := "192.0.2.10:6379 open-unauthenticated (TLS): answered PING over TLS with \"+PONG\" [target redis.example]"
	if got := line(o); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// One event per agent must say which agent saw it and from where.
func TestJudgeNamesVantagePoint(t *testing.T) {
	r := Judge(Options{Expect: ExpectUnreachable}, Facts{
		Outcomes: []Outcome{out("192.0.2.10:6379", Refused, "refused")},
		Vantage:  &Vantage{Agent: "agent-2", Sources: []string{"198.51.100.7"}},
	})
	got := render(t, r)
	if !strings.Contains(got, "\nOK: vantage point: agent-2, source address 198.51.100.7\n") {
		t.Fatalf("no vantage line:\n%s", got)
	}
	r = Judge(Options{Expect: ExpectUnreachable}, Facts{Outcomes: []Outcome{out("192.0.2.10:6379", Refused, "refused")}, Vantage: &Vantage{Agent: "a"}})
	if got := render(t, r); !strings.Contains(got, "vantage point: a, no route to any target") {
		t.Fatalf("no-route vantage line:\n%s", got)
	}
}

// The source address is the kernel's choice for the route, looked up
// without sending anything; the agent defaults to the host name.
func TestFindVantageLoopback(t *testing.T) {
	v := FindVantage("", []Outcome{{Attempt: Attempt{Addr: netip.MustParseAddrPort("127.0.0.1:6379")}}})
	host, _ := os.Hostname()
	if v.Agent != host || len(v.Sources) != 1 || v.Sources[0] != "127.0.0.1" {
		t.Fatalf("vantage %+v, want host %q from 127.0.0.1", v, host)
	}
}
