package exposure

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
)

// dialErr wraps an errno the way net.Dialer does.
func dialErr(e error) error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", e)}
}

func TestClassifyDial(t *testing.T) {
	for _, tc := range []struct {
		err        error
		parentDone bool
		want       Class
	}{
		{dialErr(syscall.ECONNREFUSED), false, Refused},
		{dialErr(syscall.EHOSTUNREACH), false, Unreachable},
		{dialErr(syscall.ENETUNREACH), false, Unreachable},
		{dialErr(syscall.EACCES), false, Prohibited},
		{dialErr(syscall.EMFILE), false, LocalError},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("socket", syscall.ENFILE)}, false, LocalError},
		{dialErr(syscall.EADDRNOTAVAIL), false, LocalError},
		{dialErr(syscall.EPERM), false, LocalError},
		{fmt.Errorf("dial: %w", context.DeadlineExceeded), false, Filtered},
		{fmt.Errorf("dial: %w", context.DeadlineExceeded), true, NotFinished},
		{dialErr(syscall.ECONNREFUSED), true, Refused}, // evidence is evidence
		{errors.New("something new"), false, LocalError},
	} {
		if got, _ := classifyDial(tc.err, tc.parentDone); got != tc.want {
			t.Errorf("%v (parent done %v): %v, want %v", tc.err, tc.parentDone, got, tc.want)
		}
	}
}

// A real connect timeout from the standard library is recognised.
func TestClassifyRealTimeout(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := (&net.Dialer{}).DialContext(ctx, "tcp", "127.0.0.1:1")
	// A cancelled parent is NotFinished, whatever the error says.
	if got, _ := classifyDial(err, true); got != NotFinished {
		t.Fatalf("cancelled dial: %v (%v)", got, err)
	}
}

func TestClassifyReplyAndTLS(t *testing.T) {
	for c, want := range map[resp.Class]Class{
		resp.Pong: OpenUnauthenticated, resp.NoPerm: OpenUnauthenticated, resp.NoAuth: OpenAuthRequired,
		resp.Denied: OpenProtectedMode, resp.OtherError: OpenErrorReply, resp.NotRedis: OpenNotRedis,
	} {
		if got := classifyReply(c); got != want {
			t.Errorf("%v: %v, want %v", c, got, want)
		}
	}
	if !looksLikeTLS("\x15\x03\x03\x00\x02\x02\x46") || looksLikeTLS("-ERR x") || looksLikeTLS("\x15\x09") {
		t.Fatal("looksLikeTLS")
	}
}

func TestClassNames(t *testing.T) {
	seen := map[string]bool{}
	for c := Class(0); c < numClasses; c++ {
		n := c.String()
		if n == "" || n == "invalid" || seen[n] {
			t.Fatalf("class %d: name %q", c, n)
		}
		seen[n] = true
		if c.Open() && c.Closed() || c.Known() != (c.Open() || c.Closed()) {
			t.Fatalf("class %v: inconsistent predicates", c)
		}
	}
	if LocalError.Known() || NotFinished.Known() || !Filtered.Closed() || !OpenSilent.Open() {
		t.Fatal("predicates")
	}
}
