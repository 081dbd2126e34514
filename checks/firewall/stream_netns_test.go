package firewall

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// The live check compiles each chain as it is read, before the rules
// after it are known. A set that a later rule fills from the packet path
// (port knocking: "-j SET --add-set knocked src" on one port opens 6379
// to the knocker) must still be judged as filled by traffic, not as its
// contents at the time of the reading: the check reads the ruleset again
// knowing it, and the source the set would admit stays unknown, never
// refused.
func TestNamespaceLateSetUpdate(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip", "iptables-nft", "ipset")
	top := newTopology(t, "lateset")
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", append([]string{"netns", "exec", top.server}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", args, err, out)
		}
	}
	run("ipset", "create", "knocked", "hash:ip")
	t.Cleanup(func() {
		exec.Command("ip", "netns", "exec", top.server, "iptables-nft", "-F").Run()
		exec.Command("ip", "netns", "exec", top.server, "ipset", "destroy", "knocked").Run()
	})
	for _, r := range [][]string{
		{"-P", "INPUT", "DROP"},
		{"-A", "INPUT", "-i", "lo", "-j", "ACCEPT"},
		{"-A", "INPUT", "-p", "tcp", "--dport", "6379", "-m", "set", "--match-set", "knocked", "src", "-j", "ACCEPT"},
		{"-A", "INPUT", "-p", "tcp", "--dport", "7000", "-j", "SET", "--add-set", "knocked", "src"},
	} {
		run(append([]string{"iptables-nft"}, r...)...)
	}
	rec := filepath.Join(t.TempDir(), "ruleset.nfnl")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := Gather(ctx, Options{System: netnsSystem{top.server}, DumpRuleset: rec})
	if in.Err != nil || in.Sources.NFTBytecode.Err != nil {
		t.Fatal(in.Err, in.Sources.NFTBytecode.Err)
	}
	if in.Compiled == nil {
		t.Fatal("the live reading was not compiled as it was read")
	}
	knocker := netip.MustParseAddr("198.51.100.7")
	judge := func(name string, in *Facts) {
		t.Helper()
		rs, _ := Build(in)
		res, err := eval.Evaluate(rs, eval.Query{Family: eval.IPv4, Port: 6379}, eval.Options{})
		if err != nil {
			t.Fatal(err)
		}
		why := strings.Join(res.Reasons, "; ")
		if !res.Undecided.Contains(knocker) || !strings.Contains(why, "filled by rules from past traffic") {
			t.Errorf("%s: 6379 from a knocker: want undecided (a set filled by traffic), got accepted %v, undecided %v (%s)",
				name, res.Accepted.Prefixes(), res.Undecided.Prefixes(), why)
		}
	}
	judge("live", in)
	// The recording holds both readings: the first found the update late.
	data, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	if n := recordedAttempts(t, data); n != 2 {
		t.Errorf("the recording holds %d reading attempts, want 2 (one more once the update is known)", n)
	}
	// The recording, read back offline, gives the same judgement (ipset
	// contents are then unknown: the reason differs, not the verdict).
	off := Gather(ctx, Options{NftBytecode: rec})
	rs, _ := Build(off)
	res, err := eval.Evaluate(rs, eval.Query{Family: eval.IPv4, Port: 6379}, eval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Undecided.Contains(knocker) {
		t.Errorf("offline: 6379 from a knocker: want undecided, got accepted %v, undecided %v", res.Accepted.Prefixes(), res.Undecided.Prefixes())
	}
}

// recordedAttempts counts the attempt frames of an nfnl recording: a
// header line, then frames of a kind byte, a 4-byte big-endian length
// and the datagram.
func recordedAttempts(t *testing.T, data []byte) int {
	t.Helper()
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		t.Fatal("recording without a header line")
	}
	n := 0
	for rest := data[i+1:]; len(rest) > 0; {
		if len(rest) < 5 {
			t.Fatalf("recording ends inside a frame header")
		}
		size := int(binary.BigEndian.Uint32(rest[1:5]))
		if rest[0] == 'A' {
			n++
		}
		if len(rest) < 5+size {
			t.Fatalf("recording ends inside a frame")
		}
		rest = rest[5+size:]
	}
	return n
}
