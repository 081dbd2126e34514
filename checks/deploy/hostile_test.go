package deploy

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSentinel answers as a Sentinel whose SENTINEL REPLICAS lists
// whatever the test says: a hostile or confused server. It reads RESP
// arrays and answers by the command's first words.
type fakeSentinel struct {
	ln       net.Listener
	replicas []HostPort
	conns    atomic.Int32
}

func newFake(t *testing.T, addr string, replicas []HostPort) *fakeSentinel {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("skipped: cannot listen on %s: %v", addr, err)
	}
	f := &fakeSentinel{ln: ln, replicas: replicas}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.conns.Add(1)
			go f.serve(c)
		}
	}()
	return f
}

func (f *fakeSentinel) port() int { return f.ln.Addr().(*net.TCPAddr).Port }

func (f *fakeSentinel) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		args, err := readCommand(r)
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.Join(args, " "))
		var out string
		switch {
		case strings.HasPrefix(cmd, "INFO"):
			out = bulk("# Server\r\nredis_version:7.0.15\r\nredis_mode:sentinel\r\n")
		case cmd == "SENTINEL MASTERS":
			out = "*1\r\n" + entry("name", "m", "ip", "127.0.0.1", "port", "1", "flags", "master")
		case strings.HasPrefix(cmd, "SENTINEL REPLICAS"):
			out = fmt.Sprintf("*%d\r\n", len(f.replicas))
			for _, hp := range f.replicas {
				out += entry("name", hp.String(), "ip", hp.Host, "port", strconv.Itoa(hp.Port), "flags", "slave")
			}
		case strings.HasPrefix(cmd, "SENTINEL SENTINELS"):
			out = "*0\r\n"
		default:
			out = "-ERR unknown command\r\n"
		}
		if _, err := c.Write([]byte(out)); err != nil {
			return
		}
	}
}

func bulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

func entry(kv ...string) string {
	s := "*" + strconv.Itoa(len(kv)) + "\r\n"
	for _, x := range kv {
		s += bulk(x)
	}
	return s
}

func readCommand(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "*")))
	if err != nil || n < 1 || n > 64 {
		return nil, fmt.Errorf("bad command header %q", line)
	}
	args := make([]string, n)
	for i := range args {
		if _, err := r.ReadString('\n'); err != nil { // $len
			return nil, err
		}
		a, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		args[i] = strings.TrimRight(a, "\r\n")
	}
	return args, nil
}

// TestHostileAnnouncements: what a server announces is followed only inside
// the scope and up to the node cap; a list over the parser's cap fails the
// read of that node, never the check.
func TestHostileAnnouncements(t *testing.T) {
	outside := newFake(t, "127.0.0.2:0", nil)
	var many []HostPort
	for i := 0; i < 40; i++ {
		many = append(many, HostPort{"127.0.0.1", 1 + i}) // nothing listens: refused fast
	}
	seed := newFake(t, "127.0.0.1:0", append([]HostPort{
		{"127.0.0.2", outside.port()}, // outside the scope below
		{"redis.example", 6379},       // a host name
		{"", 6379},                    // no address
	}, many...))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d := Discover(ctx, Config{Seeds: []HostPort{{"127.0.0.1", seed.port()}},
		Scope: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, MaxNodes: 10, NodeTimeout: time.Second})
	if len(d.Nodes) != 10 {
		t.Errorf("%d nodes, want the cap of 10", len(d.Nodes))
	}
	if outside.conns.Load() != 0 {
		t.Error("the out-of-scope address was connected to")
	}
	reasons := map[string]int{}
	for _, r := range d.Rejected {
		reasons[r.Reason]++
	}
	if reasons["outside --discover-scope"] != 1 || reasons["announced as a host name; the scope is by address"] != 1 ||
		reasons["announced no address"] != 1 || reasons["over the node limit of 10"] == 0 {
		t.Errorf("rejected: %v", reasons)
	}
	if len(d.Problems) != 1 || !strings.Contains(d.Problems[0], "more than 10 nodes") {
		t.Errorf("problems: %v", d.Problems)
	}

	// Over the parser's cap: the seed is not read, and says why.
	var huge []HostPort
	for i := 0; i <= MaxListed; i++ {
		huge = append(huge, HostPort{"127.0.0.1", 1})
	}
	big := newFake(t, "127.0.0.1:0", huge)
	d = Discover(ctx, Config{Seeds: []HostPort{{"127.0.0.1", big.port()}},
		Scope: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, NodeTimeout: 2 * time.Second})
	if len(d.Nodes) != 1 || d.Nodes[0].Read || !strings.Contains(d.Nodes[0].ReadErr, "more than") {
		t.Errorf("huge list: %+v", d.Nodes)
	}
}
