package firewall

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
)

const corpusDir = "../../testdata/firewall/corpus"

// loadCorpus reads a corpus entry's dumps as offline mode does (--nft-json,
// --nft-netlink, --iptables-save, --ip6tables-save, --ipset-save,
// --routes), plus the legacy tables live collection would have read.
func loadCorpus(t *testing.T, dir string) *Input {
	t.Helper()
	f := func(name string) string { return filepath.Join(dir, name) }
	in := collectFiles(Config{NftJSON: f("nft.json"), NftNetlink: f("nft-netlink.txt"),
		IptablesSave: f("iptables-nft.save"), Ip6tablesSave: f("ip6tables-nft.save"),
		IpsetSave: f("ipset.save"), Routes: f("routes.json")})
	s := &in.Sources
	s.Legacy4 = parseFile(f("iptables-legacy.save"), iptsave.Parse)
	s.Legacy6 = parseFile(f("ip6tables-legacy.save"), iptsave.Parse)
	for _, err := range []error{s.NFT.Err, s.NFTNetlink.Err, s.IptNFT.Err, s.Ip6tNFT.Err, s.Legacy4.Err, s.Legacy6.Err, s.IPSet.Err, in.RoutesErr} {
		if err != nil {
			t.Fatal(err)
		}
	}
	names := func(file string) []string {
		data, err := os.ReadFile(f(file))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Fields(string(data))
	}
	s.LegacyTables4 = names("legacy-tables4.txt")
	s.LegacyTables6 = names("legacy-tables6.txt")
	return in
}

// unknownReason says why a port's verdict is UNKNOWN, or "" when it is
// definite: what Judge would report as UNKNOWN for this port and family,
// whatever the trusted networks.
func unknownReason(pr PortReport) string {
	switch res := pr.Result; {
	case pr.Err != nil:
		return pr.Err.Error()
	case !empty(res.Undecided) || !empty(res.LoopbackUndecided):
		return strings.Join(res.Reasons, "; ")
	}
	return ""
}

// TestCorpus evaluates the rulesets real tools write (captured by
// testdata/firewall/corpus/capture.sh) and compares with the expectations
// derived by hand in want.txt, so a regression to UNKNOWN fails. It logs
// the share of (ruleset, port, family) verdicts that are UNKNOWN, each with
// its reason; scripts/bench-corpus.sh writes it to docs/benchmarks.md.
func TestCorpus(t *testing.T) {
	entries, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		t.Fatal("empty corpus")
	}
	sort.Strings(names)
	verdicts := 0
	var unknown []string
	for _, name := range names {
		dir := filepath.Join(corpusDir, name)
		rs, _ := Build(loadCorpus(t, dir))
		rep := Evaluate(rs, DefaultPorts)
		t.Run(name, func(t *testing.T) {
			checkWant(t, rep, readWant(t, dir))
			if os.Getenv("FWCORPUS_PRINT") != "" {
				printWant(t, rep)
			}
		})
		for _, pr := range rep.Ports {
			verdicts++
			if why := unknownReason(pr); why != "" {
				unknown = append(unknown, fmt.Sprintf("%s %v: %s", name, pr.Query, why))
			}
		}
	}
	t.Logf("corpus: %d rulesets, %d verdicts (ruleset, port, family), %d UNKNOWN = %.1f %%",
		len(names), verdicts, len(unknown), 100*float64(len(unknown))/float64(verdicts))
	for _, u := range unknown {
		t.Logf("corpus UNKNOWN: %s", u)
	}
}

// printWant logs the evaluation in want.txt's format, as a starting point
// for an entry's expectations (each line is then checked against the
// ruleset by hand). Like checkWant, the last report of a port and family
// counts (a DNAT's way in comes after the local one).
func printWant(t *testing.T, rep *Report) {
	type key struct {
		port uint16
		fam  eval.Family
	}
	last := map[key]PortReport{}
	var order []key
	for _, pr := range rep.Ports {
		k := key{pr.Query.Port, pr.Query.Family}
		if _, ok := last[k]; !ok {
			order = append(order, k)
		}
		last[k] = pr
	}
	var b strings.Builder
	for _, k := range order {
		pr := last[k]
		if pr.Err != nil {
			fmt.Fprintf(&b, "# %d %v: %v\n", k.port, k.fam, pr.Err)
			continue
		}
		res := pr.Result
		fmt.Fprintf(&b, "%d %v accepted %s\n", k.port, k.fam, wantSet(res.Accepted, k.fam))
		fmt.Fprintf(&b, "%d %v undecided %s\n", k.port, k.fam, wantSet(res.Undecided, k.fam))
		if pr.Query.To == 0 {
			fmt.Fprintf(&b, "%d %v loopback %s\n", k.port, k.fam, map[bool]string{true: "yes", false: "no"}[!empty(res.LoopbackAccepted)])
		}
	}
	t.Logf("want.txt:\n%s", b.String())
}

// wantSet spells a set as want.txt does: "-" when empty, "all" when it is
// every address but loopback.
func wantSet(s *netipx.IPSet, fam eval.Family) string {
	if empty(s) {
		return "-"
	}
	if isAllButLoopback(s, fam) {
		return "all"
	}
	var out []string
	for _, r := range s.Ranges() {
		if p, ok := r.Prefix(); ok {
			out = append(out, p.String())
		} else {
			out = append(out, r.String())
		}
	}
	return strings.Join(out, " ")
}
