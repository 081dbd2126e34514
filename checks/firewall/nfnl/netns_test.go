package nfnl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/netns"
	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
)

// fwHost is one fresh network namespace for a ruleset.
func fwHost(t *testing.T) *netns.Host {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "nft")
	return netns.New(t, netns.Spec{Hosts: []netns.HostSpec{{Name: "fw"}}}).Host("fw")
}

// loadNft loads an nft ruleset text into the namespace.
func loadNft(t *testing.T, h *netns.Host, ruleset string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "ruleset.nft")
	if err := os.WriteFile(f, []byte(ruleset), 0o600); err != nil {
		t.Fatal(err)
	}
	h.MustExec(t, "nft", "-f", f)
}

// readIn reads the namespace's ruleset with Read, recording it.
func readIn(t testing.TB, h *netns.Host) (*Ruleset, []byte) {
	t.Helper()
	var rec bytes.Buffer
	var rs *Ruleset
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := h.Do(func() error {
		var err error
		rs, err = Read(ctx, Options{Record: &rec})
		return err
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return rs, rec.Bytes()
}

// oracle is `nft --debug=netlink list ruleset` in the namespace.
func oracle(t *testing.T, h *netns.Host) (listing, string) {
	t.Helper()
	// stdout alone: nft warns on stderr about tables iptables-nft owns.
	var stderr bytes.Buffer
	cmd := h.Command(context.Background(), "nft", "--debug=netlink", "list", "ruleset")
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("nft --debug=netlink list ruleset: %v: %s", err, stderr.Bytes())
	}
	return parseListing(t, string(raw)), string(raw)
}

// checkRoundTrip decodes the recording and wants the live reading.
func checkRoundTrip(t *testing.T, rs *Ruleset, rec []byte) {
	t.Helper()
	dec, err := Decode(bytes.NewReader(rec))
	if err != nil {
		t.Fatalf("Decode of the recording: %v", err)
	}
	if !reflect.DeepEqual(dec, rs) {
		t.Errorf("Decode of the recording differs from the live reading")
	}
}

// Rulesets that exercise every family, hook and expression kind the
// check meets.
var nftRulesets = map[string]string{
	"families": `
table ip t4 {
	chain in { type filter hook input priority 0; policy drop; iifname "lo" accept; ip saddr 192.0.2.0/24 tcp dport 6379 accept; }
	chain fw { type filter hook forward priority -10; policy accept; }
	chain pre { type nat hook prerouting priority -100; tcp dport 16379 dnat to 192.0.2.1:6379; }
	chain post { type nat hook postrouting priority 100; oifname "eth0" masquerade; ip saddr 198.51.100.0/24 snat to 192.0.2.1; }
	chain out { type route hook output priority -150; meta mark set 0x1; }
}
table ip6 t6 {
	chain in { type filter hook input priority 10; policy accept; ip6 nexthdr tcp tcp dport 6379 drop; ip6 saddr 2001:db8::/32 accept; icmpv6 type echo-request accept; }
}
table inet ti {
	chain in { type filter hook input priority filter; policy drop; ct state established,related accept; ct state invalid drop; meta l4proto udp udp dport 53 accept; jump sub; goto sub2; }
	chain sub { tcp flags & (syn|ack) == syn tcp dport 6379 limit rate 10/second burst 5 packets accept; tcp flags syn / fin,syn,rst,ack counter; }
	chain sub2 { quota over 100 mbytes drop; reject with tcp reset; reject with icmpx type admin-prohibited; return; }
}
table netdev tn {
	chain ing { type filter hook ingress device "lo" priority -500; policy accept; ip saddr 203.0.113.0/24 drop; }
}
table bridge tb {
	chain fw { type filter hook forward priority 0; policy accept; ether type ip6 drop; }
}
table arp ta {
	chain in { type filter hook input priority 0; policy accept; }
}
`,
	"sets": `
table inet s {
	set v4 { type ipv4_addr; flags interval; elements = { 192.0.2.0/25, 198.51.100.7, 203.0.113.0-203.0.113.99 } }
	set v6 { type ipv6_addr; flags interval; elements = { 2001:db8:1::/48 } }
	set pair { type ipv4_addr . inet_service; elements = { 192.0.2.1 . 6379, 192.0.2.2 . 22 } }
	set ranges { type ipv4_addr . inet_service; flags interval; elements = { 192.0.2.0/24 . 6379-6380 } }
	set dyn { type ipv4_addr; flags dynamic, timeout; timeout 1m; }
	map ports { type inet_service : ipv4_addr; elements = { 80 : 192.0.2.1, 443 : 192.0.2.2 } }
	map vm { type ipv4_addr : verdict; elements = { 192.0.2.7 : accept, 192.0.2.8 : drop, 192.0.2.9 : jump c2 } }
	chain c { type filter hook input priority 0; policy drop;
		ip saddr @v4 tcp dport { 22, 6379, 16379 } accept
		ip6 saddr @v6 accept
		ip saddr . tcp dport @pair accept
		ip saddr . tcp dport @ranges accept
		ip saddr != @v4 counter
		ip saddr vmap @vm
		ip saddr vmap { 192.0.2.50 : accept, 192.0.2.51 : drop }
		tcp dport { 1000-2000, 3000 } drop
		update @dyn { ip saddr }
		add @dyn { ip saddr timeout 10s }
		tcp dport 6379 ip saddr 192.0.2.0-192.0.2.99 accept
		tcp option maxseg size 1000-1460 accept
		ip6 nexthdr { tcp, udp } accept
		exthdr rt exists drop
		meta skuid 0 accept
		fib daddr type local accept
		log prefix "x: " level warn
		log group 2
		ct mark 0x5 accept
		ct original ip saddr 192.0.2.1 accept
		ip dscp cs1 accept
		tcp dport 6379 meta nfproto ipv4 accept
		ether saddr 02:00:00:00:00:01 accept
	}
	chain c2 { }
}
`,
}

// The rarer expressions: each rule on its own line, so that a ruleset
// line this nft or kernel lacks can be dropped (logged) without losing
// the rest.
var nftRare = []string{
	"add table inet r",
	"add counter inet r cnt",
	"add quota inet r q over 10 mbytes",
	"add limit inet r lim rate 5/second",
	"add chain inet r pre { type filter hook prerouting priority -300; }",
	"add chain inet r c { type filter hook input priority 0; }",
	"add chain inet r o { type route hook output priority 0; }",
	"add chain inet r n { type nat hook prerouting priority -100; }",
	"add chain inet r p { type nat hook postrouting priority 100; }",
	"add chain inet r c2",
	"add table netdev d",
	"add chain netdev d i { type filter hook ingress device lo priority 0; }",
	"add rule inet r c counter name cnt",
	"add rule inet r c quota name q drop",
	"add rule inet r c limit name lim accept",
	"add rule inet r c ct count over 10 drop",
	"add rule inet r c meta mark set numgen inc mod 2",
	"add rule inet r c meta mark set jhash ip saddr mod 4 seed 0xdead",
	"add rule inet r c meta mark set symhash mod 2 offset 100",
	"add rule inet r c queue num 3-5 bypass",
	"add rule inet r c queue flags fanout to 2-3",
	"add rule inet r c ct mark set 0x10",
	"add rule inet r c ct mark set meta mark",
	"add rule inet r c ct helper set \"ftp\"",
	"add rule inet r c ip ttl set 64",
	"add rule inet r c tcp option maxseg size set 1400",
	"add rule inet r c tcp option sack-perm exists drop",
	"add rule inet r c tcp dport 80 tcp option maxseg exists accept",
	"add rule inet r c ip6 hoplimit set 1",
	"add rule inet r c meta l4proto tcp socket transparent 1 accept",
	"add rule inet r c socket mark 0x5 accept",
	"add rule inet r c rt mtu 1400 accept",
	"add rule inet r c fib saddr . iif oif missing drop",
	"add rule inet r c fib daddr . mark type unicast accept",
	"add rule inet r c meta iifname \"eth*\" accept",
	"add rule inet r c meta iif lo accept",
	"add rule inet r c meta pkttype broadcast drop",
	"add rule inet r c meta time \"2026-01-01 00:00\" - \"2027-01-01 00:00\" accept",
	"add rule inet r c meta day \"Monday\" accept",
	"add rule inet r c meta cpu 1 accept",
	"add rule inet r c ip dscp set cs1",
	"add rule inet r c ip option ra exists drop",
	"add rule inet r c ip6 nexthdr ipv6-frag drop",
	"add rule inet r c frag more-fragments 1 drop",
	"add rule inet r c exthdr hbh exists drop",
	"add rule inet r c sctp dport 5000 accept",
	"add rule inet r c udplite dport 5000 accept",
	"add rule inet r c icmp type echo-request limit rate over 10/minute burst 3 packets drop",
	"add rule inet r c limit rate 1 mbytes/second accept",
	"add rule inet r c log flags all",
	"add rule inet r c log level emerg prefix \"p \" flags tcp sequence,options",
	"add rule inet r c reject with icmpv6 type no-route",
	"add rule inet r c meta nfproto ipv4 reject with icmp type host-unreachable",
	"add rule inet r c ip saddr 192.0.2.0/24 synproxy mss 1460 wscale 7 timestamp sack-perm",
	"add rule inet r c ct state new ct original ip saddr 192.0.2.1 ct direction reply accept",
	"add rule inet r c ct zone 3 ct l3proto ipv4 ct protocol tcp ct original proto-dst 22 accept",
	"add rule inet r c ct status dnat accept",
	"add rule inet r c ct expiration 5s accept",
	"add rule inet r c ct label 1 accept",
	"add rule inet r c ct bytes > 1000 accept",
	"add rule inet r c ct avgpkt < 100 accept",
	"add rule inet r c ct event set new,destroy",
	"add rule inet r c ip saddr & 255.255.0.0 == 192.0.0.0 accept",
	"add rule inet r c meta mark & 0xff00 != 0 accept",
	"add rule inet r c meta mark set meta mark << 8",
	"add rule inet r c ip protocol != { tcp, udp } drop",
	"add rule inet r c th dport 9 drop",
	"add rule inet r c ip saddr vmap { 192.0.2.1 : goto c2, 192.0.2.2 : return }",
	"add rule inet r c tcp dport 1-1023 counter continue",
	"add rule inet r pre meta l4proto tcp tproxy ip to 192.0.2.1:50080",
	"add rule inet r pre notrack",
	"add rule inet r pre meta nftrace set 1",
	"add rule inet r n tcp dport 80 redirect to :8080",
	"add rule inet r n tcp dport 81 dnat ip to 192.0.2.1-192.0.2.9:8000-8010",
	"add rule inet r p meta oifname eth0 meta l4proto tcp masquerade to :1024-2048 random,persistent",
	"add rule inet r p ip saddr 192.0.2.0/24 snat ip to 198.51.100.1 fully-random",
	"add rule inet r p ip6 saddr 2001:db8::/32 tcp dport 80 snat ip6 to [2001:db8::1]:1000",
	"add rule netdev d i ether saddr 02:00:00:00:00:01 drop",
	"add rule netdev d i vlan id 10 accept",
	"add rule netdev d i ip saddr 192.0.2.1 fwd to lo",
	"add rule netdev d i ip daddr 192.0.2.3 dup to lo",
	"add rule inet r c meta secpath exists accept",
	"add rule inet r c ipsec in reqid 1 accept",
	"add rule inet r c osf name \"Linux\" accept",
	"add rule inet r c meta cgroup 1 accept",
	"add rule inet r c meta skgid 0 accept",
	"add rule inet r c ip6 daddr ::1 ip6 nexthdr icmpv6 icmpv6 type nd-neighbor-solicit accept",
	"add rule inet r c tcp flags & (fin|syn|rst|ack) == syn accept",
	"add rule inet r c tcp flags != syn / syn,ack drop",
}

func TestDifferentialNftRare(t *testing.T) {
	h := fwHost(t)
	loaded := loadRare(t, h)
	rs, rec := readIn(t, h)
	want, _ := oracle(t, h)
	compareListing(t, rs, want)
	checkRoundTrip(t, rs, rec)
	unknown := 0
	for _, r := range rs.Rules {
		for _, e := range r.Exprs {
			if u, ok := e.(*Unknown); ok {
				unknown++
				t.Logf("rule %s: expression %s kept raw (%s)", r.Header(), u.ExprName, u.Err)
			}
		}
	}
	t.Logf("%d of %d lines loaded; %d rules compared; %d unknown expressions", loaded, len(nftRare), len(want.rules), unknown)
}

func loadRare(t *testing.T, h *netns.Host) int {
	t.Helper()
	loaded := 0
	for _, line := range nftRare {
		f := filepath.Join(t.TempDir(), "line.nft")
		if err := os.WriteFile(f, []byte(line+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := h.Exec(context.Background(), "nft", "-f", f); err != nil {
			t.Logf("skipped (this nft or kernel lacks it): %s: %s", line, bytes.TrimSpace(out))
			continue
		}
		loaded++
	}
	return loaded
}

func TestDifferentialNft(t *testing.T) {
	for name, rules := range nftRulesets {
		t.Run(name, func(t *testing.T) {
			h := fwHost(t)
			loadNft(t, h, rules)
			rs, rec := readIn(t, h)
			want, _ := oracle(t, h)
			compareListing(t, rs, want)
			checkRoundTrip(t, rs, rec)
		})
	}
}

// iptables-nft rules, added one by one; a match the host's xtables lacks
// is skipped (logged), not failed.
var iptRules = map[string][][]string{
	"iptables-nft": {
		{"-A", "INPUT", "-p", "tcp", "-m", "multiport", "--dports", "22,6379", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "state", "--state", "NEW", "-p", "tcp", "--dport", "6379", "-s", "192.0.2.0/24", "-j", "ACCEPT"},
		{"-A", "INPUT", "-p", "tcp", "--dport", "6379", "-m", "comment", "--comment", "redis from the app", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "iprange", "--src-range", "192.0.2.10-192.0.2.20", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "mac", "--mac-source", "02:00:00:00:00:01", "-j", "DROP"},
		{"-A", "INPUT", "-m", "mark", "--mark", "0x1/0xff", "-j", "ACCEPT"},
		{"-A", "INPUT", "-p", "tcp", "--syn", "-m", "limit", "--limit", "10/s", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "hashlimit", "--hashlimit-upto", "5/sec", "--hashlimit-name", "h", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "recent", "--name", "r", "--rcheck", "--seconds", "60", "-j", "DROP"},
		{"-A", "INPUT", "-p", "tcp", "--dport", "6379", "-m", "connlimit", "--connlimit-above", "10", "-j", "REJECT", "--reject-with", "tcp-reset"},
		{"-A", "INPUT", "-m", "time", "--timestart", "09:00", "--timestop", "17:00", "-j", "ACCEPT"},
		{"-A", "OUTPUT", "-m", "owner", "--uid-owner", "0", "-j", "ACCEPT"},
		{"-A", "INPUT", "-p", "tcp", "--tcp-flags", "SYN,ACK", "SYN", "-j", "LOG", "--log-prefix", "syn: "},
		{"-A", "INPUT", "-p", "udp", "-j", "REJECT", "--reject-with", "icmp-port-unreachable"},
		{"-A", "INPUT", "-i", "eth0", "!", "-s", "203.0.113.0/24", "-j", "DROP"},
		{"-N", "SUB"},
		{"-A", "INPUT", "-j", "SUB"},
		{"-A", "SUB", "-j", "RETURN"},
		{"-P", "INPUT", "DROP"},
		{"-t", "nat", "-A", "PREROUTING", "-p", "tcp", "--dport", "16379", "-j", "DNAT", "--to-destination", "192.0.2.1:6379"},
		{"-t", "nat", "-A", "POSTROUTING", "-o", "eth0", "-j", "MASQUERADE"},
	},
	"ip6tables-nft": {
		{"-A", "INPUT", "-p", "tcp", "-m", "multiport", "--dports", "22,6379", "-j", "ACCEPT"},
		{"-A", "INPUT", "-s", "2001:db8::/32", "-p", "tcp", "--dport", "6379", "-j", "ACCEPT"},
		{"-A", "INPUT", "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP"},
		{"-A", "INPUT", "-p", "ipv6-icmp", "-j", "ACCEPT"},
		{"-A", "INPUT", "-j", "REJECT", "--reject-with", "icmp6-adm-prohibited"},
	},
}

func TestDifferentialIptablesNft(t *testing.T) {
	h := fwHost(t)
	loadIptables(t, h)
	rs, rec := readIn(t, h)
	want, _ := oracle(t, h)
	compareListing(t, rs, want)
	checkRoundTrip(t, rs, rec)
}

func loadIptables(t *testing.T, h *netns.Host) {
	t.Helper()
	for tool, rules := range iptRules {
		testenv.RequireTool(t, tool)
		for _, r := range rules {
			if out, err := h.Exec(context.Background(), append([]string{tool, "-w"}, r...)...); err != nil {
				t.Logf("%s %s: skipped: %v: %s", tool, strings.Join(r, " "), err, out)
			}
		}
	}
	// ipset's set match, through the set created first.
	if _, err := h.Exec(context.Background(), "ipset", "create", "allow", "hash:net"); err == nil {
		h.MustExec(t, "iptables-nft", "-w", "-A", "INPUT", "-m", "set", "--match-set", "allow", "src", "-j", "ACCEPT")
		t.Cleanup(func() {
			h.Exec(context.Background(), "iptables-nft", "-w", "-F")
			h.Exec(context.Background(), "ipset", "destroy", "allow")
		})
	}
}

// The corpus and scenario rulesets: each setup.sh that needs only the
// tools runs; the others (a daemon or a downloaded tool) load their saved
// iptables-nft dumps, or nft's JSON listing when nft alone wrote them.
func TestDifferentialCorpus(t *testing.T) {
	dirs, _ := filepath.Glob(testenv.Testdata(t, "firewall", "corpus", "*", "setup.sh"))
	more, _ := filepath.Glob(testenv.Testdata(t, "firewall", "scenarios", "*", "setup.sh"))
	for _, s := range append(dirs, more...) {
		dir := filepath.Dir(s)
		t.Run(filepath.Base(filepath.Dir(dir))+"/"+filepath.Base(dir), func(t *testing.T) {
			h := fwHost(t)
			body, _ := os.ReadFile(s)
			saved := false
			for _, needs := range []string{"FERM", "CORPUS_SW", "ufw ", "firewall-cmd", "firewalld", "fail2ban", "dockerd", "fw3"} {
				saved = saved || bytes.Contains(body, []byte(needs))
			}
			if saved {
				loadSaved(t, h, dir)
			} else {
				abs, _ := filepath.Abs(dir)
				cmd := h.Command(context.Background(), "sh", "-c", fmt.Sprintf("cd %q && sh setup.sh", abs))
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("setup.sh: %v: %s", err, out)
				}
			}
			rs, rec := readIn(t, h)
			want, _ := oracle(t, h)
			compareListing(t, rs, want)
			checkRoundTrip(t, rs, rec)
			t.Logf("%d rules, %d sets compared", len(want.rules), len(want.sets))
		})
	}
}

func loadSaved(t *testing.T, h *netns.Host, dir string) {
	t.Helper()
	loaded := false
	for file, tool := range map[string]string{"iptables-nft.save": "iptables-nft-restore", "ip6tables-nft.save": "ip6tables-nft-restore"} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil || !bytes.Contains(append([]byte("\n"), b...), []byte("\n*")) {
			continue
		}
		cmd := h.Command(context.Background(), tool)
		cmd.Stdin = bytes.NewReader(b)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s < %s: %v: %s", tool, file, err, out)
		}
		loaded = true
	}
	if !loaded {
		h.MustExec(t, "nft", "-j", "-f", filepath.Join(dir, "nft.json"))
	}
}

// The seeded rulesets of the firewall differential test: nft text, then
// iptables-nft-restore input after a marker line.
func TestDifferentialSeeds(t *testing.T) {
	files, _ := filepath.Glob(testenv.Testdata(t, "firewall", "differential", "*.nft"))
	if len(files) == 0 {
		t.Fatal("no seeded rulesets found")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			h := fwHost(t)
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			parts := map[string]*strings.Builder{"nft": {}}
			cur := parts["nft"]
			for _, line := range strings.SplitAfter(string(b), "\n") {
				switch strings.TrimSpace(line) {
				case "# iptables-nft-restore":
					parts["iptables-nft-restore"] = &strings.Builder{}
					cur = parts["iptables-nft-restore"]
					continue
				case "# ip6tables-nft-restore":
					parts["ip6tables-nft-restore"] = &strings.Builder{}
					cur = parts["ip6tables-nft-restore"]
					continue
				}
				cur.WriteString(line)
			}
			loadNft(t, h, parts["nft"].String())
			for tool, p := range parts {
				if tool == "nft" {
					continue
				}
				cmd := h.Command(context.Background(), tool)
				cmd.Stdin = strings.NewReader(p.String())
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s: %v: %s", tool, err, out)
				}
			}
			rs, rec := readIn(t, h)
			want, _ := oracle(t, h)
			compareListing(t, rs, want)
			checkRoundTrip(t, rs, rec)
			t.Logf("%d rules, %d sets compared", len(want.rules), len(want.sets))
		})
	}
}

func TestReadHonoursContext(t *testing.T) {
	h := fwHost(t)
	loadNft(t, h, nftRulesets["families"])
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := h.Do(func() error {
		_, err := Read(ctx, Options{})
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled context: %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	err = h.Do(func() error {
		_, err := Read(ctx, Options{})
		return err
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Read past its deadline: %v, want context.DeadlineExceeded", err)
	}
}

// Rules added while Read runs: every reading is one generation's (each
// rule's position is the handle of the rule before it, and all 3000
// loaded rules are there), or ErrGenerationChanged.
func TestReadRacesChanges(t *testing.T) {
	h := fwHost(t)
	var b strings.Builder
	b.WriteString("table ip r {\n\tchain c {\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "\t\tip saddr 192.0.2.%d tcp dport %d accept\n", i%250+1, 1000+i)
	}
	b.WriteString("\t}\n}\n")
	loadNft(t, h, b.String())
	done, stop := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 400; i++ {
			select {
			case <-stop:
				return
			default:
			}
			h.Exec(context.Background(), "nft", "add", "rule", "ip", "r", "c", "counter")
		}
	}()
	reads, raced, maxAdded, sinkReads := 0, 0, 0, 0
	// After the changes stop, readings go on until both kinds succeeded.
	for running := true; (running || sinkReads == 0 || reads == sinkReads) && reads+raced < 500; {
		select {
		case <-done:
			running = false
		default:
		}
		if reads-sinkReads >= 3 && sinkReads >= 3 {
			close(stop)
			break
		}
		// Every other reading hands its rules to a sink chain by chain:
		// what the sink holds at End must be one snapshot too.
		var rs *Ruleset
		var sink *collectSink
		if (reads+raced)%2 == 1 {
			sink = &collectSink{}
		}
		err := h.Do(func() error {
			var err error
			o := Options{}
			if sink != nil {
				o.Sink = sink
			}
			rs, err = Read(context.Background(), o)
			return err
		})
		if err == nil && sink != nil {
			if len(rs.Rules) != 0 || !sink.ended {
				t.Fatalf("with a sink: %d rules returned, ended %v", len(rs.Rules), sink.ended)
			}
			rs.Rules = sink.rules
			sinkReads++
		}
		if errors.Is(err, ErrGenerationChanged) {
			raced++
			continue
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		reads++
		added := 0
		for i, r := range rs.Rules {
			if len(r.Exprs) == 1 {
				added++
			}
			if i > 0 && r.Position != rs.Rules[i-1].Handle {
				t.Fatalf("generation %d: rule %d has position %d after rule %d: not one snapshot", rs.Generation, r.Handle, r.Position, rs.Rules[i-1].Handle)
			}
		}
		if got := len(rs.Rules) - added; got != 3000 {
			t.Fatalf("generation %d: %d of the 3000 loaded rules", rs.Generation, got)
		}
		maxAdded = max(maxAdded, added)
	}
	<-done
	t.Logf("%d consistent readings (%d through a sink; up to %d rules added), %d gave up after 3 changed attempts", reads, sinkReads, maxAdded, raced)
	if reads == 0 || sinkReads == 0 {
		t.Errorf("no reading succeeded while rules were added (%d, %d through a sink)", reads, sinkReads)
	}
}

// collectSink keeps what a reading hands it, starting over at each
// attempt.
type collectSink struct {
	rules []*Rule
	ended bool
}

func (s *collectSink) Begin(rs *Ruleset) error {
	if len(rs.Rules) != 0 {
		return fmt.Errorf("Begin with %d rules", len(rs.Rules))
	}
	s.rules, s.ended = nil, false
	return nil
}

func (s *collectSink) Rules(rules []*Rule) error {
	s.rules = append(s.rules, rules...)
	return nil
}

func (s *collectSink) End(*Ruleset) error {
	s.ended = true
	return nil
}
