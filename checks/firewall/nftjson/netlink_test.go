package nftjson

import (
	"reflect"
	"strings"
	"testing"
)

// Captured from nft 1.0.6 for "ip6 nexthdr tcp tcp dport 6379 drop" and
// "meta l4proto tcp tcp dport 6380 drop", which nft -j shows alike.
const netlinkSample = `ip6 t in 2
  [ payload load 1b @ network header + 6 => reg 1 ]
  [ cmp eq reg 1 0x00000006 ]
  [ payload load 2b @ transport header + 2 => reg 1 ]
  [ cmp eq reg 1 0x0000eb18 ]
  [ immediate reg 0 drop ]

ip6 t in 3 2
  [ meta load l4proto => reg 1 ]
  [ cmp eq reg 1 0x00000006 ]
  [ payload load 2b @ transport header + 2 => reg 1 ]
  [ cmp eq reg 1 0x0000ec18 ]
  [ immediate reg 0 drop ]

ip t4 in 4
  [ payload load 1b @ network header + 6 => reg 1 ]
  [ cmp eq reg 1 0x00000040 ]
`

func TestParseNetlink(t *testing.T) {
	nl, err := ParseNetlink(strings.NewReader(netlinkSample))
	if err != nil {
		t.Fatal(err)
	}
	want := map[RuleRef][]NexthdrCmp{{Family: "ip6", Table: "t", Chain: "in", Handle: 2}: {{Value: 6}}}
	if !reflect.DeepEqual(nl.Nexthdr, want) {
		t.Errorf("got %v", nl.Nexthdr)
	}
}

func FuzzParseNetlink(f *testing.F) {
	f.Add([]byte(netlinkSample))
	f.Fuzz(func(t *testing.T, data []byte) {
		nl, err := ParseNetlink(strings.NewReader(string(data)))
		if err == nil && nl == nil {
			t.Fatal("nil result without error")
		}
	})
}
