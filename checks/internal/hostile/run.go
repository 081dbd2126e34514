package hostile

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"time"
)

// Env is what a run needs besides the case: the built binaries and the
// certificate the TLS server presents.
type Env struct {
	Bin      map[string]string // binary name → path
	TLS      *tls.Config       // server side
	CAFile   string            // trusts TLS's certificate
	Deadline time.Duration     // given to the check (-t, --timeout)
	// ClosedPort refuses connections: redis-tls-check probes it as its
	// --plaintext-port, so its judgement of the live config is exercised.
	ClosedPort int
}

// Outcome is what one run produced and what the server sent.
type Outcome struct {
	Stdout, Stderr string
	Code           int
	Elapsed        time.Duration
	MaxRSS         int64 // bytes
	Mutated        bool  // a mutated reply reached the client
	Configured     bool  // a reply of a real configuration (Action.Config) did
	Served         []string
}

// Args is the command line a case runs with against port.
func (e Env) Args(c Case, port int) []string {
	d := e.Deadline.String()
	p := strconv.Itoa(port)
	switch c.Binary {
	case "redis-exposure-check":
		return []string{"--target", "127.0.0.1:" + p, "--expect", "reachable", "--timeout", d,
			"--attempt-timeout", (e.Deadline / 2).String(), "--concurrency", "4"}
	case "redis-tls-check":
		return []string{"-p", p, "-t", d, "--ca-cert", e.CAFile, "--server-name", "localhost",
			"--plaintext-port", strconv.Itoa(e.ClosedPort)}
	}
	args := []string{"-p", p, "-t", d}
	if c.TLS {
		args = append(args, "--tls", "--ca-cert", e.CAFile, "--server-name", "localhost")
	}
	return args
}

// Run serves the case's script and runs its binary against it. The process
// is killed at three times the deadline, which the caller reports as an
// overrun.
func (e Env) Run(c Case) (Outcome, error) {
	var cfg *tls.Config
	if c.TLS {
		cfg = e.TLS
	}
	srv, err := Start(c.Script, cfg)
	if err != nil {
		return Outcome{}, err
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*e.Deadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.Bin[c.Binary], e.Args(c, srv.Port())...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}
	if c.WithPassword {
		cmd.Env = append(cmd.Env, "REDIS_PASSWORD="+Password)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err = cmd.Run()
	o := Outcome{Stdout: out.String(), Stderr: errb.String(), Elapsed: time.Since(start)}
	o.Mutated, o.Configured, o.Served = srv.MutatedServed()
	if cmd.ProcessState != nil {
		o.Code = cmd.ProcessState.ExitCode()
		// Kilobytes on Linux. An upper bound: Go starts the child with
		// CLONE_VM, and the kernel carries the high-water mark of the
		// memory it shared at exec (this test process's) into the child's.
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			o.MaxRSS = ru.Maxrss * 1024
		}
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return o, err
	}
	return o, nil
}

var states = map[string]int{"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}

// MaxRSS is the memory every run must stay under.
const MaxRSS = 64 << 20

// Problems lists what an outcome breaks: the time limit (deadline plus
// 10%), the output contract, an empty stderr, the memory cap. falseOK is
// set when the state is OK although a mutated reply was served.
func (e Env) Problems(c Case, o Outcome) (problems []string, state string, falseOK bool) {
	if limit := e.Deadline + e.Deadline/10; o.Elapsed > limit {
		problems = append(problems, fmt.Sprintf("ran %v, over the deadline %v plus 10%%", o.Elapsed.Round(time.Millisecond), e.Deadline))
	}
	m := regexp.MustCompile(`^` + regexp.QuoteMeta(c.Binary) + ` (OK|WARNING|CRITICAL|UNKNOWN): \S`).FindStringSubmatch(o.Stdout)
	if m == nil {
		problems = append(problems, fmt.Sprintf("stdout breaks the output contract: %.200q", o.Stdout))
	} else {
		state = m[1]
		if states[state] != o.Code {
			problems = append(problems, fmt.Sprintf("state %s but exit code %d", state, o.Code))
		}
	}
	if o.Stderr != "" {
		problems = append(problems, fmt.Sprintf("stderr not empty: %.300q", o.Stderr))
	}
	if o.MaxRSS >= MaxRSS {
		problems = append(problems, fmt.Sprintf("peak RSS %d MiB", o.MaxRSS>>20))
	}
	return problems, state, state == "OK" && o.Mutated
}
