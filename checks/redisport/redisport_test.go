package redisport

import "testing"

func TestDefaults(t *testing.T) {
	if got := Join(Defaults()); got != "6379,16379,26379" {
		t.Fatalf("Join(Defaults()) = %q", got)
	}
	// The cluster bus is the data port + 10000, as Redis computes it.
	if ClusterBus != Data+10000 {
		t.Fatalf("cluster bus %d is not data port %d + 10000", ClusterBus, Data)
	}
	d := Defaults()
	d[0] = 1
	if Defaults()[0] != Data {
		t.Fatal("Defaults shares its slice between callers")
	}
	if got := Ints(Defaults()); len(got) != 3 || got[2] != 26379 {
		t.Fatalf("Ints = %v", got)
	}
}
