package resp

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkScannerACLList validates ACL LIST of 1,000 users (~160 KB) fed
// in 32 KiB reads, as go-redis's reader asks for them: the guard's cost per
// byte, without the network.
func BenchmarkScannerACLList(b *testing.B) {
	var sb strings.Builder
	fmt.Fprintf(&sb, "*%d\r\n", 1000)
	for i := range 1000 {
		u := fmt.Sprintf("user app%05d on sanitize-payload #%s ~app%d:* &app%d:* -@all +@read +@write -@dangerous +info|server", i, strings.Repeat("5e", 32), i, i)
		fmt.Fprintf(&sb, "$%d\r\n%s\r\n", len(u), u)
	}
	in := []byte(sb.String())
	lim := DefaultLimits
	lim.MaxBytes = 0
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for range b.N {
		s := NewScanner(lim)
		for p := in; len(p) > 0; {
			n := min(len(p), 32<<10)
			if err := s.Feed(p[:n]); err != nil {
				b.Fatal(err)
			}
			p = p[n:]
		}
		if s.Replies != 1 {
			b.Fatal("no reply")
		}
	}
}

// BenchmarkScannerINFO validates INFO-like text: one bulk, mostly skipped.
func BenchmarkScannerINFO(b *testing.B) {
	body := strings.Repeat("some_field_name:some_value_1234\r\n", 200)
	in := []byte(fmt.Sprintf("$%d\r\n%s\r\n", len(body), body))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for range b.N {
		s := NewScanner(DefaultLimits)
		if err := s.Feed(in); err != nil || s.Replies != 1 {
			b.Fatal(err)
		}
	}
}
