package firewall

import (
	"context"
	"io/fs"
	"testing"
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
