package sockets

import (
	"fmt"
	"net"
	"slices"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/netns"
)

// In a namespace of its own nothing else opens sockets, so the dump and the
// tables must agree exactly: wildcard, specific, loopback, both families,
// and a connected socket that neither may list.
func TestDumpEqualsTablesInNamespace(t *testing.T) {
	tp := netns.New(t, netns.Spec{Hosts: []netns.HostSpec{{Name: "redis"}, {Name: "client"}}})
	h := tp.Host("redis")
	for _, a := range []string{"0.0.0.0:6379", "[::]:26379", "127.0.0.1:16379",
		net.JoinHostPort(h.Addr4().String(), "6380"), net.JoinHostPort(h.Addr6().String(), "6381")} {
		h.Listen(t, "tcp", a)
	}
	c, err := tp.Host("client").DialContext(t.Context(), "tcp", net.JoinHostPort(h.Addr4().String(), "6379"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	var dumped, table []Listener
	err = h.Do(func() (err error) {
		if dumped, err = dumpListeners(); err != nil {
			return fmt.Errorf("sock_diag: %w", err)
		}
		// thread-self: this thread's namespace, not the process's.
		table, err = ReadTables("/proc/thread-self")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	key := func(a, b Listener) int { return a.Addr.Compare(b.Addr) }
	slices.SortFunc(dumped, key)
	slices.SortFunc(table, key)
	if len(dumped) != 5 || !slices.Equal(dumped, table) {
		t.Fatalf("dump %v\ntables %v", dumped, table)
	}
}
