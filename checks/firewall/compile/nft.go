package compile

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nftjson"
)

// nftTable is the compile context of one nf_tables table.
type nftTable struct {
	b        *builder
	family   string
	name     string
	fams     []eval.Family
	tableFam eval.Family // IPv4 for ip, IPv6 for ip6, 0 otherwise
	chains   map[string]*eval.Chain
	sets     map[string]*nftjson.Set
	dynamic  map[string]bool
	// save is the iptables-nft-save view of the same table, for the
	// parameters of xt expressions; saveErr says why it is missing.
	save    *iptsave.Table
	saveErr error
	saveSrc string
	// counts is the number of rules per chain, to align with the save.
	counts map[string]int
	// saved and saveUser index save (see indexSave).
	saved    map[string][]*iptsave.Rule
	saveUser map[string]bool
}

var hooks = map[string]eval.Hook{"ingress": eval.Ingress, "prerouting": eval.Prerouting,
	"input": eval.Input, "forward": eval.Forward, "output": eval.Output, "postrouting": eval.Postrouting}

func (b *builder) nft() {
	d := b.src.NFT
	if d.Value == nil && d.Err == nil {
		return
	}
	if !d.ok() {
		b.opaque(fmtUnread(d.Name, d.Err), eval.IPv4, eval.IPv6)
		return
	}
	rs := d.Value
	st := b.nftBegin(rs)
	if nl := b.src.NFTNetlink; !nl.ok() && hidesNexthdr(rs) {
		why := "not given"
		if nl.Err != nil {
			why = fmt.Sprintf("%s: %v", nl.Name, nl.Err)
		}
		b.note("nft bytecode (nft --debug=netlink list ruleset) %s: an \"ip6 nexthdr\" match written before a transport match, which nft -j does not show, is not evaluated", why)
	}
	for _, r := range rs.Rules {
		if nt := st.tables[tableKey{r.Family, r.Table}]; nt != nil {
			nt.counts[r.Chain]++
		}
	}
	// Sets that rules update ("add @s { ip saddr }") depend on history.
	for _, r := range rs.Rules {
		nt := st.tables[tableKey{r.Family, r.Table}]
		if nt == nil {
			continue
		}
		for _, stmt := range r.Stmts {
			if o, ok := stmt.(nftjson.OtherStmt); ok && (o.Kind == "set" || o.Kind == "map") {
				var body map[string]map[string]any
				if json.Unmarshal(o.Raw, &body) == nil {
					if name, ok := body[o.Kind]["set"].(string); ok && len(name) > 1 {
						nt.dynamic[name[1:]] = true
					}
				}
			}
		}
	}
	origins := nftOrigins(rs.Rules)
	for i, r := range rs.Rules {
		st.rule(r, origins[i])
	}
	st.finish()
}

// fmtUnread is the reason given for an nf_tables ruleset not read.
func fmtUnread(name string, err error) string {
	return fmt.Sprintf("nf_tables ruleset could not be read (%s): %v", name, err)
}

// tableKey names an nf_tables table.
type tableKey struct{ fam, table string }

// nftState is an nf_tables ruleset being compiled: its tables and chains
// are known, its rules are compiled one at a time, in each chain's order.
type nftState struct {
	b      *builder
	rs     *nftjson.Ruleset
	tables map[tableKey]*nftTable
	pos    map[chainKey]int
}

type chainKey struct{ fam, table, chain string }

// nftBegin compiles rs's tables, sets and chains; its rules are for
// rule.
func (b *builder) nftBegin(rs *nftjson.Ruleset) *nftState {
	st := &nftState{b: b, rs: rs, tables: map[tableKey]*nftTable{}, pos: map[chainKey]int{}}
	for _, t := range rs.Tables {
		nt := &nftTable{b: b, family: t.Family, name: t.Name, chains: map[string]*eval.Chain{},
			sets: map[string]*nftjson.Set{}, dynamic: map[string]bool{}, counts: map[string]int{}}
		switch t.Family {
		case "ip":
			nt.fams, nt.tableFam = []eval.Family{eval.IPv4}, eval.IPv4
			nt.attachSave(b.src.IptNFT)
		case "ip6":
			nt.fams, nt.tableFam = []eval.Family{eval.IPv6}, eval.IPv6
			nt.attachSave(b.src.Ip6tNFT)
		case "inet", "netdev", "bridge":
			nt.fams = []eval.Family{eval.IPv4, eval.IPv6}
		case "arp":
			continue // ARP never carries a TCP SYN
		default:
			b.note("nf_tables family %s (table %s) not understood", t.Family, t.Name)
			nt.fams = []eval.Family{eval.IPv4, eval.IPv6}
		}
		st.tables[tableKey{t.Family, t.Name}] = nt
	}
	for _, s := range rs.Sets {
		if nt := st.tables[tableKey{s.Family, s.Table}]; nt != nil {
			nt.sets[s.Name] = s
		}
	}
	for _, c := range rs.Chains {
		if nt := st.tables[tableKey{c.Family, c.Table}]; nt != nil {
			nt.chains[c.Name] = &eval.Chain{Name: c.Name}
		}
	}
	return st
}

// rule compiles the next rule of its chain, named origin.
func (st *nftState) rule(r *nftjson.Rule, origin string) {
	nt := st.tables[tableKey{r.Family, r.Table}]
	if nt == nil {
		return
	}
	ch := nt.chains[r.Chain]
	if ch == nil {
		st.b.opaque(fmt.Sprintf("rule handle %d in missing chain %s %s %s", r.Handle, r.Family, r.Table, r.Chain), nt.fams...)
		return
	}
	ck := chainKey{r.Family, r.Table, r.Chain}
	ch.Rules = nt.rule(ch.Rules, r, st.pos[ck], origin)
	st.pos[ck]++
}

// finish hooks the base chains in, once every rule is compiled.
func (st *nftState) finish() {
	for _, c := range st.rs.Chains {
		nt := st.tables[tableKey{c.Family, c.Table}]
		if nt == nil || !c.Base() {
			continue
		}
		nt.baseChain(c)
	}
}

// nftOrigins names each rule "nft FAMILY TABLE CHAIN handle N: TEXT", as
// messages locate them (the text as the bytecode's rules are printed);
// the names share one string (see lineOrigins).
func nftOrigins(rules []*nftjson.Rule) []string {
	var buf, text []byte
	ends := make([]int, len(rules))
	for i, r := range rules {
		buf = appendOrigin(buf, r)
		if text = appendRuleText(text, r.Stmts, &bcRule{}); len(text) > 0 {
			buf = append(append(buf, ": "...), text...)
		}
		ends[i] = len(buf)
	}
	return splitAt(string(buf), ends)
}

// appendOrigin appends "nft FAMILY TABLE CHAIN handle N".
func appendOrigin(buf []byte, r *nftjson.Rule) []byte {
	buf = append(buf, "nft "...)
	buf = append(buf, r.Family...)
	buf = append(buf, ' ')
	buf = append(buf, r.Table...)
	buf = append(buf, ' ')
	buf = append(buf, r.Chain...)
	buf = append(buf, " handle "...)
	return strconv.AppendInt(buf, r.Handle, 10)
}

// attachSave finds the iptables-nft-save view of this table.
func (t *nftTable) attachSave(d Dump[iptsave.Dump]) {
	t.saveSrc = d.Name
	if !d.ok() {
		t.saveErr = d.Err
		if t.saveErr == nil {
			t.saveErr = fmt.Errorf("no iptables-nft-save dump given")
		}
		return
	}
	t.save = d.Value.Table(t.name)
}

func (t *nftTable) baseChain(c *nftjson.Chain) {
	origin := fmt.Sprintf("nft %s %s %s", c.Family, c.Table, c.Name)
	h, ok := hooks[c.Hook]
	if !ok {
		t.b.opaque(fmt.Sprintf("%s: hook %q not understood", origin, c.Hook), t.fams...)
		return
	}
	policy := eval.Accept
	switch c.Policy {
	case "", "accept":
	case "drop":
		policy = eval.Drop
	default:
		t.b.opaque(fmt.Sprintf("%s: policy %q not understood", origin, c.Policy), t.fams...)
		return
	}
	if t.family == "bridge" {
		// Bridge chains see only frames crossing a bridge port; whether
		// Redis traffic does depends on the host's interfaces.
		if policy == eval.Drop || len(t.chains[c.Name].Rules) > 0 {
			if h == eval.Prerouting || h == eval.Input {
				t.b.opaque(origin+": bridge-family filtering of traffic arriving through a bridge port is not evaluated", t.fams...)
			}
		}
		return
	}
	base := &eval.BaseChain{Origin: origin, Families: t.fams, Hook: h, Priority: c.Prio,
		Policy: policy, Chain: t.chains[c.Name], NAT: c.Type == "nat"}
	if h == eval.Ingress {
		if len(c.Devices) == 0 && t.family == "netdev" {
			return // an ingress chain bound to no device sees nothing
		}
		for _, dev := range c.Devices {
			bc := *base
			bc.Device = dev
			t.b.rs.BaseChains = append(t.b.rs.BaseChains, &bc)
		}
		if len(c.Devices) > 0 {
			return
		}
	}
	t.b.rs.BaseChains = append(t.b.rs.BaseChains, base)
}

// hidesNexthdr reports whether a rule could hide an "ip6 nexthdr" match
// that matters: a transport match in a table that sees IPv6, in a rule
// that does not simply accept (a hidden match only narrows a rule, which
// can only let more through where the rule refuses or diverts).
func hidesNexthdr(rs *nftjson.Ruleset) bool {
	for _, r := range rs.Rules {
		if r.Family == "ip" || r.Family == "arp" {
			continue
		}
		transport, accepts := false, false
		for _, st := range r.Stmts {
			switch x := st.(type) {
			case nftjson.Match:
				transport = transport || readsTransport(x.Left)
			case nftjson.Verdict:
				accepts = x.Kind == "accept"
			}
		}
		if transport && !accepts {
			return true
		}
	}
	return false
}

func readsTransport(e nftjson.Expr) bool {
	switch x := e.(type) {
	case nftjson.Payload:
		return x.Protocol != "" && x.Protocol != "ip" && x.Protocol != "ip6" && x.Protocol != "ether" && x.Protocol != "vlan" && x.Protocol != "arp"
	case nftjson.Binop:
		return readsTransport(x.Left)
	case nftjson.Concat:
		for _, k := range x {
			if readsTransport(k) {
				return true
			}
		}
	}
	return false
}
