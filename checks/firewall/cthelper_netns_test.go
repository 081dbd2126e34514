package firewall

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/netns"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// ctHelperIptables gives every connection to tcp/6379 the ftp helper in
// the raw table, then tries to let it in by that helper. "-m helper"
// reads the helper of the connection's master (the one whose expectation
// it fulfils), and a client's own connection has none: "--helper ftp"
// never matches and "! --helper ftp" always does, so 198.51.100.0/24 and
// 2001:db8:1::/48 are dropped and only the plain accepts let anyone in.
const ctHelperIptables = `
iptables-nft -t raw -A PREROUTING -p tcp --dport 6379 -j CT --helper ftp
ip6tables-nft -t raw -A PREROUTING -p tcp --dport 6379 -j CT --helper ftp
iptables-nft -P INPUT DROP
iptables-nft -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
iptables-nft -A INPUT -m helper --helper ftp -j ACCEPT
iptables-nft -A INPUT -s 198.51.100.0/24 -m helper ! --helper ftp -j DROP
iptables-nft -A INPUT -s 198.51.100.0/24 -p tcp --dport 6379 -j ACCEPT
iptables-nft -A INPUT -s 203.0.113.0/24 -p tcp --dport 6379 -j ACCEPT
ip6tables-nft -P INPUT DROP
ip6tables-nft -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ip6tables-nft -A INPUT -p ipv6-icmp -j ACCEPT
ip6tables-nft -A INPUT -m helper --helper ftp -j ACCEPT
ip6tables-nft -A INPUT -s 2001:db8:1::/48 -m helper ! --helper ftp -j DROP
ip6tables-nft -A INPUT -s 2001:db8:1::/48 -p tcp --dport 6379 -j ACCEPT
ip6tables-nft -A INPUT -s 2001:db8:ffff::/48 -p tcp --dport 6379 -j ACCEPT`

// ctHelperNft does the same with a ct helper object. "ct helper" reads
// the master's helper too, and nft ends the rule when it cannot load the
// key, so "ct helper != ..." does not match either: 198.51.100.0/24 and
// 2001:db8:1::/48 get in.
const ctHelperNft = `
table inet f {
	ct helper ftp-standard {
		type "ftp" protocol tcp
		l3proto inet
	}
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		tcp dport 6379 ct helper set "ftp-standard"
	}
	chain in {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
		ct helper "ftp" accept
		ip saddr 198.51.100.0/24 ct helper != "ftp" drop
		ip6 saddr 2001:db8:1::/48 ct helper != "ftp" drop
		ip saddr { 198.51.100.0/24, 203.0.113.0/24 } tcp dport 6379 accept
		ip6 saddr { 2001:db8:1::/48, 2001:db8:ffff::/48 } tcp dport 6379 accept
	}
}`

// TestNamespaceCtHelper checks the model of helper matches against the
// kernel, with the helper really given to the connections to Redis (the
// premise: the helper turns an FTP PORT command sent over such a
// connection into an expectation).
func TestNamespaceCtHelper(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "nft", "iptables-nft", "ip6tables-nft", "iptables-legacy", "ip6tables-legacy")
	requireFTPHelper(t)
	plainOnly := map[eval.Family]string{eval.IPv4: "203.0.113.0/24", eval.IPv6: "2001:db8:ffff::/48"}
	for _, c := range []realWorldCase{{
		name:     "ipt-nft",
		commands: ctHelperIptables,
		accepted: plainOnly,
	}, {
		name:     "ipt-legacy",
		commands: strings.ReplaceAll(ctHelperIptables, "tables-nft ", "tables-legacy "),
		accepted: plainOnly,
	}, {
		name:    "nft",
		ruleset: ctHelperNft,
		accepted: map[eval.Family]string{eval.IPv4: "198.51.100.0/24 203.0.113.0/24",
			eval.IPv6: "2001:db8:1::/48 2001:db8:ffff::/48"},
		reach: []string{"198.51.100.7", "2001:db8:1::5"},
	}} {
		c.exact = true
		c.reach = append(c.reach, "203.0.113.9", "2001:db8:ffff::9")
		c.premise = func(t *testing.T, top topology) {
			ftpExpectation(t, top, netip.MustParseAddr("203.0.113.9"), "PORT 203,0,113,9,39,16", 10000)
			ftpExpectation(t, top, netip.MustParseAddr("2001:db8:ffff::9"), "EPRT |2|2001:db8:ffff::9|10006|", 10006)
		}
		t.Run(c.name, func(t *testing.T) { checkRealWorld(t, c) })
	}
}

// requireFTPHelper skips the test when the kernel has no ftp conntrack
// helper to give.
func requireFTPHelper(t *testing.T) {
	t.Helper()
	ns := fmt.Sprintf("fwt-ftphelper-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader("table inet probe {\n\tct helper h {\n\t\ttype \"ftp\" protocol tcp\n\t}\n}\n")
	out, err := cmd.CombinedOutput()
	switch {
	case err != nil && strings.Contains(string(out), "No such file or directory"):
		testenv.Skip(t, "the kernel has no ftp conntrack helper (modprobe nf_conntrack_ftp): %s", out)
	case err != nil:
		t.Fatalf("nft -f: %v: %s", err, out)
	}
}

// ftpExpectation connects from src to the server's tcp/6379, sends a
// first line and then cmd (an FTP PORT or EPRT naming src and port), and
// requires the server's kernel to register the expectation the ftp
// helper makes of it: proof that the connection has the helper.
func ftpExpectation(t *testing.T, top topology, src netip.Addr, cmd string, port int) {
	t.Helper()
	server := &netns.Host{Name: "server", NS: top.server}
	client := &netns.Host{Name: "client", NS: top.client}
	var ln net.Listener
	if err := server.Do(func() (err error) {
		ln, err = net.Listen("tcp", ":6379")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				buf := make([]byte, 512)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var conn net.Conn
	dst := netip.AddrPortFrom(netip.MustParseAddr(serverAddr[eval.FamilyOf(src)]), 6379)
	if err := client.Do(func() (err error) {
		d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, 0))}
		conn, err = d.DialContext(ctx, "tcp", dst.String())
		return err
	}); err != nil {
		t.Fatalf("%v: %v", src, err)
	}
	defer conn.Close()
	// The helper reads a command only in a segment that follows a line
	// it has seen end: the first line is not parsed.
	for _, line := range []string{"NOOP\r\n", cmd + "\r\n"} {
		if _, err := conn.Write([]byte(line)); err != nil {
			t.Fatalf("%v: %v", src, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	want := fmt.Sprintf("dport=%d ftp", port)
	var table []byte
	for i := 0; i < 30; i++ {
		out, err := exec.Command("ip", "netns", "exec", top.server, "cat", "/proc/net/nf_conntrack_expect").CombinedOutput()
		if err != nil {
			t.Fatalf("nf_conntrack_expect: %v: %s", err, out)
		}
		if table = out; strings.Contains(string(out), want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%v: no ftp expectation for port %d: the connection has no helper; expectations:\n%s", src, port, table)
}
