package cidr

import "testing"

func TestParseList(t *testing.T) {
	got, err := ParseList("--trusted", []string{"192.0.2.7, 198.51.100.9/24", "[2001:db8::1]", "::ffff:192.0.2.8"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"192.0.2.7/32", "198.51.100.0/24", "2001:db8::1/128", "192.0.2.8/32"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	for _, bad := range []string{"10.0.0.300", "192.0.2.0/33", "example.com", "::ffff:192.0.2.0/120"} {
		if _, err := ParseList("--allow", []string{bad}); err == nil || err.Error() != `--allow "`+bad+`": not an address or CIDR` {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}
