package nftjson

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// nft -j is a rendering, not the bytecode: a transport match written after
// "ip6 nexthdr tcp" uses that match as its protocol dependency, and both
// listings then drop it, so "ip6 nexthdr tcp tcp dport 6379" reads as
// "tcp dport 6379" although the kernel compares the IPv6 header's Next
// Header field (which a client with an extension header makes differ).
// `nft --debug=netlink list ruleset` prints the bytecode; Netlink keeps the
// Next Header comparisons of each rule from it.

// RuleRef names a rule.
type RuleRef struct {
	Family, Table, Chain string
	Handle               int64
}

// NexthdrCmp is one comparison of the IPv6 header's Next Header field.
type NexthdrCmp struct {
	Value uint8
	Neg   bool
}

// Netlink holds, per rule, the Next Header comparisons of its bytecode.
type Netlink struct {
	Nexthdr map[RuleRef][]NexthdrCmp
}

// ParseNetlink reads `nft --debug=netlink list ruleset`. Rules are headed
// by "FAMILY TABLE CHAIN HANDLE [POSITION]" and their expressions follow,
// indented, one per line.
func ParseNetlink(r io.Reader) (*Netlink, error) {
	nl := &Netlink{Nexthdr: map[RuleRef][]NexthdrCmp{}}
	sc := bufio.NewScanner(io.LimitReader(r, MaxSize+1))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	var cur RuleRef
	inRule := false
	pendingReg := "" // register a 1-byte load at network header + 6 went to
	read := 0
	for sc.Scan() {
		line := sc.Text()
		read += len(line) + 1
		if read > MaxSize {
			return nil, fmt.Errorf("nft --debug=netlink output larger than %d bytes", MaxSize)
		}
		if line == "" {
			inRule, pendingReg = false, ""
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			f := strings.Fields(line)
			inRule, pendingReg = false, ""
			if len(f) >= 4 {
				if h, err := strconv.ParseInt(f[3], 10, 64); err == nil {
					cur, inRule = RuleRef{Family: f[0], Table: f[1], Chain: f[2], Handle: h}, true
				}
			}
			continue
		}
		if !inRule {
			continue
		}
		e := strings.Trim(strings.TrimSpace(line), "[] ")
		if reg, ok := strings.CutPrefix(e, "payload load 1b @ network header + 6 => reg "); ok {
			if cur.Family != "ip" && cur.Family != "arp" {
				pendingReg = reg
			}
			continue
		}
		if pendingReg != "" {
			f := strings.Fields(e)
			// cmp eq reg 1 0x00000006
			if len(f) == 5 && f[0] == "cmp" && (f[1] == "eq" || f[1] == "neq") && f[2] == "reg" && f[3] == pendingReg {
				if v, err := strconv.ParseUint(strings.TrimPrefix(f[4], "0x"), 16, 32); err == nil && v <= 0xff {
					nl.Nexthdr[cur] = append(nl.Nexthdr[cur], NexthdrCmp{Value: uint8(v), Neg: f[1] == "neq"})
				}
			}
			pendingReg = ""
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nl, nil
}
