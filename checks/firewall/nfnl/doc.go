// Package nfnl reads the nf_tables ruleset the kernel holds, over netlink
// (NETLINK_NETFILTER), as bytecode: tables, chains, rules with their
// expressions, sets with their elements, and named objects. It runs no
// nft or iptables process.
//
// Why the bytecode: nft's listings (text and JSON) are renderings that
// hide what the kernel evaluates. A transport match written after
// "ip6 nexthdr tcp" takes that match as its protocol dependency and both
// listings drop it, so "ip6 nexthdr tcp tcp dport 6379" reads as
// "tcp dport 6379" although the kernel compares the IPv6 Next Header
// field, which a packet with an extension header makes differ. The
// kernel's expressions are the truth; this package returns them as typed
// values (Payload, Cmp, Lookup, Meta, ...) and keeps anything it does not
// know as Unknown with its raw attributes, never dropping it.
//
// Read streams: each netlink message is decoded as it arrives from a
// bounded receive buffer into the compact model, and the raw dump is not
// held, so memory follows the size of the model, not of the dump. Rules
// are dumped chain by chain and elements set by set: the kernel resumes
// a dump by skipping what it already sent, so one dump of everything
// costs time quadratic in its length. The read is bracketed by the
// ruleset generation (NFT_MSG_GETGEN) and repeated, at most
// Options.Attempts times, when a change raced it. Options.Record keeps the raw messages
// in a file that Decode reads back with the same decoder, for tests and
// for reproducing a reading offline.
//
// Rule.Bytecode renders the expressions exactly as
// `nft --debug=netlink list ruleset` prints them (libnftnl's format), so
// a reading can be compared with the kernel's own tools.
package nfnl
