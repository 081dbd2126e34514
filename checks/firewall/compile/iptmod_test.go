package compile

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/ipset"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
)

// moduleCase is one rule's last "-m module" and the conditions it
// compiles to; unknown, when set, is the start of the reason of the one
// unknown condition the module gives up with instead.
type moduleCase struct {
	name    string
	fam     eval.Family
	rule    string
	want    []eval.Cond
	unknown string
}

// compileLastModule parses "-A INPUT RULE -j ACCEPT" as iptables-save
// prints it and compiles its last module, with the rule's -p, the way
// ruleConds does.
func compileLastModule(t *testing.T, fam eval.Family, rule string) []eval.Cond {
	t.Helper()
	d, err := iptsave.Parse(strings.NewReader("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT " + rule + " -j ACCEPT\nCOMMIT\n"))
	if err != nil {
		t.Fatalf("%s: %v", rule, err)
	}
	sets, err := ipset.Parse(strings.NewReader("create trusted hash:net family inet hashsize 1024 maxelem 65536\nadd trusted 192.0.2.0/24\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := newIptCompiler(compileIPSets(Dump[ipset.Dump]{Value: sets, Name: "ipset"}))
	r := d.Tables[0].Rules[0]
	proto := ""
	for _, o := range r.Matches[0].Options {
		if o.Name == "-p" && !o.Neg {
			proto = o.Values[0]
		}
	}
	last := r.Matches[len(r.Matches)-1]
	if last.Module == "" {
		t.Fatalf("%s: no module", rule)
	}
	return c.moduleConds(nil, last, fam, proto, "test")
}

func runModuleCases(t *testing.T, cases []moduleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := compileLastModule(t, tc.fam, tc.rule)
			if tc.unknown != "" {
				if len(got) != 1 {
					t.Fatalf("%s: got %#v, want one unknown", tc.rule, got)
				}
				k, ok := got[0].(eval.Const)
				if !ok || k.Value != eval.Unknown || !strings.HasPrefix(k.Reason, tc.unknown) {
					t.Fatalf("%s: got %#v, want unknown %q…", tc.rule, got[0], tc.unknown)
				}
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s:\n got %#v\nwant %#v", tc.rule, got, tc.want)
			}
		})
	}
}

func ports(rs ...eval.PortRange) []eval.PortRange { return rs }

func addr(field eval.AddrField, fam eval.Family, neg bool, from, to string) eval.Cond {
	return eval.NewAddr(field, fam, neg, netipx.IPRangeFrom(netip.MustParseAddr(from), netip.MustParseAddr(to)))
}

var tcpProto = eval.Proto{Protos: []uint8{6}}

func TestPortModules(t *testing.T) {
	p6379 := ports(eval.PortRange{Lo: 6379, Hi: 6379})
	runModuleCases(t, []moduleCase{
		{"tcp dport", eval.IPv4, "-p tcp -m tcp --dport 6379",
			[]eval.Cond{eval.Port{Field: eval.DPort, Protos: []uint8{6}, Ranges: p6379}, tcpProto}, ""},
		{"tcp negated sport range", eval.IPv4, "-p tcp -m tcp ! --sport 1024:65535",
			[]eval.Cond{eval.Port{Field: eval.SPort, Protos: []uint8{6}, Ranges: ports(eval.PortRange{Lo: 1024, Hi: 65535}), Neg: true}, tcpProto}, ""},
		{"tcp long option names", eval.IPv4, "-p tcp -m tcp --source-port 1 --destination-port 6379",
			[]eval.Cond{eval.Port{Field: eval.SPort, Protos: []uint8{6}, Ranges: ports(eval.PortRange{Lo: 1, Hi: 1})},
				eval.Port{Field: eval.DPort, Protos: []uint8{6}, Ranges: p6379}, tcpProto}, ""},
		{"tcp --syn", eval.IPv4, "-p tcp -m tcp --syn",
			[]eval.Cond{eval.TCPFlags{Mask: eval.TCPFin | eval.TCPSyn | eval.TCPRst | eval.TCPAck, Comp: eval.TCPSyn}, tcpProto}, ""},
		{"tcp ! --syn", eval.IPv4, "-p tcp -m tcp ! --syn",
			[]eval.Cond{eval.TCPFlags{Mask: eval.TCPFin | eval.TCPSyn | eval.TCPRst | eval.TCPAck, Comp: eval.TCPSyn, Neg: true}, tcpProto}, ""},
		{"tcp --tcp-flags as -save prints them", eval.IPv4, "-p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN",
			[]eval.Cond{eval.TCPFlags{Mask: eval.TCPFin | eval.TCPSyn | eval.TCPRst | eval.TCPAck, Comp: eval.TCPSyn}, tcpProto}, ""},
		{"tcp --tcp-option: the client's", eval.IPv4, "-p tcp -m tcp --tcp-option 8",
			[]eval.Cond{chosenHeader("TCP options", false), tcpProto}, ""},
		{"tcp ! --tcp-option", eval.IPv4, "-p tcp -m tcp ! --tcp-option 8",
			[]eval.Cond{chosenHeader("TCP options", true), tcpProto}, ""},
		{"tcp bad flag", eval.IPv4, "-p tcp -m tcp --tcp-flags FIN,BOGUS SYN", nil, "test: -m tcp --tcp-flags: "},
		{"tcp bad port", eval.IPv4, "-p tcp -m tcp --dport redis-ish", nil, "test: -m tcp --dport: "},
		{"tcp unknown option", eval.IPv4, "-p tcp -m tcp --frobnicate 1", nil, "test: -m tcp: option --frobnicate not understood"},
		{"udp dport", eval.IPv6, "-p udp -m udp --dport 6379",
			[]eval.Cond{eval.Port{Field: eval.DPort, Protos: []uint8{17}, Ranges: p6379}, eval.Proto{Protos: []uint8{17}}}, ""},
		{"sctp known but not modelled", eval.IPv4, "-p sctp -m sctp --chunk-types any INIT", nil, "test: -m sctp: option --chunk-types not modelled"},
		{"multiport dports", eval.IPv4, "-p tcp -m multiport --dports 6379,16379:16380",
			[]eval.Cond{eval.Port{Field: eval.DPort, Protos: []uint8{6}, Ranges: ports(eval.PortRange{Lo: 6379, Hi: 6379}, eval.PortRange{Lo: 16379, Hi: 16380})}}, ""},
		{"multiport negated sports", eval.IPv4, "-p tcp -m multiport ! --sports 1:1023",
			[]eval.Cond{eval.Port{Field: eval.SPort, Protos: []uint8{6}, Ranges: ports(eval.PortRange{Lo: 1, Hi: 1023}), Neg: true}}, ""},
		{"multiport --ports: either side", eval.IPv4, "-p tcp -m multiport --ports 6379",
			[]eval.Cond{eval.Or{eval.Port{Field: eval.DPort, Protos: []uint8{6}, Ranges: p6379}, eval.Port{Field: eval.SPort, Protos: []uint8{6}, Ranges: p6379}}}, ""},
		{"multiport ! --ports: the protocol, neither side", eval.IPv4, "-p tcp -m multiport ! --ports 6379",
			[]eval.Cond{eval.And{tcpProto, eval.Not{C: eval.Or{eval.Port{Field: eval.DPort, Protos: []uint8{6}, Ranges: p6379}, eval.Port{Field: eval.SPort, Protos: []uint8{6}, Ranges: p6379}}}}}, ""},
		{"multiport without -p", eval.IPv4, "-m multiport --dports 6379", nil, "test: -m multiport: needs -p tcp or udp"},
		{"multiport bad list", eval.IPv4, "-p tcp -m multiport --dports 6379,x", nil, "test: -m multiport --dports: "},
		{"multiport unknown option", eval.IPv4, "-p tcp -m multiport --everything 1", nil, "test: -m multiport: option --everything not understood"},
	})
}

func TestConntrackModules(t *testing.T) {
	runModuleCases(t, []moduleCase{
		{"state: the older revision", eval.IPv4, "-m state --state RELATED,ESTABLISHED",
			[]eval.Cond{eval.Conntrack{States: eval.CtRelated | eval.CtEstablished}}, ""},
		{"conntrack ctstate", eval.IPv4, "-m conntrack --ctstate NEW",
			[]eval.Cond{eval.Conntrack{States: eval.CtNew}}, ""},
		{"conntrack negated ctstate", eval.IPv4, "-m conntrack ! --ctstate INVALID,UNTRACKED",
			[]eval.Cond{eval.Conntrack{States: eval.CtInvalid | eval.CtUntracked, Neg: true}}, ""},
		{"conntrack bad state", eval.IPv4, "-m conntrack --ctstate NEWISH", nil, "test: -m conntrack --ctstate: "},
		{"conntrack ctproto", eval.IPv4, "-m conntrack ! --ctproto udp",
			[]eval.Cond{eval.Tracked{C: eval.Proto{Protos: []uint8{17}, Neg: true}}}, ""},
		{"conntrack ctstatus NONE: not DNAT'd", eval.IPv4, "-m conntrack --ctstatus NONE",
			[]eval.Cond{eval.Tracked{C: eval.Not{C: eval.Conntrack{States: eval.CtDNAT}}}}, ""},
		{"conntrack ! ctstatus NONE", eval.IPv4, "-m conntrack ! --ctstatus NONE",
			[]eval.Cond{eval.Tracked{C: eval.Not{C: eval.Not{C: eval.Conntrack{States: eval.CtDNAT}}}}}, ""},
		{"conntrack ctstatus DNAT", eval.IPv4, "-m conntrack --ctstatus DNAT",
			[]eval.Cond{eval.Tracked{C: eval.Conntrack{States: eval.CtDNAT}}}, ""},
		{"conntrack ctstatus a first SYN never has", eval.IPv4, "-m conntrack --ctstatus ASSURED",
			[]eval.Cond{eval.Tracked{C: eval.Const{Value: eval.False}}}, ""},
		{"conntrack ctdir ORIGINAL", eval.IPv4, "-m conntrack --ctdir ORIGINAL", []eval.Cond{eval.Tracked{C: eval.Const{Value: eval.True}}}, ""},
		{"conntrack ctdir REPLY", eval.IPv4, "-m conntrack --ctdir REPLY", []eval.Cond{eval.Tracked{C: eval.Const{Value: eval.False}}}, ""},
		{"conntrack ctorigdst: before DNAT", eval.IPv4, "-m conntrack --ctorigdst 203.0.113.1",
			[]eval.Cond{eval.Tracked{C: addr(eval.OrigDst, eval.IPv4, false, "203.0.113.1", "203.0.113.1")}}, ""},
		{"conntrack ctorigsrc negated", eval.IPv6, "-m conntrack ! --ctorigsrc 2001:db8::/32",
			[]eval.Cond{eval.Tracked{C: addr(eval.OrigSrc, eval.IPv6, true, "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")}}, ""},
		{"conntrack ctreplsrc: the rewritten destination", eval.IPv4, "-m conntrack --ctreplsrc 192.0.2.0/24",
			[]eval.Cond{eval.Tracked{C: addr(eval.Dst, eval.IPv4, false, "192.0.2.0", "192.0.2.255")}}, ""},
		{"conntrack ctorigdstport", eval.IPv4, "-m conntrack --ctorigdstport 8080",
			[]eval.Cond{eval.Tracked{C: eval.Port{Field: eval.OrigDPort, Ranges: ports(eval.PortRange{Lo: 8080, Hi: 8080})}}}, ""},
		{"conntrack ctreplsrcport", eval.IPv4, "-m conntrack ! --ctreplsrcport 6379",
			[]eval.Cond{eval.Tracked{C: eval.Port{Field: eval.DPort, Ranges: ports(eval.PortRange{Lo: 6379, Hi: 6379}), Neg: true}}}, ""},
		{"conntrack known but not modelled", eval.IPv4, "-m conntrack --ctexpire 10:20", nil, "test: -m conntrack: option --ctexpire not modelled"},
		{"conntrack unknown option", eval.IPv4, "-m conntrack --ctzone 1", nil, "test: -m conntrack: option --ctzone not understood"},
		{"helper: none on a first SYN", eval.IPv4, "-m helper --helper ftp", []eval.Cond{eval.Tracked{C: eval.Const{Value: eval.False}}}, ""},
		{"helper negated", eval.IPv4, "-m helper ! --helper ftp", []eval.Cond{eval.Tracked{C: eval.Const{Value: eval.True}}}, ""},
	})
}

func TestAddressModules(t *testing.T) {
	runModuleCases(t, []moduleCase{
		{"iprange src", eval.IPv4, "-m iprange --src-range 192.0.2.10-192.0.2.20",
			[]eval.Cond{addr(eval.Src, eval.IPv4, false, "192.0.2.10", "192.0.2.20")}, ""},
		{"iprange negated dst", eval.IPv6, "-m iprange ! --dst-range 2001:db8::1-2001:db8::9",
			[]eval.Cond{addr(eval.Dst, eval.IPv6, true, "2001:db8::1", "2001:db8::9")}, ""},
		{"iprange of the other family", eval.IPv6, "-m iprange --src-range 192.0.2.1-192.0.2.2", nil, "test: -m iprange: "},
		{"iprange unknown option", eval.IPv4, "-m iprange --any-range 1", nil, "test: -m iprange: option --any-range not understood"},
		{"set src", eval.IPv4, "-m set --match-set trusted src",
			[]eval.Cond{addr(eval.Src, eval.IPv4, false, "192.0.2.0", "192.0.2.255")}, ""},
		{"set: the older --set", eval.IPv4, "-m set ! --set trusted src",
			[]eval.Cond{addr(eval.Src, eval.IPv4, true, "192.0.2.0", "192.0.2.255")}, ""},
		{"set counters updated: no change", eval.IPv4, "-m set --match-set trusted src --update-counters",
			[]eval.Cond{addr(eval.Src, eval.IPv4, false, "192.0.2.0", "192.0.2.255")}, ""},
		{"set --return-nomatch", eval.IPv4, "-m set --match-set trusted src --return-nomatch", nil, "test: -m set: --return-nomatch not modelled"},
		{"set counter comparison", eval.IPv4, "-m set --match-set trusted src --packets-gt 3", nil, "test: -m set: counter comparison --packets-gt depends on past traffic"},
		{"addrtype dst LOCAL", eval.IPv4, "-m addrtype --dst-type LOCAL",
			[]eval.Cond{eval.AddrType{Field: eval.Dst, Types: eval.TypeLocal, XT6: true}}, ""},
		{"addrtype negated src list, limited to the input interface", eval.IPv4, "-m addrtype ! --src-type LOCAL,BROADCAST --limit-iface-in",
			[]eval.Cond{eval.AddrType{Field: eval.Src, Types: eval.TypeLocal | eval.TypeBroadcast, Neg: true, IfaceIn: true, XT6: true}}, ""},
		{"addrtype bad type", eval.IPv4, "-m addrtype --dst-type HOMELY", nil, "test: -m addrtype --dst-type: "},
		{"addrtype known but not modelled", eval.IPv4, "-m addrtype --dst-type LOCAL --limit-iface-out", nil, "test: -m addrtype: option --limit-iface-out not modelled"},
		{"mark with mask", eval.IPv4, "-m mark --mark 0x10/0xf0", []eval.Cond{eval.Mark{Mask: 0xf0, Value: 0x10}}, ""},
		{"mark value outside its mask", eval.IPv4, "-m mark ! --mark 0x1ff/0xf0", []eval.Cond{eval.Mark{Mask: 0xf0, Value: 0xf0, Neg: true}}, ""},
		{"connmark", eval.IPv4, "-m connmark --mark 0x1", []eval.Cond{eval.Tracked{C: eval.Mark{Conn: true, Mask: 0xffffffff, Value: 1}}}, ""},
		{"mark bad value", eval.IPv4, "-m mark --mark lots", nil, "test: -m mark --mark: "},
	})
}

func TestHostModules(t *testing.T) {
	const asymmetric = "from a source routed back by another interface than its SYN came in on (%s)"
	never := []eval.Cond{eval.Const{Value: eval.False}}
	runModuleCases(t, []moduleCase{
		{"comment: nothing", eval.IPv4, `-m comment --comment "redis"`, nil, ""},
		{"icmp: never a SYN", eval.IPv4, "-p icmp -m icmp --icmp-type 8", never, ""},
		{"icmp6", eval.IPv6, "-p ipv6-icmp -m icmp6 --icmpv6-type 128", never, ""},
		{"pkttype unicast", eval.IPv4, "-m pkttype --pkt-type unicast", []eval.Cond{eval.Const{Value: eval.True}}, ""},
		{"pkttype ! broadcast", eval.IPv4, "-m pkttype ! --pkt-type broadcast", []eval.Cond{eval.Const{Value: eval.True}}, ""},
		{"pkttype multicast", eval.IPv4, "-m pkttype --pkt-type multicast", never, ""},
		{"rpfilter passes", eval.IPv4, "-m rpfilter --loose", nil, ""},
		{"rpfilter --loose --invert never", eval.IPv4, "-m rpfilter --loose --invert", never, ""},
		// Strict mode: the way back decides, and the client may be routed
		// asymmetrically.
		{"rpfilter strict", eval.IPv4, "-m rpfilter", []eval.Cond{eval.Choice("", asymmetric)}, ""},
		{"rpfilter --invert", eval.IPv4, "-m rpfilter --invert --accept-local", []eval.Cond{eval.Choice(asymmetric, "")}, ""},
		{"owner", eval.IPv4, "-m owner --uid-owner 0", nil, "test: -m owner: owner matches apply to locally generated packets only"},
		{"physdev", eval.IPv4, "-m physdev --physdev-is-bridged", nil, "test: -m physdev: bridge port matches are not modelled"},
		{"socket", eval.IPv4, "-m socket --transparent", nil, "test: -m socket: socket lookup is not modelled"},
		{"policy", eval.IPv4, "-m policy --dir in --pol ipsec", nil, "test: -m policy: IPsec policy matches are not modelled"},
		{"pkttype unknown option", eval.IPv4, "-m pkttype --pkt-kind x", nil, "test: -m pkttype: option --pkt-kind not understood"},
		{"a module nobody knows", eval.IPv4, "-m cgroup --path /x", nil, "test: -m cgroup: module not understood"},
		{"unknown module, unknown option", eval.IPv4, "-m wizardry --spell x", nil, "test: -m wizardry: option --spell not understood"},
	})
}

// Modules the client decides compile whatever their options, even ones
// the arity table had to guess.
func TestClientModules(t *testing.T) {
	runModuleCases(t, []moduleCase{
		{"limit: under", eval.IPv4, "-m limit --limit 5/min", []eval.Cond{chosenHistory("rate limit", false)}, ""},
		{"hashlimit above: over", eval.IPv4, "-m hashlimit --hashlimit-above 5/sec --hashlimit-name x", []eval.Cond{chosenHistory("per-source rate limit", true)}, ""},
		{"connlimit above", eval.IPv4, "-m connlimit --connlimit-above 10", []eval.Cond{chosenHistory("connection count limit", true)}, ""},
		{"recent, with a guessed option", eval.IPv4, "-m recent --rcheck --name x --newfangled 3", []eval.Cond{chosenHistory("recent list", false)}, ""},
		{"time", eval.IPv4, "-m time --timestart 09:00", []eval.Cond{chosenHistory("time window", false)}, ""},
		{"ttl", eval.IPv4, "-m ttl --ttl-gt 5", []eval.Cond{chosenPacket("-m ttl field")}, ""},
		{"string", eval.IPv4, "-m string --algo bm --string x", []eval.Cond{chosenPacket("-m string field")}, ""},
		{"tcpmss, unknown to the arity table", eval.IPv4, "-p tcp -m tcpmss --mss 1:500", []eval.Cond{chosenPacket("-m tcpmss field")}, ""},
		{"frag header", eval.IPv6, "-m frag --fragmore", []eval.Cond{chosenHeader("-m frag header", false)}, ""},
		{"mh: never a SYN", eval.IPv6, "-p mh -m mh --mh-type 1", []eval.Cond{eval.Const{Value: eval.False}}, ""},
		{"u32", eval.IPv4, `-m u32 --u32 "0>>22&0x3C@12>>26&0x3F=0x10"`, nil, "test: -m u32: raw header test (u32) can read the source address and is not evaluated"},
		{"esp", eval.IPv4, "-p esp -m esp --espspi 1", nil, "test: -m esp: IPsec SPI matches are not modelled"},
	})
}

// Every module in a family table has at least one row above.
func TestModuleTableCovered(t *testing.T) {
	if len(moduleCompilers) < 50 {
		t.Errorf("%d modules understood", len(moduleCompilers))
	}
	for _, name := range []string{"tcp", "udp", "sctp", "multiport", "state", "conntrack", "helper", "iprange", "set", "addrtype",
		"mark", "connmark", "comment", "icmp", "icmp6", "ipv6-icmp", "pkttype", "rpfilter", "owner", "physdev", "socket", "policy", "mh"} {
		if _, ok := moduleCompilers[name]; !ok {
			t.Errorf("module %s has no compiler", name)
		}
	}
}
