package firewall

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Offline, a rule of an iptables-save dump is named by file and line and
// given as the iptables line to change; where rules decide different parts
// of a range, each is named with its part.
func TestFindingNamesIptablesSaveLine(t *testing.T) {
	dir := t.TempDir()
	v4 := filepath.Join(dir, "rules.v4")
	dump := `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:REDIS - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -p tcp -m tcp --dport 6379 -j REDIS
-A REDIS -s 192.0.2.0/24 -j DROP
-A REDIS -s 203.0.113.0/25 -j ACCEPT
-A REDIS -s 203.0.113.128/25 -j ACCEPT
COMMIT
`
	if err := os.WriteFile(v4, []byte(dump), 0o644); err != nil {
		t.Fatal(err)
	}
	o := Options{Ports: []uint16{6379}, IptablesSave: v4, Trusted: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}
	res := Judge(o, *Gather(context.Background(), o))
	reached := " (reached from " + v4 + " line 7: -t filter -A INPUT -p tcp -m tcp --dport 6379 -j REDIS)"
	want := map[string]result.State{
		"tcp/6379 IPv4: accepted from 203.0.113.0/24; " +
			"203.0.113.0/25 accepted by " + v4 + " line 9: -t filter -A REDIS -s 203.0.113.0/25 -j ACCEPT" + reached + "; " +
			"203.0.113.128/25 accepted by " + v4 + " line 10: -t filter -A REDIS -s 203.0.113.128/25 -j ACCEPT" + reached: result.Critical,
		"tcp/6379 IPv4: trusted 192.0.2.0/24 not accepted; dropped by " + v4 + " line 8: -t filter -A REDIS -s 192.0.2.0/24 -j DROP" + reached: result.Warning,
	}
	wantFindings(t, res, want)
}

func wantFindings(t *testing.T, res result.Result, want map[string]result.State) {
	t.Helper()
	for _, f := range res.Findings {
		if s, ok := want[f.Text]; ok && s == f.State {
			delete(want, f.Text)
		}
	}
	if len(want) > 0 {
		var got []string
		for _, f := range res.Findings {
			got = append(got, f.State.String()+": "+f.Text)
		}
		t.Errorf("missing %q in:\n%s", want, strings.Join(got, "\n"))
	}
}

// A rule in a user chain is named with the jumps and gotos that lead to
// it from the base chain, the first three of them; a rule reached by
// several paths is named with the path of its first range; the loopback
// WARNING names the rule that drops the host's own traffic.
func TestFindingNamesThePath(t *testing.T) {
	dir := t.TempDir()
	v4 := filepath.Join(dir, "rules.v4")
	dump := `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:A - [0:0]
:B - [0:0]
:C - [0:0]
:D - [0:0]
:LO - [0:0]
:SHARED - [0:0]
-A INPUT -i lo -j LO
-A INPUT -p tcp -m tcp --dport 6379 -j A
-A INPUT -s 198.51.100.0/25 -j SHARED
-A INPUT -s 198.51.100.128/25 -j SHARED
-A LO -s 127.0.0.0/8 -j DROP
-A A -s 203.0.113.0/24 -j B
-A B -g C
-A C -j D
-A D -s 203.0.113.0/24 -j ACCEPT
-A SHARED -p tcp -m tcp --dport 6379 -j ACCEPT
COMMIT
`
	if err := os.WriteFile(v4, []byte(dump), 0o644); err != nil {
		t.Fatal(err)
	}
	o := Options{Ports: []uint16{6379}, IptablesSave: v4, Trusted: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}
	res := Judge(o, *Gather(context.Background(), o))
	line := func(n int, rule string) string { return v4 + " line " + strconv.Itoa(n) + ": -t filter " + rule }
	wantFindings(t, res, map[string]result.State{
		"tcp/6379 IPv4: accepted from 198.51.100.0/24, 203.0.113.0/24; " +
			"198.51.100.0/24 accepted by " + line(20, "-A SHARED -p tcp -m tcp --dport 6379 -j ACCEPT") +
			" (reached from " + line(13, "-A INPUT -s 198.51.100.0/25 -j SHARED") + ", among other paths); " +
			"203.0.113.0/24 accepted by " + line(19, "-A D -s 203.0.113.0/24 -j ACCEPT") +
			" (reached from " + line(12, "-A INPUT -p tcp -m tcp --dport 6379 -j A") + " → " +
			line(16, "-A A -s 203.0.113.0/24 -j B") + " → " + line(17, "-A B -g C") + " → …)": result.Critical,
		"tcp/6379 IPv4: loopback (127.0.0.1) not accepted; dropped by " + line(15, "-A LO -s 127.0.0.0/8 -j DROP") +
			" (reached from " + line(11, "-A INPUT -i lo -j LO") + ")": result.Warning,
	})
}
