// Package xt decodes the parameters of iptables-nft's xtables-compat
// expressions: the xt_*_info structure the kernel module of a "match" or
// "target" expression reads, per module and revision, in the kernel's
// layout on this architecture (host byte order, C padding). A decoded
// match or target is returned as the options iptables-save would print
// for it, so the compiler of iptables-save rules judges it, and its text
// is the rule as iptables shows it.
//
// Anything not known (module, revision, length, a flag bit) is an error
// naming it: a blob is never half-read.
package xt
