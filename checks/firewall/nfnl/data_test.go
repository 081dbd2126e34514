package nfnl

import (
	"encoding/binary"
	"strings"
	"testing"
)

// nlattr encodes one netlink attribute, padded to four bytes.
func nlattr(typ uint16, payload []byte) []byte {
	b := make([]byte, 4, 4+len(payload)+3)
	binary.LittleEndian.PutUint16(b, uint16(4+len(payload)))
	binary.LittleEndian.PutUint16(b[2:], typ)
	b = append(b, payload...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// A data attribute the decoder refuses must make it fail: a verdict
// without a code is not a drop (code 0), and a value past the bound is
// not an absent value.
func TestDataErrors(t *testing.T) {
	verdictNoCode := nlattr(2, nlattr(2, []byte("chain\x00"))) // NFTA_DATA_VERDICT { NFTA_VERDICT_CHAIN }
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"verdict without a code", verdictNoCode, "verdict without a code"},
		{"value too long", nlattr(1, make([]byte, maxDataValue+4)), "data value of"},
	} {
		d := newDecoder(Limits{})
		val, v, err := d.data(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: value %x, verdict %+v, error %v; want an error with %q", c.name, val, v, err, c.want)
		}
	}
	// A well-formed value still decodes.
	d := newDecoder(Limits{})
	val, v, err := d.data(nlattr(1, []byte{0x18, 0xeb}))
	if err != nil || v != nil || string(val) != "\x18\xeb" {
		t.Errorf("value: %x %v %v", val, v, err)
	}
}
