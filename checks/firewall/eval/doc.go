// Package eval decides, for a TCP SYN that opens a new connection, which
// source addresses a modelled packet filter delivers to a local socket.
//
// The model (Ruleset, BaseChain, Chain, Rule, Cond, Verdict) is built by
// other packages from the kernel's dumps; this package only reasons over it
// and never performs I/O.
//
// Matching is three-valued: a condition the model cannot decide (a
// history-dependent rate limit, an unparsed xtables match) is Unknown, and
// the evaluator follows both branches. The source address space is split on
// every boundary any rule mentions, and one representative per piece is
// evaluated, so the resulting address sets are exact, not sampled. Each
// piece keeps a pointer to the rule or base-chain policy that decided its
// fate, which Result.Explain turns into ranges per rule for the reader.
package eval
