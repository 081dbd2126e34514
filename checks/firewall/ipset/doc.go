// Package ipset parses the output of "ipset save": the sets, their types
// and options, and their entries (with the nomatch flag kept, since it
// carves holes in hash:net sets).
package ipset
