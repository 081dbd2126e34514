// Package compile turns the parsed dumps (nft JSON, iptables-save of both
// back ends, ipset save) into the evaluator's model.
//
// nft JSON is the structure of record for every nf_tables table; the
// parameters of xtables-compat expressions, which nft shows by name only,
// come from iptables-nft-save, aligned by table, chain and position and
// cross-checked rule by rule. Legacy tables come from iptables-legacy-save.
// Whatever cannot be read or understood becomes an Unknown condition or an
// Undecided verdict carrying the reason, never an absent rule.
package compile
