package firewall

import (
	"bufio"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/ipset"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
)

// expectation is one line of a scenario's want.txt.
type expectation struct {
	line   int
	port   uint16
	fam    eval.Family
	what   string // accepted, undecided, loopback
	set    *netipx.IPSet
	loopOK bool
}

// readWant parses want.txt: "PORT FAMILY accepted|undecided SET..." or
// "PORT FAMILY loopback yes|no". "all" is the family; loopback is always
// removed from the sets.
func readWant(t *testing.T, dir string) []expectation {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "want.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []expectation
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) < 4 {
			t.Fatalf("want.txt line %d: too short", n)
		}
		p, err := strconv.ParseUint(fields[0], 10, 16)
		if err != nil {
			t.Fatalf("want.txt line %d: %v", n, err)
		}
		e := expectation{line: n, port: uint16(p), what: fields[2]}
		switch fields[1] {
		case "IPv4":
			e.fam = eval.IPv4
		case "IPv6":
			e.fam = eval.IPv6
		default:
			t.Fatalf("want.txt line %d: family %q", n, fields[1])
		}
		switch e.what {
		case "loopback":
			e.loopOK = fields[3] == "yes"
		case "accepted", "undecided":
			var b netipx.IPSetBuilder
			for _, s := range fields[3:] {
				switch {
				case s == "-":
				case s == "all":
					b.AddPrefix(e.fam.All())
					b.RemovePrefix(e.fam.Loopback())
				case strings.Contains(s, "-"):
					b.AddRange(netipx.MustParseIPRange(s))
				case strings.Contains(s, "/"):
					b.AddPrefix(netip.MustParsePrefix(s))
				default:
					b.Add(netip.MustParseAddr(s))
				}
			}
			// Loopback sources are judged apart: never part of these sets.
			b.RemovePrefix(e.fam.Loopback())
			e.set, _ = b.IPSet()
		default:
			t.Fatalf("want.txt line %d: %q", n, e.what)
		}
		out = append(out, e)
	}
	return out
}

// checkWant compares a report with the expectations.
func checkWant(t *testing.T, rep *Report, want []expectation) {
	t.Helper()
	for _, w := range want {
		var res *eval.Result
		for _, pr := range rep.Ports {
			if pr.Query.Port == w.port && pr.Query.Family == w.fam {
				if pr.Err != nil {
					t.Fatalf("want.txt line %d: %v", w.line, pr.Err)
				}
				res = pr.Result
			}
		}
		if res == nil {
			t.Fatalf("want.txt line %d: port %d %v not evaluated", w.line, w.port, w.fam)
		}
		switch w.what {
		case "accepted":
			if !res.Accepted.Equal(w.set) {
				t.Errorf("want.txt line %d: tcp/%d %v accepted = %v, want %v (reasons %v)", w.line, w.port, w.fam,
					res.Accepted.Prefixes(), w.set.Prefixes(), res.Reasons)
			}
		case "undecided":
			if !res.Undecided.Equal(w.set) {
				t.Errorf("want.txt line %d: tcp/%d %v undecided = %v, want %v", w.line, w.port, w.fam,
					res.Undecided.Prefixes(), w.set.Prefixes())
			}
		case "loopback":
			a := netip.MustParseAddr("127.0.0.1")
			if w.fam == eval.IPv6 {
				a = netip.IPv6Loopback()
			}
			if got := res.LoopbackAccepted.Contains(a); got != w.loopOK {
				t.Errorf("want.txt line %d: tcp/%d %v loopback accepted = %v, want %v", w.line, w.port, w.fam, got, w.loopOK)
			}
		}
	}
}

// loadScenario reads the dumps captured by testdata/firewall/capture.sh,
// as live collection would have read them.
func loadScenario(t *testing.T, dir string) *Facts {
	t.Helper()
	in := &Facts{}
	s := &in.Sources
	s.NFT = parseFile(filepath.Join(dir, "nft.json"), nftjson.Parse)
	s.IptNFT = parseFile(filepath.Join(dir, "iptables-nft.save"), iptsave.Parse)
	s.Ip6tNFT = parseFile(filepath.Join(dir, "ip6tables-nft.save"), iptsave.Parse)
	s.Legacy4 = parseFile(filepath.Join(dir, "iptables-legacy.save"), iptsave.Parse)
	s.Legacy6 = parseFile(filepath.Join(dir, "ip6tables-legacy.save"), iptsave.Parse)
	s.IPSet = parseFile(filepath.Join(dir, "ipset.save"), ipset.Parse)
	for _, d := range []error{s.NFT.Err, s.IptNFT.Err, s.Ip6tNFT.Err, s.Legacy4.Err, s.Legacy6.Err, s.IPSet.Err} {
		if d != nil {
			t.Fatal(d)
		}
	}
	names := func(file string) []string {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Fields(string(data))
	}
	s.LegacyTables4 = names("legacy-tables4.txt")
	s.LegacyTables6 = names("legacy-tables6.txt")
	return in
}

func scenarios(t *testing.T) []string { return subdirs(t, fwdata(t, "scenarios")) }

// subdirs lists the directories of a fixture tree (scenarios, corpus
// entries) in name order (os.ReadDir sorts); an empty tree fails the test.
func subdirs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	if len(out) == 0 {
		t.Fatalf("no entries in %s", dir)
	}
	return out
}

// TestScenarioDumps evaluates the dumps captured from the real tools and
// compares with the hand-derived expectations in want.txt.
func TestScenarioDumps(t *testing.T) {
	for _, name := range scenarios(t) {
		t.Run(name, func(t *testing.T) {
			dir := fwdata(t, "scenarios", name)
			rs, _ := Build(loadScenario(t, dir))
			checkWant(t, Evaluate(rs, DefaultPorts), readWant(t, dir))
		})
	}
}
