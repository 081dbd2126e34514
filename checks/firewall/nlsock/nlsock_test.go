package nlsock

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// getLinks is an RTM_GETLINK dump request: every network namespace has
// at least lo, so the kernel always answers it.
func getLinks(seq uint32) []byte {
	req := make([]byte, 16+16)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], unix.RTM_GETLINK)
	binary.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	binary.NativeEndian.PutUint32(req[8:], seq)
	return req
}

// A socket the kernel says nothing on is given up at the context's
// deadline, not later.
func TestRecvHonoursTheDeadline(t *testing.T) {
	c, err := Open(unix.NETLINK_ROUTE, DefaultBuffer)
	if err != nil {
		t.Skipf("no rtnetlink socket here: %v", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Recv(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Recv on a silent socket: %v, want the deadline", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Recv returned %v after its 300 ms deadline", d)
	}
	// A context cancelled without a deadline is noticed within a poll
	// slice.
	ctx2, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel2)
	start = time.Now()
	if _, err := c.Recv(ctx2); !errors.Is(err, context.Canceled) {
		t.Fatalf("Recv after cancel: %v", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond+2*pollSlice {
		t.Errorf("cancel noticed after %v", d)
	}
}

// The kernel's answer is read; a datagram another process sends to the
// socket is not taken for one.
func TestRecvTakesOnlyTheKernel(t *testing.T) {
	if unix.Geteuid() != 0 {
		t.Skip("sending between user netlink sockets needs root")
	}
	c, err := Open(unix.NETLINK_ROUTE, DefaultBuffer)
	if err != nil {
		t.Skipf("no rtnetlink socket here: %v", err)
	}
	defer c.Close()
	sa, err := unix.Getsockname(c.fd)
	if err != nil {
		t.Fatal(err)
	}
	port := sa.(*unix.SockaddrNetlink).Pid
	other, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(other)
	if err := unix.Bind(other, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		t.Fatal(err)
	}
	forged := getLinks(7) // any well-formed message will do
	binary.NativeEndian.PutUint16(forged[4:], unix.NLMSG_DONE)
	if err := unix.Sendto(other, forged, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Pid: port}); err != nil {
		t.Fatalf("sending to the socket from another: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if b, err := c.Recv(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Recv took %d bytes from another socket (err %v)", len(b), err)
	}
	seq := c.NextSeq()
	if err := c.Send(getLinks(seq)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := c.Recv(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 16 || binary.NativeEndian.Uint32(b[8:]) != seq {
		t.Errorf("the kernel's answer: %d bytes, not the answer to request %d", len(b), seq)
	}
}

// A datagram larger than the buffer is an error naming both sizes, never
// a datagram cut short.
func TestRecvRefusesATruncatedDatagram(t *testing.T) {
	c, err := Open(unix.NETLINK_ROUTE, 32)
	if err != nil {
		t.Skipf("no rtnetlink socket here: %v", err)
	}
	defer c.Close()
	if err := c.Send(getLinks(c.NextSeq())); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = c.Recv(ctx)
	var big *TooLargeError
	if !errors.As(err, &big) || big.Buffer != 32 || big.Size <= 32 {
		t.Fatalf("Recv into 32 bytes: %v, want a TooLargeError", err)
	}
}
