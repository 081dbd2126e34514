// Package system is the machine the firewall check reads: commands run,
// kernel and configuration files read, privileges checked. The check and
// the frontend explainers share it; tests substitute a System that enters a
// network namespace.
package system

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// System runs the firewall tools and reads kernel files. The host
// implementation is Host; tests substitute one that enters a network
// namespace. Its methods may be called from several goroutines at once
// (the check reads independent sources concurrently).
type System interface {
	// Run runs a command and returns its standard output.
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
	// ReadFile reads a file such as /proc/net/ip_tables_names.
	ReadFile(ctx context.Context, path string) ([]byte, error)
	// Privileged returns nil when the tools can read the ruleset, or an
	// error wrapping ErrPrivilege that says what to grant.
	Privileged() error
}

// ErrPrivilege means the ruleset cannot be read with the privileges the
// check has.
var ErrPrivilege = errors.New("insufficient privilege to read the firewall")

// ToolError is a command that ran and failed.
type ToolError struct {
	Tool   string
	Err    error
	Stderr string
}

func (e *ToolError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if msg == "" {
		return fmt.Sprintf("%s: %v", e.Tool, e.Err)
	}
	return fmt.Sprintf("%s: %v: %s", e.Tool, e.Err, msg)
}

func (e *ToolError) Unwrap() error { return e.Err }

// DirReader is implemented by a System that can list a directory (such
// as firewalld's zone files). Host does; a System without it cannot be
// read for files it would have to list.
type DirReader interface {
	ReadDir(ctx context.Context, path string) ([]string, error)
}

// Host is the local machine.
type Host struct{}

// ReadDir lists the names in a directory.
func (Host) ReadDir(_ context.Context, path string) ([]string, error) {
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names, nil
}

// MaxOutput caps what a tool may print before it is cut off; the parsers
// have the same limit.
const MaxOutput = 64 << 20

func (Host) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, lookPath(name), args...)
	var out, errb bytes.Buffer
	cmd.Stdout = &limitedBuffer{b: &out, left: MaxOutput + 1}
	cmd.Stderr = &limitedBuffer{b: &errb, left: 64 << 10}
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	if err := cmd.Run(); err != nil {
		return nil, &ToolError{Tool: name, Err: err, Stderr: errb.String()}
	}
	return out.Bytes(), nil
}

func (Host) ReadFile(_ context.Context, path string) ([]byte, error) { return os.ReadFile(path) }

// capNetAdmin is CAP_NET_ADMIN's bit in /proc/self/status CapEff.
const capNetAdmin = 12

func (Host) Privileged() error {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return fmt.Errorf("%w: cannot read /proc/self/status: %v", ErrPrivilege, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		v, ok := strings.CutPrefix(line, "CapEff:")
		if !ok {
			continue
		}
		caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			break
		}
		if caps&(1<<capNetAdmin) != 0 {
			return nil
		}
		return fmt.Errorf("%w: %s", ErrPrivilege, privilegeAdvice())
	}
	return fmt.Errorf("%w: no CapEff line in /proc/self/status", ErrPrivilege)
}

// limitedBuffer stops storing after left bytes but keeps the command
// running to completion; Run then reports the output as too large.
type limitedBuffer struct {
	b    *bytes.Buffer
	left int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) > l.left {
		p = p[:l.left]
	}
	l.left -= len(p)
	l.b.Write(p)
	return n, nil
}

// lookPath finds a tool in PATH or, since agents often run with a PATH
// lacking them, in the sbin directories.
func lookPath(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := dir + "/" + name
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return name
}
