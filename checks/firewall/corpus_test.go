package firewall

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/describe"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
)

// loadCorpus reads a corpus entry's dumps as offline mode does (--nft-json,
// --nft-netlink, --iptables-save, --ip6tables-save, --ipset-save,
// --routes), plus the legacy tables live collection would have read.
func loadCorpus(t *testing.T, dir string) *Facts {
	t.Helper()
	f := func(name string) string { return filepath.Join(dir, name) }
	in := collectFiles(context.Background(), Options{NftJSON: f("nft.json"), NftNetlink: f("nft-netlink.txt"),
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
	case !describe.Empty(res.Undecided) || !describe.Empty(res.LoopbackUndecided):
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
	names := subdirs(t, fwdata(t, "corpus"))
	verdicts := 0
	var unknown []string
	for _, name := range names {
		dir := fwdata(t, "corpus", name)
		rs, _ := Build(loadCorpus(t, dir))
		rep := Evaluate(rs, DefaultPorts)
		t.Run(name, func(t *testing.T) {
			checkWant(t, rep, readWant(t, dir))
			checkIIfWant(t, rep, dir)
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
		for _, c := range res.Contexts {
			fmt.Fprintf(&b, "# context %s (%s) dst %v sport %v: accepted %s undecided %s\n", c.IIf, c.IIfDesc, c.Dst, c.SPort,
				wantSet(c.Accepted, k.fam), wantSet(c.Undecided, k.fam))
		}
		if pr.Query.To == 0 {
			fmt.Fprintf(&b, "%d %v loopback %s\n", k.port, k.fam, map[bool]string{true: "yes", false: "no"}[!describe.Empty(res.LoopbackAccepted)])
		}
	}
	t.Logf("want.txt:\n%s", b.String())
}

// wantSet spells a set as want.txt does: "-" when empty, "all" when it is
// every address but loopback.
func wantSet(s *netipx.IPSet, fam eval.Family) string {
	if describe.Empty(s) {
		return "-"
	}
	if describe.AllButLoopback(s, fam) {
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

// checkIIfWant compares what arrives on one interface with the optional
// want-iif.txt: "PORT FAMILY IFACE SET..." lines, SET as in want.txt, the
// sources accepted in the contexts of that input interface (for the
// zones of a ruleset that lets everything in elsewhere).
func checkIIfWant(t *testing.T, rep *Report, dir string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "want-iif.txt"))
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	for n, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) < 4 {
			t.Fatalf("want-iif.txt line %d: too short", n+1)
		}
		// The set is spelled as in want.txt: reuse its parser.
		w := readWantLine(t, strings.Join(append([]string{f[0], f[1], "accepted"}, f[3:]...), " "))
		var got netipx.IPSetBuilder
		seen := false
		for _, pr := range rep.Ports {
			if pr.Query.Port != w.port || pr.Query.Family != w.fam || pr.Err != nil {
				continue
			}
			seen = true
			for _, c := range pr.Result.Contexts {
				if c.IIf == f[2] {
					got.AddSet(c.Accepted)
				}
			}
		}
		if !seen {
			t.Fatalf("want-iif.txt line %d: port %d %v not evaluated", n+1, w.port, w.fam)
		}
		if g, _ := got.IPSet(); !g.Equal(w.set) {
			t.Errorf("want-iif.txt line %d: tcp/%d %v on %s accepted = %v, want %v", n+1, w.port, w.fam, f[2], g.Prefixes(), w.set.Prefixes())
		}
	}
}

// readWantLine parses one want.txt line through readWant.
func readWantLine(t *testing.T, line string) expectation {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "want.txt"), []byte(line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return readWant(t, dir)[0]
}
