package firewall

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// The recordings of real rulesets (nfnl's fixtures: iptables-nft rules,
// every family, sets, the rarer expressions) read back offline with
// --nft-bytecode: each compiles, evaluates, and every unknown it leaves
// names the rule (family, table, chain, handle) it comes from, bar the
// routing of DNAT targets, which offline mode without --routes leaves
// unknown.
func TestOfflineBytecodeRecordings(t *testing.T) {
	files, err := filepath.Glob(testenv.Testdata(t, "firewall", "nfnl", "*.rec"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			in := collectFiles(context.Background(), Options{NftBytecode: f})
			if in.Standalone {
				t.Fatal("a bytecode recording is the whole nf_tables ruleset, not a standalone iptables dump")
			}
			if err := in.Sources.NFTBytecode.Err; err != nil {
				t.Fatal(err)
			}
			rs, _ := Build(in)
			rep := Evaluate(rs, DefaultPorts)
			for _, p := range rep.Ports {
				if p.Err != nil {
					t.Fatalf("%v: %v", p.Query, p.Err)
				}
				for _, why := range p.Result.Reasons {
					// Offline without --routes, where a DNAT target goes is
					// unknown: the routing's, not a rule's.
					if !strings.Contains(why, " handle ") && !strings.Contains(why, "DNAT target") {
						t.Errorf("%v: unknown does not name its rule: %s", p.Query, why)
					}
				}
			}
		})
	}
}

func TestBytecodeFlags(t *testing.T) {
	rec := testenv.Testdata(t, "firewall", "nfnl", "families.rec")
	for _, c := range []struct {
		f    flags
		want string
	}{
		{flags{ports: "6379", nftBytecode: rec, nftJSON: rec}, "--nft-bytecode: holds the whole"},
		{flags{ports: "6379", nftBytecode: rec, iptSave: rec}, "--nft-bytecode: holds the whole"},
		{flags{ports: "6379", nftBytecode: rec, dumpRuleset: "/tmp/x"}, "--dump-ruleset is for the live system"},
	} {
		err := c.f.validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.f, err, c.want)
		}
	}
	f := flags{ports: "6379", nftBytecode: rec}
	if err := f.validate(); err != nil || !f.cfg.Offline() || f.cfg.NftBytecode != rec {
		t.Errorf("--nft-bytecode alone: %v %+v", err, f.cfg)
	}
}
