package deploy

import (
	"strings"
	"testing"
)

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		err  string
		n    int
	}{
		{"off", Options{}, "", 0},
		{"scope without discover", Options{ScopeArgs: []string{"10.0.0.0/8"}}, "need --discover", 0},
		{"discover without scope", Options{Enabled: true, MaxNodes: 64}, "needs --discover-scope", 0},
		{"commas and addresses", Options{Enabled: true, MaxNodes: 64, ScopeArgs: []string{"192.0.2.0/24, 2001:db8::/32", "198.51.100.7"}}, "", 3},
		{"bad cidr", Options{Enabled: true, MaxNodes: 64, ScopeArgs: []string{"192.0.2.0/33"}}, "not a CIDR", 0},
		{"node cap", Options{Enabled: true, MaxNodes: MaxMaxNodes + 1, ScopeArgs: []string{"192.0.2.0/24"}}, "outside 1-", 0},
		{"events url", Options{Enabled: true, MaxNodes: 1, ScopeArgs: []string{"192.0.2.0/24"}, NodeEvents: "127.0.0.1:3031"}, "not an http:// URL", 0},
		{"events ok", Options{Enabled: true, MaxNodes: 1, ScopeArgs: []string{"192.0.2.0/24"}, NodeEvents: "http://127.0.0.1:3031/events"}, "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			if tc.err == "" {
				if err != nil || len(tc.o.Scope) != tc.n {
					t.Fatalf("err %v, scope %v", err, tc.o.Scope)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err %v, want %q", err, tc.err)
			}
		})
	}
	o := Options{Enabled: true, MaxNodes: 1, ScopeArgs: []string{"198.51.100.7"}}
	if o.Validate() != nil || o.Scope[0].Bits() != 32 {
		t.Errorf("a single address is a /32: %v", o.Scope)
	}
	if (&Options{}).EventCheck("bin") != "bin" || (&Options{CheckName: "def"}).EventCheck("bin") != "def" {
		t.Error("EventCheck")
	}
}
