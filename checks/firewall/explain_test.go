package firewall

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
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
	want := map[string]result.State{
		"tcp/6379 IPv4: accepted from 203.0.113.0/24; " +
			"203.0.113.0/25 accepted by " + v4 + " line 9: -t filter -A REDIS -s 203.0.113.0/25 -j ACCEPT; " +
			"203.0.113.128/25 accepted by " + v4 + " line 10: -t filter -A REDIS -s 203.0.113.128/25 -j ACCEPT": result.Critical,
		"tcp/6379 IPv4: trusted 192.0.2.0/24 not accepted; dropped by " + v4 + " line 8: -t filter -A REDIS -s 192.0.2.0/24 -j DROP": result.Warning,
	}
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
