package netns

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// pair is a server and two clients on one segment, with a listener on
// port 7000 of the server's IPv4 address that accepts and closes.
func pair(t *testing.T) (srv, allowed, other *Host) {
	tp := New(t, Spec{Hosts: []HostSpec{{Name: "srv"}, {Name: "allowed"}, {Name: "other"}}})
	srv, allowed, other = tp.Host("srv"), tp.Host("allowed"), tp.Host("other")
	ln := srv.Listen(t, "tcp", net.JoinHostPort(srv.Addr4().String(), "7000"))
	go func() {
		for i := 0; i < 16; i++ { // bounded: each test makes a handful of connections
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return srv, allowed, other
}

// dial reports how a connection from h to srv:7000 ended: nil, a refusal
// or a timeout.
func dial(h, srv *Host) error {
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	c, err := h.DialContext(ctx, "tcp", net.JoinHostPort(srv.Addr4().String(), "7000"))
	if err == nil {
		c.Close()
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

func TestUFWPrivateConfig(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ufw")
	hostConf, err := os.ReadFile("/etc/ufw/user.rules")
	if err != nil {
		t.Fatal(err)
	}
	var etc string
	t.Run("rules", func(t *testing.T) {
		srv, allowed, other := pair(t)
		etc = "/etc/netns/" + srv.NS
		srv.UFW(t, "default", "allow", "incoming")
		srv.UFW(t, "--force", "enable")
		srv.UFW(t, "allow", "from", allowed.Addr4().String(), "to", "any", "port", "7000", "proto", "tcp")
		srv.UFW(t, "deny", "7000/tcp")
		if err := dial(allowed, srv); err != nil {
			t.Errorf("allowed host: %v", err)
		}
		if err := dial(other, srv); !isTimeout(err) {
			t.Errorf("other host: %v, want a timeout (ufw deny drops)", err)
		}
		// ufw wrote the namespace's copy, not the host's file.
		b, err := os.ReadFile(etc + "/ufw/user.rules")
		if err != nil || !strings.Contains(string(b), "7000") {
			t.Errorf("private user.rules: %v\n%s", err, b)
		}
		if now, _ := os.ReadFile("/etc/ufw/user.rules"); !bytes.Equal(now, hostConf) {
			t.Error("the host's /etc/ufw/user.rules changed")
		}
	})
	if etc == "" {
		return // skipped
	}
	if _, err := os.Stat(etc); !os.IsNotExist(err) {
		t.Errorf("%s left behind (%v)", etc, err)
	}
}

func TestFirewalldPrivateBus(t *testing.T) {
	srv, allowed, other := pair(t)
	fw := srv.StartFirewalld(t)
	// The default zone (public) rejects 7000; a zone bound to the allowed
	// host's address opens it for that host alone.
	fw.Cmd(t, "--permanent", "--new-zone=t7000")
	fw.Cmd(t, "--permanent", "--zone=t7000", "--add-port=7000/tcp")
	fw.Cmd(t, "--permanent", "--zone=t7000", "--add-source="+netip.PrefixFrom(allowed.Addr4(), 32).String())
	fw.Cmd(t, "--reload")
	if out := fw.Cmd(t, "--get-active-zones"); !strings.Contains(out, "t7000") {
		t.Fatalf("active zones:\n%s", out)
	}
	if err := dial(allowed, srv); err != nil {
		t.Errorf("allowed host: %v", err)
	}
	// firewalld rejects with icmp-admin-prohibited, which arrives as
	// EHOSTUNREACH.
	if err := dial(other, srv); !errors.Is(err, syscall.EHOSTUNREACH) {
		t.Errorf("other host: %v, want EHOSTUNREACH (firewalld's reject)", err)
	}
	if _, err := os.Stat("/etc/firewalld/zones/t7000.xml"); err == nil {
		t.Error("the zone was written to the host's /etc/firewalld")
	}
}
