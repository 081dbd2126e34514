package hostile

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/bintest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/certtest"
)

// Environment of long runs.
const (
	casesEnv  = "REDIS_CHECKS_FUZZ_CASES"  // how many generated cases (default 150)
	seedEnv   = "REDIS_CHECKS_FUZZ_SEED"   // seed of the run (default 1; "random": from the clock)
	saveEnv   = "REDIS_CHECKS_FUZZ_SAVE"   // 1: write failing cases to testdata/cases
	reportEnv = "REDIS_CHECKS_FUZZ_REPORT" // file to write the run's figures to (scripts/bench)
	onlyEnv   = "REDIS_CHECKS_FUZZ_ONLY"   // run only this case number of the seed, verbosely
)

// deadline is what each check gets: short, so silent peers cost little, and
// long enough that the 10% margin (300 ms) absorbs process start-up and the
// runner's 150 ms grace on a loaded 2-core machine.
const deadline = 3 * time.Second

// parallel runs this many checks at once: they mostly wait on the peer, but
// more would measure the machine's load rather than the checks' deadlines.
const parallel = 2

func TestMain(m *testing.M) { bintest.Main(m) }

func setup(t *testing.T) Env {
	t.Helper()
	e := Env{Bin: map[string]string{}, Deadline: deadline}
	for _, b := range Binaries {
		e.Bin[b] = bintest.Build(t, b)
	}
	ca := certtest.NewCA(t, "hostile-ca")
	leaf := ca.Server(t, "localhost")
	e.CAFile = ca.RootFile
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.ClosedPort = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	// Strong suites only: the baseline world must be one the TLS check
	// has nothing to say against, so that any finding comes from a
	// mutation.
	e.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}, MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		}}
	return e
}

// knownFailures are cases whose OK after a mutated reply is kept, each with
// its reason: "accepted" where the mutation is an answer a real server
// gives (a renamed command, an ACL refusal) and the check verified what it
// needed through another source; "open" where it is a judgement still to
// make fail-closed. They run and are reported, but do not fail. A listed
// case that no longer says OK is logged so the entry can go.
func knownFailures(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "known-failures.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("testdata/known-failures.json: %v", err)
	}
	return m
}

// stats are the figures of a run, for the log and docs/benchmarks.md.
type stats struct {
	mu          sync.Mutex
	cases       int
	mutated     int
	falseOK     int
	known       int
	maxRSS      int64
	worst       time.Duration // longest run
	worstName   string
	statesSeen  map[string]int
	problemRuns int
}

func (s *stats) add(name string, o Outcome, state string, problems int, falseOK, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cases++
	if o.Mutated {
		s.mutated++
	}
	if falseOK {
		s.falseOK++
	}
	if known {
		s.known++
	}
	s.maxRSS = max(s.maxRSS, o.MaxRSS)
	if o.Elapsed > s.worst {
		s.worst, s.worstName = o.Elapsed, name
	}
	if s.statesSeen == nil {
		s.statesSeen = map[string]int{}
	}
	s.statesSeen[state]++
	if problems > 0 {
		s.problemRuns++
	}
}

func (s *stats) String() string {
	var st []string
	for _, k := range slices.Sorted(mapsKeysInt(s.statesSeen)) {
		st = append(st, fmt.Sprintf("%s %d", k, s.statesSeen[k]))
	}
	return fmt.Sprintf("%d cases (%d served a mutated reply), states: %s; false OK %d (%d known); peak RSS %.1f MiB; longest run %v (%s) for a %v deadline: overrun %+v",
		s.cases, s.mutated, strings.Join(st, ", "), s.falseOK, s.known, float64(s.maxRSS)/(1<<20),
		s.worst.Round(time.Millisecond), s.worstName, deadline, (s.worst - deadline).Round(time.Millisecond))
}

func mapsKeysInt(m map[string]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// check runs one case and reports what it breaks. It returns whether the
// case failed (including a known false OK).
func check(t *testing.T, e Env, c Case, known map[string]string, st *stats, reproduce string) bool {
	t.Helper()
	o, err := e.Run(c)
	if err != nil {
		t.Errorf("%s: %v", c.Name, err)
		return true
	}
	problems, state, falseOK := e.Problems(c, o)
	reason, isKnown := known[c.Name]
	st.add(c.Name, o, state, len(problems), falseOK, falseOK && isKnown)
	if falseOK && !isKnown {
		problems = append(problems, "OK although a mutated reply was served")
	}
	if falseOK && isKnown {
		t.Logf("%s: known false OK (%s); served %v", c.Name, reason, o.Served)
	}
	if !falseOK && isKnown && len(problems) == 0 {
		t.Logf("%s: listed as a known failure but passes now (%s): remove it from testdata/known-failures.json", c.Name, state)
	}
	if len(problems) == 0 {
		return falseOK
	}
	script, _ := json.MarshalIndent(c, "", "  ")
	t.Errorf("%s (%s): %s\nmutations: %s\nserved: %v\nstdout: %s\nstderr: %s\nreproduce: %s\ncase: %s",
		c.Name, c.Binary, strings.Join(problems, "; "), c.Note, o.Served, o.Stdout, o.Stderr, reproduce, script)
	if os.Getenv(saveEnv) == "1" {
		p := filepath.Join("testdata", "cases", c.Name+".json")
		if err := os.WriteFile(p, append(script, '\n'), 0o644); err == nil {
			t.Logf("saved %s", p)
		}
	}
	return true
}

// runAll runs cases with a few at a time.
func runAll(t *testing.T, e Env, cases []Case, known map[string]string, reproduce string) *stats {
	st := &stats{}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			check(t, e, c, known, st, reproduce)
		}()
	}
	wg.Wait()
	return st
}

// TestBaselines holds the oracle to account: against the unmutated worlds
// every check must say OK, or "never OK after a mutation" proves nothing.
func TestBaselines(t *testing.T) {
	e := setup(t)
	seen := map[string]bool{}
	for _, b := range Binaries {
		for v := range 4 {
			c := Baseline(b, v)
			if seen[c.Name] {
				continue
			}
			seen[c.Name] = true
			o, err := e.Run(c)
			if err != nil {
				t.Fatal(err)
			}
			problems, state, _ := e.Problems(c, o)
			if len(problems) > 0 || state != "OK" || o.Mutated {
				t.Errorf("%s: %s, state %s; served %v\n%s%s", c.Name, strings.Join(problems, "; "), state, o.Served, o.Stdout, o.Stderr)
			}
		}
	}
}

// TestHostile runs the seeded, generated cases.
func TestHostile(t *testing.T) {
	e := setup(t)
	n := 150
	if v := os.Getenv(casesEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", casesEnv, v)
		}
	}
	seed := uint64(1)
	switch v := os.Getenv(seedEnv); v {
	case "":
	case "random":
		seed = uint64(time.Now().UnixNano())
	default:
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("%s=%q: want a number or \"random\"", seedEnv, v)
		}
	}
	cases := make([]Case, n)
	for i := range cases {
		cases[i] = Generate(seed, i)
	}
	if v := os.Getenv(onlyEnv); v != "" {
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 {
			t.Fatalf("%s=%q: want a case number", onlyEnv, v)
		}
		c := Generate(seed, i)
		o, err := e.Run(c)
		if err != nil {
			t.Fatal(err)
		}
		problems, state, falseOK := e.Problems(c, o)
		t.Logf("%s: %s; state %s, false OK %v, %v, %.1f MiB; served %v\nmutations: %s\n%s%s",
			c.Name, strings.Join(problems, "; "), state, falseOK, o.Elapsed, float64(o.MaxRSS)/(1<<20), o.Served, c.Note, o.Stdout, o.Stderr)
		return
	}
	start := time.Now()
	st := runAll(t, e, cases, knownFailures(t), fmt.Sprintf("%s=%d %s=%d go test -run TestHostile ./checks/internal/hostile", seedEnv, seed, casesEnv, n))
	took := time.Since(start)
	t.Logf("seed %d: %v; wall time %v", seed, st, took.Round(time.Second))
	if t.Failed() {
		t.Logf("reproduce: %s=%d %s=%d go test -run TestHostile ./checks/internal/hostile", seedEnv, seed, casesEnv, n)
	}
	if p := os.Getenv(reportEnv); p != "" {
		writeReport(t, p, seed, n, took, st)
	}
}

func writeReport(t *testing.T, path string, seed uint64, n int, took time.Duration, st *stats) {
	var b strings.Builder
	fmt.Fprintf(&b, "| figure | value |\n|---|---:|\n")
	fmt.Fprintf(&b, "| cases (seed %d, 4 binaries, plaintext and TLS) | %d |\n", seed, n)
	fmt.Fprintf(&b, "| cases that served a mutated reply | %d |\n", st.mutated)
	fmt.Fprintf(&b, "| wall time (%d at once) | %.1f s |\n", parallel, took.Seconds())
	fmt.Fprintf(&b, "| peak RSS of any run | %.1f MiB |\n", float64(st.maxRSS)/(1<<20))
	fmt.Fprintf(&b, "| longest run (deadline %v) | %d ms |\n", deadline, st.worst.Milliseconds())
	fmt.Fprintf(&b, "| worst overrun past the deadline | %d ms |\n", max(0, (st.worst-deadline).Milliseconds()))
	fmt.Fprintf(&b, "| false OKs (of which listed as known: judgements still to make fail-closed) | %d (%d) |\n", st.falseOK, st.known)
	fmt.Fprintf(&b, "| runs breaking time, contract, stderr or memory | %d |\n", st.problemRuns)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Error(err)
	}
}

// TestRegressions replays every case kept in testdata/cases.
func TestRegressions(t *testing.T) {
	e := setup(t)
	files, err := filepath.Glob(filepath.Join("testdata", "cases", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no regression cases in testdata/cases")
	}
	var cases []Case
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c Case
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if c.Name != strings.TrimSuffix(filepath.Base(f), ".json") {
			t.Fatalf("%s: name %q does not match the file", f, c.Name)
		}
		cases = append(cases, c)
	}
	st := runAll(t, e, cases, knownFailures(t), "go test -run TestRegressions ./checks/internal/hostile")
	t.Logf("%v", st)
}

// TestHugeLength is the reply that used to kill the checks: go-redis
// allocated the announced length before reading it. Each binary must now
// refuse it, say what it saw, and stay small and on time: UNKNOWN, or
// CRITICAL where what came before already proves exposure.
func TestHugeLength(t *testing.T) {
	e := setup(t)
	for _, n := range []string{"500000000000", "100000000"} {
		huge := Action{Send: "*2\r\n$4\r\nbind\r\n$" + n + "\r\n", Mutated: true}
		for _, c := range []struct {
			base Case
			keys []string // replies replaced by the huge one
			seen string   // what the output must quote
		}{
			{Baseline("redis-bind-check", 0), []string{"CONFIG GET BIND"}, n},
			{Baseline("redis-bind-check", 0), []string{"INFO SERVER"}, n},
			{Baseline("redis-auth-check", 0), []string{"DBSIZE", "INFO"}, n},
			{Baseline("redis-auth-check", 1), []string{"ACL LIST"}, n},
			{Baseline("redis-tls-check", 0), []string{"CONFIG GET PORT"}, n},
			// The exposure check reads one capped line; it judges a port
			// that answers PING with something not Redis WARNING.
			{Baseline("redis-exposure-check", 0), []string{"PING"}, `open-not-redis: answered PING with "*2"`},
		} {
			cs := c.base
			cs.Name += "-huge-" + n
			cs.Script = cloneScript(cs.Script)
			m := cs.Script.Anon
			if cs.WithPassword {
				m = cs.Script.Authed
			}
			if c.base.Binary == "redis-auth-check" && !cs.WithPassword {
				// A server without a password: PING answers, DBSIZE is huge.
				m["PING"] = ok("+PONG\r\n")
			}
			for _, k := range c.keys {
				m[k] = huge
			}
			o, err := e.Run(cs)
			if err != nil {
				t.Fatal(err)
			}
			problems, state, _ := e.Problems(cs, o)
			want := state == "UNKNOWN" || state == "CRITICAL" || state == "WARNING" && cs.Binary == "redis-exposure-check"
			if len(problems) > 0 || !want || !strings.Contains(o.Stdout, c.seen) || !o.Mutated {
				t.Errorf("%s: %s; state %s, want UNKNOWN or CRITICAL, quoting %s; served %v\n%s", cs.Name,
					strings.Join(problems, "; "), state, c.seen, o.Served, o.Stdout)
				continue
			}
			first, _, _ := strings.Cut(o.Stdout, "\n")
			t.Logf("%s: %v, %.1f MiB: %.200s", cs.Name, o.Elapsed.Round(time.Millisecond), float64(o.MaxRSS)/(1<<20), first)
		}
	}
}

// TestAtTheCaps sends replies just inside the guard's caps, which the
// client then holds in memory: the check must still stay under MaxRSS and
// on time. It is what backs the caps' claim to bound memory.
func TestAtTheCaps(t *testing.T) {
	e := setup(t)
	// ACL LIST of 1,000 well-formed users of ~4 KiB each: ~3.9 MiB, inside
	// the 6 MiB a connection may carry and the auth check's 4 MiB.
	var acl strings.Builder
	fmt.Fprintf(&acl, "*%d\r\n", 1000)
	for i := range 1000 {
		u := fmt.Sprintf("user u%04d on #%s ~k%04d:%s -@all +get", i, strings.Repeat("ab", 32), i, strings.Repeat("x", 3950))
		acl.WriteString(bulk(u))
	}
	// Two arrays of 16,000 empty arrays: 32,002 values, inside the 32,768
	// a connection may announce.
	var values strings.Builder
	values.WriteString("*2\r\n")
	for range 2 {
		values.WriteString("*16000\r\n" + strings.Repeat("*0\r\n", 16000))
	}
	// A bind value of 1 MiB minus a little: 100,000 addresses to judge.
	bindValue := strings.Repeat("127.0.0.1 ", (1<<20-64)/10)
	for _, c := range []struct {
		base Case
		key  string
		send string
	}{
		{Baseline("redis-auth-check", 1), "ACL LIST", acl.String()},
		{Baseline("redis-bind-check", 0), "INFO SERVER", values.String()},
		{Baseline("redis-bind-check", 0), "CONFIG GET BIND", bulks("bind", bindValue)},
		{Baseline("redis-tls-check", 0), "INFO REPLICATION", values.String()},
	} {
		cs := c.base
		cs.Name += "-caps-" + strings.ReplaceAll(strings.ToLower(c.key), " ", "-")
		cs.Script = cloneScript(cs.Script)
		m := cs.Script.Anon
		if cs.WithPassword {
			m = cs.Script.Authed
		}
		m[c.key] = Action{Send: c.send, Mutated: true}
		o, err := e.Run(cs)
		if err != nil {
			t.Fatal(err)
		}
		problems, state, _ := e.Problems(cs, o)
		if len(problems) > 0 {
			t.Errorf("%s: %s; state %s\n%.500s", cs.Name, strings.Join(problems, "; "), state, o.Stdout)
			continue
		}
		first, _, _ := strings.Cut(o.Stdout, "\n")
		t.Logf("%s: %v, %.1f MiB: %.160s", cs.Name, o.Elapsed.Round(time.Millisecond), float64(o.MaxRSS)/(1<<20), first)
	}
}
