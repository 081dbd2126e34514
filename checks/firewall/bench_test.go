package firewall

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/compile"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/ipset"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// genRuleset writes a deterministic iptables-save ruleset of about n
// rules shaped like a large real one: a default-drop INPUT, per-host
// allow rules for Redis and other services, multiport rules, LOG rules
// and a user chain every 100 rules.
func genRuleset(n int) string {
	r := rand.New(rand.NewSource(int64(n)))
	var b strings.Builder
	b.WriteString("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n")
	chains := n / 100
	for i := 0; i < chains; i++ {
		fmt.Fprintf(&b, ":SVC%d - [0:0]\n", i)
	}
	b.WriteString("-A INPUT -i lo -j ACCEPT\n")
	b.WriteString("-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n")
	addr := func() string {
		switch r.Intn(4) {
		case 0:
			return fmt.Sprintf("10.%d.%d.%d/32", r.Intn(256), r.Intn(256), r.Intn(256))
		case 1:
			return fmt.Sprintf("10.%d.%d.0/24", r.Intn(256), r.Intn(256))
		case 2:
			return fmt.Sprintf("192.0.2.%d/32", r.Intn(256))
		}
		return fmt.Sprintf("198.51.100.%d/30", 4*r.Intn(64))
	}
	ports := []int{6379, 16379, 26379, 22, 80, 443, 5432, 9100}
	written := 2
	for c := 0; written < n; c = (c + 1) % max(chains, 1) {
		chain := "INPUT"
		if chains > 0 {
			chain = "SVC" + strconv.Itoa(c)
			fmt.Fprintf(&b, "-A INPUT -p tcp -m tcp --dport %d -j %s\n", ports[r.Intn(len(ports))], chain)
			written++
		}
		for k := 0; k < 99 && written < n; k++ {
			switch r.Intn(10) {
			case 0:
				fmt.Fprintf(&b, "-A %s -s %s -m limit --limit 5/min -j LOG --log-prefix \"drop: \"\n", chain, addr())
			case 1:
				fmt.Fprintf(&b, "-A %s -s %s -p tcp -m multiport --dports %d,%d -j ACCEPT\n", chain, addr(), ports[r.Intn(len(ports))], ports[r.Intn(len(ports))])
			case 2:
				fmt.Fprintf(&b, "-A %s -s %s -j DROP\n", chain, addr())
			default:
				fmt.Fprintf(&b, "-A %s -s %s -p tcp -m tcp --dport %d -j ACCEPT\n", chain, addr(), ports[r.Intn(len(ports))])
			}
			written++
		}
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

// benchShapes are the generated ruleset shapes by name.
var benchShapes = map[string]func(int) string{"realistic": genRuleset, "flat": genFlat}

// TestGenerateBenchRuleset writes the benchmark ruleset for
// scripts/bench-firewall.sh (FWBENCH_OUT=file FWBENCH_RULES=n
// FWBENCH_SHAPE=realistic|flat).
func TestGenerateBenchRuleset(t *testing.T) {
	out := os.Getenv("FWBENCH_OUT")
	if out == "" {
		t.Skip("FWBENCH_OUT not set: only scripts/bench-firewall.sh needs the file")
	}
	n, err := strconv.Atoi(os.Getenv("FWBENCH_RULES"))
	if err != nil {
		t.Fatal(err)
	}
	shape := cmp.Or(os.Getenv("FWBENCH_SHAPE"), "realistic")
	gen, ok := benchShapes[shape]
	if !ok {
		t.Fatalf("FWBENCH_SHAPE=%q: want realistic or flat", shape)
	}
	if err := os.WriteFile(out, []byte(gen(n)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTimeBenchRuleset times the check's work on an iptables-save dump
// for scripts/bench-firewall.sh (FWBENCH_IN=dump FWBENCH_TIMES=out
// FWBENCH_RUNS=n): it writes the median parse+compile and evaluate times
// in milliseconds, the evaluation covering the three Redis ports (IPv4).
// With FWBENCH_NFT=nft-json-dump it then times the live path too, both
// dumps read and merged (liveBuild), and appends its two medians.
func TestTimeBenchRuleset(t *testing.T) {
	in, out := os.Getenv("FWBENCH_IN"), os.Getenv("FWBENCH_TIMES")
	if in == "" || out == "" {
		t.Skip("FWBENCH_IN/FWBENCH_TIMES not set: only scripts/bench-firewall.sh times dumps")
	}
	runs, err := strconv.Atoi(cmp.Or(os.Getenv("FWBENCH_RUNS"), "7"))
	if err != nil || runs < 1 {
		t.Fatalf("FWBENCH_RUNS: want a positive number")
	}
	text, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	ms := func(ds []time.Duration) float64 {
		slices.Sort(ds)
		return float64(ds[len(ds)/2]) / float64(time.Millisecond)
	}
	// timeRuns runs read then the evaluation runs times and gives the
	// median of each.
	timeRuns := func(read func() (*eval.Ruleset, error)) (float64, float64) {
		var parse, evaluate []time.Duration
		for range runs {
			t0 := time.Now()
			rs, err := read()
			if err != nil {
				t.Fatal(err)
			}
			t1 := time.Now()
			for _, p := range DefaultPorts {
				if _, err := eval.Evaluate(rs, eval.Query{Family: eval.IPv4, Port: p}, eval.DefaultOptions); err != nil {
					t.Fatal(err)
				}
			}
			parse, evaluate = append(parse, t1.Sub(t0)), append(evaluate, time.Since(t1))
		}
		return ms(parse), ms(evaluate)
	}
	pc, ev := timeRuns(func() (*eval.Ruleset, error) {
		d, err := iptsave.Parse(bytes.NewReader(text))
		if err != nil {
			return nil, err
		}
		rs, _ := compile.Standalone(eval.IPv4, compile.Dump[iptsave.Dump]{Value: d, Name: in}, compile.Dump[ipset.Dump]{})
		return rs, nil
	})
	times := fmt.Appendf(nil, "%.1f %.1f", pc, ev)
	if nft := os.Getenv("FWBENCH_NFT"); nft != "" {
		nftJSON, err := os.ReadFile(nft)
		if err != nil {
			t.Fatal(err)
		}
		pc, ev := timeRuns(func() (*eval.Ruleset, error) { return liveBuild(nftJSON, text) })
		times = fmt.Appendf(times, " %.1f %.1f", pc, ev)
	}
	if err := os.WriteFile(out, append(times, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestGeneratedRulesetSize(t *testing.T) {
	for _, n := range []int{1000, 10000} {
		d, err := iptsave.Parse(strings.NewReader(genRuleset(n)))
		if err != nil {
			t.Fatal(err)
		}
		if got := len(d.Table("filter").Rules); got != n {
			t.Errorf("generated %d rules, want %d", got, n)
		}
	}
}

func benchRuleset(b *testing.B, n int) *eval.Ruleset {
	b.Helper()
	d, err := iptsave.Parse(bytes.NewReader([]byte(genRuleset(n))))
	if err != nil {
		b.Fatal(err)
	}
	rs, _ := compile.Standalone(eval.IPv4, compile.Dump[iptsave.Dump]{Value: d, Name: "generated"}, compile.Dump[ipset.Dump]{})
	return rs
}

// BenchmarkEvaluate evaluates the three Redis ports (IPv4) on generated
// rulesets.
//
// Minimum of five runs of 5 iterations, ms for the three ports, on the
// 2-core build machine while other jobs shared it (load 2 to 5; single
// runs vary by a third), before and after the source index (eval's
// srcindex.go):
//
//	                   before   after
//	realistic  1,000     0.13    0.15
//	realistic 10,000    11.3     2.4
//	flat       1,000    10.7     2.4
//	flat      10,000   630      28
//
// scripts/bench-firewall.sh sets parse + compile + evaluate beside
// iptables-nft-save on the same rulesets.
func BenchmarkEvaluate(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			rs := benchRuleset(b, n)
			b.ResetTimer()
			for b.Loop() {
				for _, p := range DefaultPorts {
					if _, err := eval.Evaluate(rs, eval.Query{Family: eval.IPv4, Port: p}, eval.DefaultOptions); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// genFlat is the worst case for the evaluator: n rules in INPUT, every
// one about a Redis port, each with its own source prefix.
func genFlat(n int) string {
	r := rand.New(rand.NewSource(int64(n)))
	var b strings.Builder
	b.WriteString("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n")
	for i := 0; i < n; i++ {
		verdict := "ACCEPT"
		if r.Intn(4) == 0 {
			verdict = "DROP"
		}
		fmt.Fprintf(&b, "-A INPUT -s 10.%d.%d.%d/%d -p tcp -m tcp --dport %d -j %s\n",
			r.Intn(256), r.Intn(256), r.Intn(256), 16+r.Intn(17), DefaultPorts[r.Intn(3)], verdict)
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

// BenchmarkEvaluateFlat is BenchmarkEvaluate on the worst-case shape.
func BenchmarkEvaluateFlat(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			d, err := iptsave.Parse(strings.NewReader(genFlat(n)))
			if err != nil {
				b.Fatal(err)
			}
			rs, _ := compile.Standalone(eval.IPv4, compile.Dump[iptsave.Dump]{Value: d}, compile.Dump[ipset.Dump]{})
			for b.Loop() {
				for _, p := range DefaultPorts {
					if _, err := eval.Evaluate(rs, eval.Query{Family: eval.IPv4, Port: p}, eval.DefaultOptions); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkParseCompile is the cost of reading the dump.
//
// Median of three interleaved runs of 10 iterations on the 2-core build
// machine (load 1 to 2), ms and allocations per dump, before and after
// the parser kept its words as substrings of the input and compile shared
// the conditions built from the same option text:
//
//	                   before             after
//	realistic  1,000    3.9    53,321      1.8    7,106
//	realistic 10,000   35.2   535,724     15.0   55,150
//	flat       1,000    3.9    57,083      1.8    8,135
//	flat      10,000   36.6   572,154     18.1   80,302
func BenchmarkParseCompile(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		text := []byte(genRuleset(n))
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				d, err := iptsave.Parse(bytes.NewReader(text))
				if err != nil {
					b.Fatal(err)
				}
				compile.Standalone(eval.IPv4, compile.Dump[iptsave.Dump]{Value: d}, compile.Dump[ipset.Dump]{})
			}
		})
	}
}

// BenchmarkParseCompileFlat is BenchmarkParseCompile on the worst-case
// shape.
func BenchmarkParseCompileFlat(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		text := []byte(genFlat(n))
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				d, err := iptsave.Parse(bytes.NewReader(text))
				if err != nil {
					b.Fatal(err)
				}
				compile.Standalone(eval.IPv4, compile.Dump[iptsave.Dump]{Value: d}, compile.Dump[ipset.Dump]{})
			}
		})
	}
}

// liveDumps loads a generated ruleset into a throwaway network namespace
// and returns what the live check reads there: "nft -j list ruleset" and
// iptables-nft-save. It skips without root or the tools.
func liveDumps(b *testing.B, text string) (nftJSON, save []byte) {
	b.Helper()
	testenv.RequireRoot(b)
	testenv.RequireTool(b, "ip", "nft", "iptables-nft-restore", "iptables-nft-save")
	ns := fmt.Sprintf("fwbench-%d-%d", os.Getpid(), rand.Intn(1<<20))
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		b.Fatalf("ip netns add: %v: %s", err, out)
	}
	b.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	in := exec.Command("ip", "netns", "exec", ns, "iptables-nft-restore")
	in.Stdin = strings.NewReader(text)
	if out, err := in.CombinedOutput(); err != nil {
		b.Fatalf("iptables-nft-restore: %v: %s", err, out)
	}
	nftJSON, err := exec.Command("ip", "netns", "exec", ns, "nft", "-j", "list", "ruleset").Output()
	if err != nil {
		b.Fatalf("nft -j: %v", err)
	}
	save, err = exec.Command("ip", "netns", "exec", ns, "iptables-nft-save").Output()
	if err != nil {
		b.Fatalf("iptables-nft-save: %v", err)
	}
	return nftJSON, save
}

// liveBuild is the live check's reading of the ruleset: both dumps parsed
// and merged (IPv6 and legacy dumps are empty here).
func liveBuild(nftJSON, save []byte) (*eval.Ruleset, error) {
	nd, err := nftjson.Parse(bytes.NewReader(nftJSON))
	if err != nil {
		return nil, err
	}
	sd, err := iptsave.Parse(bytes.NewReader(save))
	if err != nil {
		return nil, err
	}
	rs, _ := compile.Build(compile.Sources{
		NFT:     compile.Dump[nftjson.Ruleset]{Value: nd, Name: "nft"},
		IptNFT:  compile.Dump[iptsave.Dump]{Value: sd, Name: "iptables-nft-save"},
		Ip6tNFT: compile.Dump[iptsave.Dump]{Value: &iptsave.Dump{}, Name: "ip6tables-nft-save"},
	})
	return rs, nil
}

// BenchmarkParseCompileLive is the live path's reading of generated
// rulesets loaded into a namespace (root only): nft JSON alone,
// iptables-nft-save alone, and both parsed and merged.
//
// Measured as BenchmarkParseCompile, ms, before and after nft JSON got
// its single-pass reader (nftjson/fast.go) and the merge its index of the
// saved rules by chain:
//
//	                   nft JSON         both, merged
//	                   before  after    before  after
//	realistic  1,000    27.3    3.3      34.3    5.9
//	realistic 10,000   278     23.7     438     52.6
//	flat       1,000    29.8    3.8      33.0    4.7
//	flat      10,000   274     27.5     318     42.3
func BenchmarkParseCompileLive(b *testing.B) {
	for _, shape := range []string{"realistic", "flat"} {
		for _, n := range []int{1000, 10000} {
			var nftJSON, save []byte
			prefix := fmt.Sprintf("%s/rules=%d", shape, n)
			b.Run(prefix+"/nftjson", func(b *testing.B) {
				nftJSON, save = liveDumps(b, benchShapes[shape](n))
				b.SetBytes(int64(len(nftJSON)))
				for b.Loop() {
					if _, err := nftjson.Parse(bytes.NewReader(nftJSON)); err != nil {
						b.Fatal(err)
					}
				}
			})
			if nftJSON == nil {
				continue
			}
			b.Run(prefix+"/iptsave", func(b *testing.B) {
				b.SetBytes(int64(len(save)))
				for b.Loop() {
					if _, err := iptsave.Parse(bytes.NewReader(save)); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(prefix+"/all", func(b *testing.B) {
				for b.Loop() {
					if _, err := liveBuild(nftJSON, save); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
