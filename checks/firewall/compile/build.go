package compile

import (
	"fmt"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/ipset"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nfnl"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
)

// Dump is one source read from the system or a file: the parsed value, or
// the error that kept it from being read.
type Dump[T any] struct {
	Value *T
	Err   error
	// Name says where it came from ("iptables-nft-save", a file name).
	Name string
}

// ok reports whether the dump was read.
func (d Dump[T]) ok() bool { return d.Err == nil && d.Value != nil }

// Sources is everything the kernel's ruleset is read from.
type Sources struct {
	// NFT is "nft -j list ruleset". Nil Value with nil Err means the
	// source was not consulted (offline mode without --nft-json).
	NFT Dump[nftjson.Ruleset]
	// NFTNetlink is "nft --debug=netlink list ruleset": the bytecode shows
	// an "ip6 nexthdr" match nft -j hides when a transport match uses it
	// as its dependency. Nil Value with nil Err: not consulted.
	NFTNetlink Dump[nftjson.Netlink]
	// NFTBytecode is the kernel's nf_tables ruleset read over netlink.
	// When consulted it replaces NFT, NFTNetlink, IptNFT and Ip6tNFT: its
	// bytecode shows what the kernel evaluates, xt parameters included.
	NFTBytecode Dump[nfnl.Ruleset]
	// SetNames resolves the ipset indexes xt set matches hold (nil when
	// the names cannot be known: such matches are then unknown).
	SetNames func(index uint16) (string, error)
	// IptNFT and Ip6tNFT are iptables-nft-save and ip6tables-nft-save.
	IptNFT, Ip6tNFT Dump[iptsave.Dump]
	// Legacy4 and Legacy6 are iptables-legacy-save and ip6tables-legacy-save.
	Legacy4, Legacy6 Dump[iptsave.Dump]
	// LegacyTables4 and LegacyTables6 list the legacy tables the kernel has
	// (/proc/net/ip_tables_names); LegacyNamesErr4/6 when unreadable.
	LegacyTables4, LegacyTables6     []string
	LegacyNamesErr4, LegacyNamesErr6 error
	IPSet                            Dump[ipset.Dump]
	// Interfaces names the interfaces by index, for the bytecode's "iif"
	// and "oif" (nil when unknown: only the loopback, index 1 in every
	// network namespace, is then named).
	Interfaces map[uint32]string
}

// Build compiles the sources into one model. Notes lists what was not
// evaluated but cannot change the answer for locally delivered traffic
// (or is already reflected as an unknown).
func Build(src Sources) (rs *eval.Ruleset, notes []string) {
	b := &builder{src: src, rs: &eval.Ruleset{}}
	// Only b.src is used from here: the parameter, live to the end,
	// would hold the kernel's rules that useBytecode lets go as they are
	// read back (peak memory on large rulesets).
	src = Sources{}
	b.start()
	if d := b.src.NFTBytecode; d.Value != nil || d.Err != nil {
		// The kernel's bytecode replaces nft's and iptables' listings.
		b.nftBytecode()
	} else {
		b.nft()
	}
	return b.end()
}

// start compiles the sources every ruleset's rules refer to.
func (b *builder) start() {
	b.sets = compileIPSets(b.src.IPSet)
	for _, d := range []Dump[iptsave.Dump]{b.src.IptNFT, b.src.Ip6tNFT, b.src.Legacy4, b.src.Legacy6} {
		markDynamicSets(d, b.sets)
	}
}

// end compiles the legacy tables, after nf_tables.
func (b *builder) end() (*eval.Ruleset, []string) {
	b.legacy(eval.IPv4, b.src.Legacy4, b.src.LegacyTables4, b.src.LegacyNamesErr4)
	b.legacy(eval.IPv6, b.src.Legacy6, b.src.LegacyTables6, b.src.LegacyNamesErr6)
	return b.rs, b.notes
}

type builder struct {
	src   Sources
	rs    *eval.Ruleset
	sets  *ipsets
	notes []string
	// standalone names the file a Standalone ruleset comes from.
	standalone string
	iptc       *iptCompiler
	// nftAddrs shares the address matches of nft rules (kindCond).
	nftAddrs map[nftAddrKey]eval.Cond
	// nftPorts and nftProtos share port and protocol matches the same way.
	nftPorts  map[nftPortKey]eval.Cond
	nftProtos map[nftProtoKey]eval.Cond
	// invs caches stmtInv by statement text (which names its kind).
	invs map[string]bool
	// rules is the block new nft rules are carved from.
	rules []eval.Rule
	// bytecode is the nft ruleset being read back from the kernel's
	// bytecode (see useBytecode); nil otherwise. cur completes the rule
	// being compiled.
	bytecode *decompiled
	cur      *bcRule
}

// newRule returns a zeroed rule from a shared block.
func (b *builder) newRule() *eval.Rule {
	if len(b.rules) == cap(b.rules) {
		b.rules = make([]eval.Rule, 0, 1024)
	}
	b.rules = b.rules[:len(b.rules)+1]
	return &b.rules[len(b.rules)-1]
}

// ipt returns the compiler of iptables-save rules, shared by every dump
// so that they share conditions too.
func (b *builder) ipt() *iptCompiler {
	if b.iptc == nil {
		b.iptc = newIptCompiler(b.sets)
	}
	return b.iptc
}

func (b *builder) note(format string, args ...any) {
	b.notes = append(b.notes, fmt.Sprintf(format, args...))
}

// opaque adds a base chain whose fate is unknown for every packet of the
// families: what a ruleset we could not read may do.
func (b *builder) opaque(reason string, fams ...eval.Family) {
	b.rs.BaseChains = append(b.rs.BaseChains, &eval.BaseChain{
		Origin:   "unread ruleset",
		Families: fams,
		Hook:     eval.Prerouting,
		Priority: -1 << 30,
		Policy:   eval.Accept,
		Chain: &eval.Chain{Name: "unread", Rules: []*eval.Rule{{
			Origin:  "unread ruleset",
			Conds:   []eval.Cond{eval.Const{Value: eval.Unknown, Reason: reason}},
			Verdict: eval.Verdict{Kind: eval.Drop},
		}}},
	})
}

// markDynamicSets records ipsets that rules fill (-j SET --add-set): their
// contents depend on traffic already seen.
func markDynamicSets(d Dump[iptsave.Dump], s *ipsets) {
	if !d.ok() {
		return
	}
	for _, t := range d.Value.Tables {
		for _, r := range t.Rules {
			if r.Target != "SET" {
				continue
			}
			for _, o := range r.TargetOptions {
				if (o.Name == "--add-set" || o.Name == "--del-set") && len(o.Values) > 0 {
					s.dynamic[o.Values[0]] = true
				}
			}
		}
	}
}

// Standalone compiles a complete iptables-save dump on its own, as the
// only ruleset of its family: offline mode without an nft dump. Each
// table's built-in chains hook in at x_tables' priorities.
func Standalone(fam eval.Family, d Dump[iptsave.Dump], sets Dump[ipset.Dump]) (*eval.Ruleset, []string) {
	b := &builder{rs: &eval.Ruleset{}, sets: compileIPSets(sets), standalone: d.Name}
	markDynamicSets(d, b.sets)
	var names []string
	if d.ok() {
		for _, t := range d.Value.Tables {
			names = append(names, t.Name)
		}
	}
	b.legacy(fam, d, names, nil)
	if !d.ok() {
		b.opaque(fmt.Sprintf("%v ruleset could not be read (%s): %v", fam, d.Name, d.Err), fam)
	}
	return b.rs, b.notes
}
