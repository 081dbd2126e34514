package system

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// A reading honours its context: an expired one stops it before any
// answer is waited for.
func TestRoutesHereContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := RoutesHere(ctx, RouteLimits{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if _, _, err := RoutesHere(ctx, RouteLimits{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("past deadline: %v", err)
	}
}

// The caps apply to a real reading: every namespace has routes (lo's
// local ones at least, once lo is up), and a cap of zero takes the default.
func TestRoutesHereCap(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	all, _, err := RoutesHere(ctx, RouteLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 2 {
		testenv.Skip(t, "only %d routes in this namespace, too few to cap", len(all))
	}
	if _, _, err := RoutesHere(ctx, RouteLimits{MaxRoutes: 1}); err == nil {
		t.Errorf("%d routes read under a cap of 1", len(all))
	}
}
