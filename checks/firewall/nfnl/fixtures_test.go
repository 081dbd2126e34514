package nfnl

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// Recordings of live readings, with nft's bytecode listing of the same
// namespace beside each, so tests without privileges exercise Decode and
// the rendering. Rewrite them with
//
//	NFNL_WRITE_FIXTURES=1 go test -run TestWriteFixtures ./checks/firewall/nfnl/
//
// fixtureDir is where they live.
func fixtureDir(t testing.TB) string { return testenv.Testdata(t, "firewall", "nfnl") }

func TestWriteFixtures(t *testing.T) {
	if os.Getenv("NFNL_WRITE_FIXTURES") == "" {
		t.Skip("set NFNL_WRITE_FIXTURES=1 to rewrite the recordings in testdata/firewall/nfnl (needs root)")
	}
	write := func(name string, rec []byte, out string) {
		if err := os.WriteFile(filepath.Join(fixtureDir(t), name+".rec"), rec, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(fixtureDir(t), name+".netlink.txt"), []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"families", "sets"} {
		h := fwHost(t)
		loadNft(t, h, nftRulesets[name])
		_, rec := readIn(t, h)
		_, out := oracle(t, h)
		write(name, rec, out)
	}
	h := fwHost(t)
	loadRare(t, h)
	_, rec := readIn(t, h)
	_, out := oracle(t, h)
	write("rare", rec, out)
	h = fwHost(t)
	loadIptables(t, h)
	_, rec = readIn(t, h)
	_, out = oracle(t, h)
	write("iptables-nft", rec, out)
}

func TestDecodeFixtures(t *testing.T) {
	recs, _ := filepath.Glob(filepath.Join(fixtureDir(t), "*.rec"))
	if len(recs) == 0 {
		t.Fatal("no recordings in testdata/firewall/nfnl")
	}
	for _, f := range recs {
		name := strings.TrimSuffix(filepath.Base(f), ".rec")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			out, err := os.ReadFile(filepath.Join(fixtureDir(t), name+".netlink.txt"))
			if err != nil {
				t.Fatal(err)
			}
			compareListing(t, rs, parseListing(t, string(out)))
			again, err := Decode(bytes.NewReader(b))
			if err != nil || !reflect.DeepEqual(rs, again) {
				t.Errorf("a second Decode differs (err %v)", err)
			}
		})
	}
}
