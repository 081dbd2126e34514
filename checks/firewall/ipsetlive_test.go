package firewall

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/ipset"
)

// ipsetSystem answers `ipset save` with one set and says whether the
// ip_set module is there.
type ipsetSystem struct {
	module bool
	ran    []string
}

func (s *ipsetSystem) Run(_ context.Context, name string, _ ...string) ([]byte, error) {
	s.ran = append(s.ran, name)
	return []byte("create trusted hash:net family inet\nadd trusted 192.0.2.0/24\n"), nil
}

func (s *ipsetSystem) ReadFile(context.Context, string) ([]byte, error) { return nil, fs.ErrNotExist }

func (s *ipsetSystem) ReadDir(_ context.Context, path string) ([]string, error) {
	if path != ipsetModule || !s.module {
		return nil, fs.ErrNotExist
	}
	return []string{"parameters"}, nil
}

func (s *ipsetSystem) Privileged() error { return nil }

func TestLiveIPSetSkippedWithoutModule(t *testing.T) {
	ctx := context.Background()
	without := &ipsetSystem{}
	d := liveIPSet(ctx, without)
	if d.Err != nil || d.Value == nil || len(d.Value.Sets) != 0 || len(without.ran) != 0 {
		t.Errorf("no module: %+v, ran %v; want no sets and no process", d, without.ran)
	}
	with := &ipsetSystem{module: true}
	d = liveIPSet(ctx, with)
	if d.Err != nil || d.Value == nil || d.Value.Set("trusted") == nil || len(with.ran) != 1 {
		t.Errorf("module loaded: %+v, ran %v; want ipset save's set", d, with.ran)
	}
}

// netlinkIPSetSystem also lists the sets over netlink, answering with err
// when it is set.
type netlinkIPSetSystem struct {
	ipsetSystem
	err error
}

func (s *netlinkIPSetSystem) IPSets(context.Context) (*ipset.Dump, error) {
	if s.err != nil {
		return nil, s.err
	}
	return &ipset.Dump{Sets: []*ipset.Set{{Name: "fromnetlink", Type: "hash:ip", Family: "inet"}}}, nil
}

func TestLiveIPSetNetlink(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		err     error
		set     string
		ran     int
		wantErr bool
	}{
		{"read", nil, "fromnetlink", 0, false},
		{"not decoded: ipset save", fmt.Errorf("set m of type hash:ip,mark: %w", ipset.ErrNotDecoded), "trusted", 1, false},
		{"failed", errors.New("ipset netlink: EPERM"), "", 0, true},
	} {
		sys := &netlinkIPSetSystem{ipsetSystem: ipsetSystem{module: true}, err: c.err}
		d := liveIPSet(ctx, sys)
		if c.wantErr {
			if d.Err == nil || len(sys.ran) != 0 {
				t.Errorf("%s: %+v, ran %v; want the error, no process", c.name, d, sys.ran)
			}
			continue
		}
		if d.Err != nil || d.Value.Set(c.set) == nil || len(sys.ran) != c.ran {
			t.Errorf("%s: %+v, ran %v; want set %s and %d processes", c.name, d, sys.ran, c.set, c.ran)
		}
	}
	sys := &netlinkIPSetSystem{}
	if d := liveIPSet(ctx, sys); d.Err != nil || len(d.Value.Sets) != 0 || len(sys.ran) != 0 {
		t.Errorf("no module: %+v, ran %v", d, sys.ran)
	}
}
