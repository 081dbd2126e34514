package sockets

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sampleTCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 21423 1 0000000000000000 100 0 0 10 0
   1: 00000000:4D3B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21424 1 0000000000000000 100 0 0 10 0
   2: 0100007F:18EB 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000   101        0 31234 1 0000000000000000 20 4 30 10 -1
`

const sampleTCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:18EB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 21425 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:66AB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 21426 1 0000000000000000 100 0 0 10 0
   2: B80D0120000000000000000001000000:18EB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 21427 1 0000000000000000 100 0 0 10 0
`

func TestParseLittleEndianTables(t *testing.T) {
	v4, err := Parse(strings.NewReader(sampleTCP))
	if err != nil {
		t.Fatal(err)
	}
	want4 := []string{"127.0.0.1:6379", "0.0.0.0:19771"}
	if len(v4) != 2 || v4[0].Addr.String() != want4[0] || v4[1].Addr.String() != want4[1] || v4[0].UID != 101 {
		t.Fatalf("v4 = %+v, want %v (established row skipped)", v4, want4)
	}
	v6, err := Parse(strings.NewReader(sampleTCP6))
	if err != nil {
		t.Fatal(err)
	}
	want6 := []string{"[::1]:6379", "[::]:26283", "[2001:db8::1]:6379"}
	for i, w := range want6 {
		if v6[i].Addr.String() != w {
			t.Fatalf("v6[%d] = %v, want %v", i, v6[i].Addr, w)
		}
	}
	if !v6[1].Wildcard() || v6[0].Wildcard() {
		t.Fatal("wildcard detection")
	}
}

func TestParseErrorsHaveLines(t *testing.T) {
	_, err := Parse(strings.NewReader(sampleTCP + "   3: 0100007G:18EB 00000000:0000 0A 0 0 0 0 0 1\n"))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 5 {
		t.Fatalf("err = %v, want line 5", err)
	}
	_, err = Parse(strings.NewReader("   0: short\n"))
	if !errors.As(err, &pe) || pe.Line != 1 {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sampleTCP)
	f.Add(sampleTCP6)
	f.Fuzz(func(t *testing.T, s string) {
		ls, err := Parse(strings.NewReader(s))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for _, l := range ls {
			if !l.Addr.IsValid() {
				t.Fatalf("invalid address from %q", s)
			}
		}
	})
}

// Any root but /proc is a copy of some host's tables: read, never dumped.
func TestListeningReadsGivenRoot(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"tcp": sampleTCP, "tcp6": sampleTCP6} {
		if err := os.WriteFile(filepath.Join(dir, "net", name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ls, err := Listening(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range ls {
		got = append(got, l.Addr.String())
	}
	want := "127.0.0.1:6379 0.0.0.0:19771 [::1]:6379 [::]:26283 [2001:db8::1]:6379"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %v, want %s", got, want)
	}
}
