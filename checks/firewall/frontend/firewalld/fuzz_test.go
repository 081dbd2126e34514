package firewalld

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseZone: any input either fails with ErrXML or
// gives a zone whose rich rules round-trip through their string form.
func FuzzParseZone(f *testing.F) {
	for _, dir := range []string{"guide/etc/zones", "lib/zones", "mixed/zones", "bad"} {
		files, _ := filepath.Glob(filepath.Join(fixture(f, dir), "*.xml"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		z, err := ParseZone(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		for _, r := range z.Rules {
			again, err := ParseRichRule(r.String())
			if err != nil {
				// Families and priorities are validated on both paths;
				// only the XML element may carry a bare source.
				if r.Source.Kind == "" && r.Element == "" && r.Action == "" {
					continue
				}
				t.Fatalf("rule %q from XML does not parse back: %v", r, err)
			}
			if again.String() != r.String() {
				t.Fatalf("round trip: %q became %q", r, again)
			}
		}
	})
}

// FuzzParseRichRule: a parsed rule's canonical form parses to itself.
func FuzzParseRichRule(f *testing.F) {
	for _, s := range []string{
		`rule family="ipv4" source address="198.51.100.5" port port="6379" protocol="tcp" accept`,
		`rule source not ipset="x" service name="redis" log prefix="a b" reject type="icmp-host-prohibited"`,
		`rule priority="-3" protocol value="tcp" accept limit value="1/m"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRichRule(s)
		if err != nil {
			return
		}
		again, err := ParseRichRule(r.String())
		if err != nil || again.String() != r.String() {
			t.Fatalf("%q: canonical %q does not parse back (%v)", s, r, err)
		}
	})
}
