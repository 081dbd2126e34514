package firewall

import (
	"os/exec"
	"strings"
	"testing"
)

// A second veth pair, eth1, between the server and the client of a
// topology, so that a SYN can come in by one link and its answer leave
// by the other: the server holds 198.51.100.253/30 and 2001:db8:2::1/64
// on it, the client 198.51.100.254/30 and 2001:db8:2::2/64.
const (
	eth1Server4, eth1Client4 = "198.51.100.253", "198.51.100.254"
	eth1Server6, eth1Client6 = "2001:db8:2::1", "2001:db8:2::2"
	// eth1Table is the client's routing table that sends by eth1.
	eth1Table = "100"
)

// secondLink adds eth1. Reverse-path filtering is off in both namespaces,
// so only the rules under test look at the way back; neighbours on eth1
// are static, so a ruleset that drops neighbour discovery silences no
// reply; DAD is off before the link comes up, so it is usable at once.
func secondLink(t *testing.T, top topology) {
	t.Helper()
	s, c := []string{"-n", top.server}, []string{"-n", top.client}
	ipCmd(t, append(s, "link", "add", "eth1", "type", "veth", "peer", "name", "eth1", "netns", top.client)...)
	ipCmd(t, append(s, "addr", "add", eth1Server4+"/30", "dev", "eth1")...)
	ipCmd(t, append(c, "addr", "add", eth1Client4+"/30", "dev", "eth1")...)
	ipCmd(t, append(s, "addr", "add", eth1Server6+"/64", "dev", "eth1", "nodad")...)
	ipCmd(t, append(c, "addr", "add", eth1Client6+"/64", "dev", "eth1", "nodad")...)
	for _, args := range [][]string{s, c} {
		ipCmd(t, "netns", "exec", args[1], "sysctl", "-q", "-w", "net.ipv6.conf.eth1.accept_dad=0")
		ipCmd(t, append(args, "link", "set", "eth1", "up")...)
		for _, key := range []string{"all", "default", "eth0", "eth1"} {
			ipCmd(t, "netns", "exec", args[1], "sysctl", "-q", "-w", "net.ipv4.conf."+key+".rp_filter=0")
		}
	}
	sm, cm := linkMAC(t, top.server, "eth1"), linkMAC(t, top.client, "eth1")
	for _, a := range []string{eth1Client4, eth1Client6} {
		ipCmd(t, append(s, "neigh", "replace", a, "lladdr", cm, "dev", "eth1", "nud", "permanent")...)
	}
	for _, a := range []string{eth1Server4, eth1Server6} {
		ipCmd(t, append(c, "neigh", "replace", a, "lladdr", sm, "dev", "eth1", "nud", "permanent")...)
	}
}

// linkMAC is the hardware address of a namespace's interface.
func linkMAC(t *testing.T, ns, dev string) string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns, "cat", "/sys/class/net/"+dev+"/address").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// answerByEth1 routes the server's packets to the prefixes out of eth1,
// through the client's address there.
func answerByEth1(t *testing.T, top topology, prefixes ...string) {
	t.Helper()
	for _, p := range prefixes {
		gw, fam := eth1Client4, "-4"
		if strings.Contains(p, ":") {
			gw, fam = eth1Client6, "-6"
		}
		ipCmd(t, "-n", top.server, fam, "route", "replace", p, "via", gw, "dev", "eth1")
	}
}

// sendByEth1 makes the client send from the sources by eth1 (policy
// routing: a rule per source to a table whose default leaves by eth1),
// while everything else keeps the main table's way out by eth0.
func sendByEth1(t *testing.T, top topology, srcs ...string) {
	t.Helper()
	c := []string{"-n", top.client}
	ipCmd(t, append(c, "-4", "route", "add", "default", "via", eth1Server4, "dev", "eth1", "table", eth1Table)...)
	ipCmd(t, append(c, "-6", "route", "add", "default", "via", eth1Server6, "dev", "eth1", "table", eth1Table)...)
	for _, s := range srcs {
		fam := "-4"
		if strings.Contains(s, ":") {
			fam = "-6"
		}
		ipCmd(t, append(c, fam, "rule", "add", "from", s, "table", eth1Table)...)
	}
}
