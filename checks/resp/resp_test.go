package resp

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	cases := map[string]Class{
		"+PONG":                            Pong,
		"-NOAUTH Authentication required.": NoAuth,
		"-WRONGPASS invalid username-password pair or user is disabled.":            NoAuth,
		"-DENIED Redis is running in protected mode because protected mode is enab": Denied,
		"-DENIED Running in protected mode because protected mode is enabled":       Denied,
		"-NOPERM User x has no permissions to run the 'ping' command":               NoPerm,
		"-ERR max number of clients reached":                                        OtherError,
		"-LOADING Redis is loading the dataset in memory":                           OtherError,
		"HTTP/1.1 400 Bad Request":                                                  NotRedis,
		"SSH-2.0-OpenSSH_9.2":                                                       NotRedis,
		"+OK":                                                                       NotRedis,
		"-":                                                                         NotRedis,
		"-<html>":                                                                   NotRedis,
		"":                                                                          NotRedis,
	}
	for line, want := range cases {
		if got := Classify(line); got != want {
			t.Errorf("Classify(%q) = %v, want %v", line, got, want)
		}
	}
}

// serve answers one connection with reply (or nothing, or holds it open).
func serve(t *testing.T, reply string, hold bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, len(PingCommand))
		c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Read(buf); err != nil || string(buf) != PingCommand {
			return
		}
		c.Write([]byte(reply))
		if hold {
			time.Sleep(2 * time.Second)
		}
	}()
	return ln.Addr().String()
}

func TestPingOverRealSockets(t *testing.T) {
	for _, tc := range []struct {
		reply string
		want  Class
		err   bool
	}{
		{"+PONG\r\n", Pong, false},
		{"-NOAUTH Authentication required.\r\n", NoAuth, false},
		{"", 0, true},
		{"-NOAUTH Authentication requi", NotRedis, false}, // closed mid-line
		{"+PONG", NotRedis, false},
		{"+PONG\r\n+PONG\r\n", NotRedis, false}, // two replies to one PING
		{"-DENIED " + strings.Repeat("x", 900) + "\r\n", Denied, false},
		{"-DENIED " + strings.Repeat("x", 900), NotRedis, false},
		{"SSH-2.0-" + strings.Repeat("x", 900), NotRedis, false},
	} {
		addr := serve(t, tc.reply, false)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Ping(c, time.Now().Add(time.Second))
		c.Close()
		if tc.err {
			if err != ErrNoReply {
				t.Fatalf("reply %q: err = %v, want ErrNoReply", tc.reply, err)
			}
			continue
		}
		if err != nil || r.Class != tc.want {
			t.Fatalf("reply %q: got %v, %v", tc.reply, r, err)
		}
	}
}

func TestPingSilentPeerTimesOut(t *testing.T) {
	addr := serve(t, "", true)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_, err = Ping(c, time.Now().Add(200*time.Millisecond))
	var ne net.Error
	if err == nil || !asNetErr(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("took %v, want about 200ms", el)
	}
}

func asNetErr(err error, ne *net.Error) bool {
	e, ok := err.(net.Error)
	if ok {
		*ne = e
	}
	return ok
}
