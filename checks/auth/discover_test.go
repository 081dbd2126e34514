package auth

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/deploy"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

func TestJudgeSentinelAuthPass(t *testing.T) {
	view := func(flags []string, last string) deploy.SentinelEntry {
		return deploy.SentinelEntry{Name: "m", IP: "192.0.2.10", Port: 6379, Flags: flags,
			Fields: map[string]string{"last-ok-ping-reply": last, "down-after-milliseconds": "5000"}}
	}
	noauth := Facts{Probe: Probe{Ping: resp.Reply{Class: resp.NoAuth}}}
	pong := Facts{Probe: Probe{Ping: resp.Reply{Class: resp.Pong}}}
	down := Facts{Probe: Probe{Err: errors.New("refused")}}
	for _, tc := range []struct {
		name   string
		entry  deploy.SentinelEntry
		master Facts
		want   result.State
		none   bool
	}{
		{"s_down and NOAUTH", view([]string{"s_down", "master"}, "100"), noauth, result.Critical, false},
		{"no ok ping for long", view([]string{"master"}, "60000"), noauth, result.Critical, false},
		{"up and NOAUTH", view([]string{"master"}, "100"), noauth, result.OK, false},
		{"no password needed", view([]string{"s_down", "master"}, "100"), pong, 0, true},
		{"master unreachable", view([]string{"s_down", "master"}, "100"), down, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := deploy.Node{Role: deploy.RoleSentinel, Monitors: []string{"m"}, MasterView: map[string]deploy.SentinelEntry{"m": tc.entry}}
			key := deploy.Endpoint(netip.MustParseAddr("192.0.2.10"), 6379)
			got := judgeSentinelAuthPass(s, map[string]Facts{key: tc.master})
			if tc.none {
				if len(got) != 0 {
					t.Errorf("%+v", got)
				}
				return
			}
			if len(got) != 1 || got[0].State != tc.want || !strings.Contains(got[0].Text, "master m (192.0.2.10:6379)") {
				t.Errorf("%+v", got)
			}
		})
	}
}
