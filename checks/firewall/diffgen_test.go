package firewall

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"strings"
)

// randRuleset is a random nft ruleset for the differential test: tables
// of chains of rules, each rule a list of match atoms and a verdict, so
// that a failing ruleset can be shrunk rule by rule.
type randRuleset struct {
	tables []*randTable
}

type randTable struct {
	family string // ip, ip6, inet
	name   string
	chains []*randChain
}

type randChain struct {
	name   string
	base   bool
	hook   string // of a base chain: input or prerouting
	prio   int
	policy string
	rules  []string
}

// iptables-nft-restore input follows the nft text after these markers.
var iptMarkers = map[string]string{"ipt4": "# iptables-nft-restore", "ipt6": "# ip6tables-nft-restore"}

func (rs *randRuleset) String() string {
	var b strings.Builder
	for _, t := range rs.tables {
		if _, ok := iptMarkers[t.family]; ok {
			continue
		}
		fmt.Fprintf(&b, "table %s %s {\n", t.family, t.name)
		if t.family != "ip6" {
			fmt.Fprintf(&b, "\tset src4 { type ipv4_addr; flags interval; elements = { 192.0.2.0/25, 203.0.113.0/24 } }\n")
			fmt.Fprintf(&b, "\tset dyn4 { type ipv4_addr; size 65535; flags dynamic; }\n")
		}
		if t.family != "ip" {
			fmt.Fprintf(&b, "\tset src6 { type ipv6_addr; flags interval; elements = { 2001:db8:1::/48 } }\n")
			fmt.Fprintf(&b, "\tset dyn6 { type ipv6_addr; size 65535; flags dynamic,timeout; timeout 1m; }\n")
		}
		for _, c := range t.chains {
			fmt.Fprintf(&b, "\tchain %s {\n", c.name)
			if c.base {
				fmt.Fprintf(&b, "\t\ttype filter hook %s priority %d; policy %s;\n", cmp.Or(c.hook, "input"), c.prio, c.policy)
			}
			for _, r := range c.rules {
				fmt.Fprintf(&b, "\t\t%s\n", r)
			}
			b.WriteString("\t}\n")
		}
		b.WriteString("}\n")
	}
	// The iptables-nft tables of a family go in one restore input.
	for _, fam := range []string{"ipt4", "ipt6"} {
		marked := false
		for _, t := range rs.tables {
			if t.family != fam {
				continue
			}
			if !marked {
				b.WriteString(iptMarkers[fam] + "\n")
				marked = true
			}
			fmt.Fprintf(&b, "*%s\n", t.name)
			for _, c := range t.chains {
				pol := "-"
				if c.base {
					pol = strings.ToUpper(c.policy)
				}
				fmt.Fprintf(&b, ":%s %s [0:0]\n", c.name, pol)
			}
			for _, c := range t.chains {
				for _, r := range c.rules {
					fmt.Fprintf(&b, "-A %s %s\n", c.name, r)
				}
			}
			b.WriteString("COMMIT\n")
		}
	}
	return b.String()
}

// clone copies the ruleset deeply enough to drop rules from the copy.
func (rs *randRuleset) clone() *randRuleset {
	out := &randRuleset{}
	for _, t := range rs.tables {
		nt := &randTable{family: t.family, name: t.name}
		for _, c := range t.chains {
			nc := *c
			nc.rules = append([]string(nil), c.rules...)
			nt.chains = append(nt.chains, &nc)
		}
		out.tables = append(out.tables, nt)
	}
	return out
}

// Match atoms by the family of table they fit in ("" fits every one).
var genAtoms = []struct {
	fam  string
	atom string
}{
	{"ip", "ip saddr 192.0.2.0/25"}, {"ip", "ip saddr 192.0.2.128/25"}, {"ip", "ip saddr != 198.51.100.0/24"},
	{"ip", "ip saddr @src4"}, {"ip", "ip saddr 192.0.2.2"}, {"ip", "ip protocol tcp"}, {"ip", "ip protocol != tcp"},
	{"ip", "ip dscp cs1"}, {"ip", "ip dscp != cs0"}, {"ip", "ip ecn ect0"}, {"ip", "ip ecn not-ect"}, {"ip", "ip ttl < 5"},
	{"ip", "ip length > 44"}, {"ip", "ip hdrlength 5"},
	{"ip6", "ip6 saddr 2001:db8::/64"}, {"ip6", "ip6 saddr != 2001:db8:1::/48"}, {"ip6", "ip6 saddr @src6"},
	{"ip6", "ip6 nexthdr tcp"}, {"ip6", "ip6 nexthdr != tcp"}, {"ip6", "ip6 nexthdr { 0, 60 }"}, {"ip6", "ip6 nexthdr 44"},
	{"ip6", "exthdr dst exists"}, {"ip6", "exthdr hbh exists"}, {"ip6", "exthdr frag exists"}, {"ip6", "exthdr rt missing"},
	{"ip6", "ip6 nexthdr tcp tcp dport 6379"}, {"ip6", "ip6 nexthdr 6 tcp dport != 6380"},
	{"ip6", "ip6 hoplimit 1"}, {"ip6", "ip6 dscp af11"}, {"ip6", "ip6 ecn ect0"},
	{"", "tcp dport 6379"}, {"", "tcp dport != 6379"}, {"", "tcp dport { 6379, 6380 }"}, {"", "tcp dport 6380"},
	{"", "th dport 6379"}, {"", "meta l4proto tcp"}, {"", "meta l4proto != tcp"},
	{"", "tcp flags == syn"}, {"", "tcp flags != syn"}, {"", "tcp flags & (syn | ack) == syn"},
	{"", "tcp flags & (syn | ack | ecn) == syn"}, {"", "tcp flags & (fin | syn | rst | ack) == syn"},
	{"", "tcp flags & (ecn | cwr) == ecn | cwr"}, {"", "tcp flags & psh == psh"}, {"", "tcp flags & urg != 0"},
	{"", "tcp flags syn / syn,ack"}, {"", "tcp option maxseg exists"},
	{"", "ct state new"}, {"", "ct state established,related"}, {"", "ct state invalid"}, {"", "ct state != new"},
	{"", "iifname eth0"}, {"", "iifname != eth0"}, {"inet:ip", "meta nfproto ipv4"}, {"inet:ip6", "meta nfproto ipv6"},
	{"", "limit rate 1/minute burst 1 packets"}, {"", "limit rate over 1/minute burst 1 packets"},
	{"", "ct count over 1000"}, {"", "meta length > 60"},
	{"ip", "add @dyn4 { ip saddr ct count over 1000 }"}, {"ip6", "update @dyn6 { ip6 saddr limit rate over 1/minute burst 1 packets }"},
	{"", `meta hour "00:00"-"12:00"`}, {"", "meta day != { Saturday, Sunday }"}, {"", "ct state untracked"},
	// The way in: probes come by eth0 and eth1, none by lo, and nosuch0
	// does not exist ("iif" wants an interface that does, "iifname" not).
	{"", "iifname eth1"}, {"", "iifname != eth1"}, {"", "iif eth0"}, {"", "iif eth1"}, {"", "iif != eth1"},
	{"", "meta iif lo"}, {"", `meta iifname "eth*"`}, {"", `iifname { "eth1", "nosuch0" }`}, {"", `iifname "nosuch0"`},
	{"", "iif { lo, eth1 }"}, {"", `iifname != { "lo", "eth0" }`}, {"", `oifname != "eth0"`},
	// The way back (strict reverse path) and the address types.
	{"", "fib saddr . iif oif missing"}, {"", "fib saddr . iif oif exists"},
	{"", "fib daddr type local"}, {"", "fib daddr type != local"}, {"", "fib daddr type { unicast, broadcast }"},
	{"", "fib saddr type unicast"}, {"", "fib saddr type local"}, {"", "fib saddr type != unicast"},
	{"", "fib daddr . iif type local"}, {"", "fib daddr . iif type != local"},
}

var genVerdicts = []string{"accept", "accept", "drop", "drop", "reject", "reject with tcp reset", "counter", "return", "continue"}

// genRandom builds a ruleset from the seed.
func genRandom(seed uint64) *randRuleset {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	rs := &randRuleset{}
	fams := []string{"ip", "ip6", "inet"}
	for ti := range 1 + r.IntN(2) {
		t := &randTable{family: fams[r.IntN(len(fams))], name: fmt.Sprintf("t%d", ti)}
		nbase, nreg := 1+r.IntN(2), r.IntN(3)
		for ci := range nbase + nreg {
			c := &randChain{name: fmt.Sprintf("c%d", ci), base: ci < nbase}
			if c.base {
				c.hook, c.prio = "input", r.IntN(21)-10
				if r.IntN(3) == 0 {
					// Reverse-path matches are written in prerouting,
					// some before conntrack (raw, -300), some after.
					c.hook = "prerouting"
					c.prio = []int{-300, -150, c.prio, c.prio}[r.IntN(4)]
				}
				c.policy = []string{"accept", "drop"}[r.IntN(2)]
			}
			for range 1 + r.IntN(6) {
				// One rule reads one network family's headers.
				rf := t.family
				if rf == "inet" {
					rf = []string{"ip", "ip6"}[r.IntN(2)]
				}
				var atoms []string
				for range r.IntN(3) {
					a := genAtoms[r.IntN(len(genAtoms))]
					if a.fam == "" || a.fam == rf || (t.family == "inet" && a.fam == "inet:"+rf) {
						atoms = append(atoms, a.atom)
					}
				}
				v := genVerdicts[r.IntN(len(genVerdicts))]
				// Jumps and gotos go only to later chains: no loops.
				if lo := max(ci+1, nbase); lo < nbase+nreg && r.IntN(3) == 0 {
					v = []string{"jump", "goto"}[r.IntN(2)] + fmt.Sprintf(" c%d", lo+r.IntN(nbase+nreg-lo))
				}
				if v == "return" && c.base {
					v = "accept"
				}
				c.rules = append(c.rules, strings.TrimSpace(strings.Join(atoms, " ")+" "+v))
			}
			t.chains = append(t.chains, c)
		}
		rs.tables = append(rs.tables, t)
	}
	for _, fam := range []string{"ipt4", "ipt6"} {
		if r.IntN(3) == 0 {
			genIpt(r, rs, fam)
		}
	}
	return rs
}

// splitCase cuts a ruleset's text into the nft part and the
// iptables-nft-restore inputs by family marker.
func splitCase(text string) (nft string, ipt map[string]string) {
	ipt = map[string]string{}
	cur, key := &strings.Builder{}, ""
	flush := func() {
		if key == "" {
			nft = cur.String()
		} else {
			ipt[key] = cur.String()
		}
	}
	for _, line := range strings.SplitAfter(text, "\n") {
		found := ""
		for k, m := range iptMarkers {
			if strings.TrimSpace(line) == m {
				found = k
			}
		}
		if found != "" {
			flush()
			cur, key = &strings.Builder{}, found
			continue
		}
		cur.WriteString(line)
	}
	flush()
	return nft, ipt
}

var iptAtoms = map[string][]string{
	"ipt4": {"-s 192.0.2.0/25", "! -s 198.51.100.0/24", "-s 203.0.113.0/24", "-m ttl --ttl-lt 5",
		"-m dscp --dscp 8", "-m ecn --ecn-ip-ect 1", "-m length --length 0:44"},
	"ipt6": {"-s 2001:db8::/64", "! -s 2001:db8:1::/48", "-m ipv6header --header dst --soft",
		"-m frag --fragid 0:4294967295", "-m hbh", "-m dst", "-m rt --rt-type 0", "-m hl --hl-eq 1"},
	"": {"-m conntrack --ctstate NEW", "-m conntrack --ctstate RELATED,ESTABLISHED", "-i eth0", "! -i eth0",
		"-m limit --limit 1/min --limit-burst 1", "-m recent --name r --rcheck", "-m recent --name r --set",
		"-m hashlimit --hashlimit-upto 1/min --hashlimit-burst 1 --hashlimit-name h",
		"-i eth1", "! -i eth1", "-i eth+", "-i lo", "! -i lo", "-i nosuch0",
		"-m addrtype --dst-type LOCAL", "-m addrtype ! --dst-type LOCAL", "-m addrtype --dst-type UNICAST",
		"-m addrtype ! --dst-type UNICAST", "-m addrtype --src-type UNICAST", "-m addrtype ! --src-type LOCAL",
		"-m addrtype --dst-type LOCAL --limit-iface-in", "-m addrtype ! --dst-type LOCAL --limit-iface-in"},
}

// iptRawAtoms are the reverse-path matches, which iptables takes in the
// raw and mangle PREROUTING chains only.
var iptRawAtoms = []string{"-m rpfilter", "-m rpfilter --invert", "-m rpfilter --loose", "-m rpfilter --loose --invert",
	"-m rpfilter --accept-local", "-m rpfilter --invert --validmark"}

var iptTCPAtoms = []string{"-m tcp --dport 6379", "-m tcp ! --dport 6379", "-m multiport --dports 6379,6380",
	"-m tcp --tcp-flags ALL SYN", "-m tcp --syn", "-m tcp --tcp-flags SYN,ACK SYN", "-m ecn --ecn-tcp-ece --ecn-tcp-cwr",
	"-m tcp --tcp-option 2", "-m tcp ! --tcp-flags PSH PSH"}

// genIpt adds an iptables-nft filter table of one family to rs, and
// sometimes a raw one whose PREROUTING chain filters by reverse path.
func genIpt(r *rand.Rand, rs *randRuleset, fam string) {
	t := &randTable{family: fam, name: "filter"}
	in := &randChain{name: "INPUT", base: true, policy: []string{"accept", "drop"}[r.IntN(2)]}
	u := &randChain{name: "U"}
	for ci, c := range []*randChain{in, u} {
		for range 1 + r.IntN(5) {
			targets := []string{"ACCEPT", "ACCEPT", "DROP", "REJECT", "RETURN"}
			if ci == 0 {
				targets = append(targets, "U")
			}
			c.rules = append(c.rules, genIptRule(r, fam, nil, targets, "REJECT --reject-with tcp-reset"))
		}
	}
	t.chains = []*randChain{in, u}
	rs.tables = append(rs.tables, t)
	if r.IntN(2) == 0 {
		pre := &randChain{name: "PREROUTING", base: true, policy: []string{"accept", "accept", "drop"}[r.IntN(3)]}
		for range 1 + r.IntN(4) {
			pre.rules = append(pre.rules, genIptRule(r, fam, iptRawAtoms, []string{"ACCEPT", "DROP", "DROP", "RETURN", "CT --notrack"}, ""))
		}
		rs.tables = append(rs.tables, &randTable{family: fam, name: "raw", chains: []*randChain{pre}})
	}
}

// genIptRule is one rule: matches of the family's, the common and the
// extra atoms (the extra ones half the time), and one of the targets
// (tcpTarget too when the rule is for TCP).
func genIptRule(r *rand.Rand, fam string, extra, targets []string, tcpTarget string) string {
	var parts []string
	tcp := r.IntN(10) < 7
	if tcp {
		parts = append(parts, "-p tcp")
	}
	once := map[string]bool{}
	for range r.IntN(3) {
		var a string
		switch {
		case len(extra) > 0 && r.IntN(2) == 0:
			a = extra[r.IntN(len(extra))]
		case tcp && r.IntN(2) == 0:
			a = iptTCPAtoms[r.IntN(len(iptTCPAtoms))]
		default:
			pool := append(append([]string(nil), iptAtoms[fam]...), iptAtoms[""]...)
			a = pool[r.IntN(len(pool))]
		}
		// iptables takes one -i and one -s a rule.
		if opt, _, _ := strings.Cut(strings.TrimPrefix(a, "! "), " "); opt == "-i" || opt == "-s" {
			if once[opt] {
				continue
			}
			once[opt] = true
		}
		parts = append(parts, a)
	}
	if tcp && tcpTarget != "" {
		targets = append(targets, tcpTarget)
	}
	parts = append(parts, "-j "+targets[r.IntN(len(targets))])
	return strings.Join(parts, " ")
}
