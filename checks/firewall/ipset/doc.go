// Package ipset reads the kernel's ipsets, from "ipset save" output or over
// netlink into the same model: the sets, their types
// and options, and their entries (with the nomatch flag kept, since it
// carves holes in hash:net sets).
package ipset
