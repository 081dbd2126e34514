package nfnl

import "github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nlsock"

// Set returns the set a rule of the given family and table names (a
// Lookup's, Dynset's or Objref's SetName), or nil.
func (rs *Ruleset) Set(fam Family, table, name string) *Set {
	for _, s := range rs.Sets {
		if s.Family == fam && s.Table == table && s.Name == name {
			return s
		}
	}
	return nil
}

// Chain returns the named chain, or nil.
func (rs *Ruleset) Chain(fam Family, table, name string) *Chain {
	for _, c := range rs.Chains {
		if c.Family == fam && c.Table == table && c.Name == name {
			return c
		}
	}
	return nil
}

// Comment is the rule's comment as nft stores it in the user data
// (NFTNL_UDATA_RULE_COMMENT, TLV type 0); iptables-nft's "-m comment"
// is a Match named "comment" instead. Empty when there is none.
func (r *Rule) Comment() string {
	b := r.UserData
	for len(b) >= 2 {
		typ, n := b[0], int(b[1])
		if 2+n > len(b) {
			return ""
		}
		if typ == 0 {
			return nlsock.CString(b[2 : 2+n])
		}
		b = b[2+n:]
	}
	return ""
}
