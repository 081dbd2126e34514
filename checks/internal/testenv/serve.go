package testenv

import (
	"net"
	"testing"
)

// Serve runs fn on each connection a loopback TCP listener accepts, each in
// its own goroutine, until the test ends; it returns the listener's
// address. Tests use it for peers that misbehave in a chosen way (reset,
// close, stay silent).
func Serve(t testing.TB, fn func(net.Conn)) *net.TCPAddr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go fn(c)
		}
	}()
	return ln.Addr().(*net.TCPAddr)
}
