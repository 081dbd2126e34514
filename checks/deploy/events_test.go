package deploy

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// TestPostNodeEvents posts to a local HTTP server that decodes what the
// agent's API decodes and answers as it does (202).
func TestPostNodeEvents(t *testing.T) {
	var mu sync.Mutex
	got := map[string]eventBody{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b eventBody
		if r.Method != http.MethodPost || r.URL.Path != "/events" || json.NewDecoder(r.Body).Decode(&b) != nil {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		mu.Lock()
		got[b.Check.ProxyEntityName] = b
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	n1 := Node{Addr: netip.MustParseAddr("192.0.2.11"), Port: 6379, Role: RoleReplica}
	n2 := Node{Addr: netip.MustParseAddr("2001:db8::1"), Port: 26379, Role: RoleSentinel}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	errs := PostNodeEvents(ctx, srv.URL+"/events", "redis-auth-check", []NodeEvent{{n1, 2, "x"}, {n2, 0, "y"}})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if b := got["redis-192.0.2.11-6379"]; b.Check.Status != 2 || b.Entity.EntityClass != "proxy" || b.Check.Metadata.Name != "redis-auth-check" {
		t.Errorf("%+v", got)
	}
	if _, ok := got["redis-2001-db8--1-26379"]; !ok {
		t.Errorf("IPv6 entity name: %v", got)
	}
	errs = PostNodeEvents(ctx, srv.URL+"/nowhere", "c", []NodeEvent{{n1, 0, ""}})
	if len(errs) != 1 {
		t.Errorf("a refused post: %v", errs)
	}
}
