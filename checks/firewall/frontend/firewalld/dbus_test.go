package firewalld

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// TestFirewalldBusBlackHole: a bus that accepts and never answers costs
// no more than the D-Bus limit or the check's deadline, whichever is
// first.
func TestFirewalldBusBlackHole(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "bus")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = readDBus(ctx, "unix:path="+sock)
	if took := time.Since(start); err == nil || took > 2*time.Second {
		t.Fatalf("took %v, err %v", took, err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want the deadline named", err)
	}
	// Nothing listening: an immediate error.
	if _, err := readDBus(context.Background(), "unix:path="+sock+"-absent"); err == nil {
		t.Error("no error without a bus")
	}
}
