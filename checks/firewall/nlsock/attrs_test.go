package nlsock

import (
	"bytes"
	"strings"
	"testing"
)

func attr(typ uint16, payload ...byte) []byte {
	n := 4 + len(payload)
	b := []byte{byte(n), byte(n >> 8), byte(typ), byte(typ >> 8)}
	b = append(b, payload...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func TestAttrs(t *testing.T) {
	// Two attributes, the second with both flag bits set and no padding
	// after its last byte.
	two := append(attr(1, 'a', 'b', 0), attr(0xc002, 1, 2, 3, 4)...)
	cases := []struct {
		name string
		in   []byte
		want []uint16
		err  string
	}{
		{"two, flags cleared", two, []uint16{1, 2}, ""},
		{"last without its padding", attr(3, 9)[:5], []uint16{3}, ""},
		{"empty", nil, nil, ""},
		{"header cut", append(attr(1, 7), 8, 0), []uint16{1}, "2 bytes left, shorter than an attribute header"},
		{"length past the end", append(attr(1, 7), 200, 0, 5, 0, 1), []uint16{1}, "attribute 5 of length 200 with 5 bytes left"},
		{"length below the header", []byte{2, 0, 6, 0, 0, 0}, nil, "attribute 6 of length 2 with 6 bytes left"},
	}
	for _, c := range cases {
		a := AttrsOf(c.in)
		var got []uint16
		for {
			typ, p, ok := a.Next()
			if !ok {
				break
			}
			got = append(got, typ)
			if typ == 1 && c.name == "two, flags cleared" && !bytes.Equal(p, []byte{'a', 'b', 0}) {
				t.Errorf("%s: payload %q", c.name, p)
			}
		}
		if len(got) != len(c.want) || (len(got) > 0 && got[len(got)-1] != c.want[len(c.want)-1]) {
			t.Errorf("%s: types %v, want %v", c.name, got, c.want)
		}
		switch err := a.Err(); {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: error %v, want %q", c.name, err, c.err)
		}
	}
	if got := CString([]byte("lo\x00\x00")); got != "lo" {
		t.Errorf("CString: %q", got)
	}
}
