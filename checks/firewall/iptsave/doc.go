// Package iptsave parses the output of iptables-save and ip6tables-save
// (both the nft and the legacy back end) into tables, chains and rules.
//
// It parses the syntax only; the meaning of matches and targets is decided
// by the caller. Options of known modules are split by their known arity,
// because iptables-save leaves values such as "--comment -x" unquoted;
// options of unknown modules are split by a guess and flagged, never
// dropped.
package iptsave
