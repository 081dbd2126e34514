package ipset

import (
	endian "encoding/binary"
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func nlattr(typ uint16, v []byte) []byte {
	b := make([]byte, 4, 4+len(v)+3)
	endian.NativeEndian.PutUint16(b[0:], uint16(4+len(v)))
	endian.NativeEndian.PutUint16(b[2:], typ)
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func be32b(v uint32) []byte { return endian.BigEndian.AppendUint32(nil, v) }

// setMsg is one IPSET_CMD_LIST message of the answer numbered seq.
func setMsg(seq uint32, attrs ...[]byte) []byte {
	body := append([]byte{unix.AF_INET, 0, 0, 0}, cat(attrs...)...)
	b := make([]byte, nlmsgHeader, nlmsgHeader+len(body))
	endian.NativeEndian.PutUint32(b[0:], uint32(nlmsgHeader+len(body)))
	endian.NativeEndian.PutUint16(b[4:], subsysIPSet<<8|cmdList)
	endian.NativeEndian.PutUint16(b[6:], unix.NLM_F_MULTI)
	endian.NativeEndian.PutUint32(b[8:], seq)
	return append(b, body...)
}

func ip4(a ...byte) []byte {
	return nlattr(attrIP|unix.NLA_F_NESTED, nlattr(ipaddrV4|unix.NLA_F_NET_BYTEORDER, a))
}

// hashNet is a hash:net set named s with the given elements.
func hashNet(elems ...[]byte) []byte {
	var adt []byte
	for _, e := range elems {
		adt = append(adt, nlattr(attrData|unix.NLA_F_NESTED, e)...)
	}
	return setMsg(1, nlattr(attrProtocol, []byte{protocol}), nlattr(attrSetName, []byte("s\x00")),
		nlattr(attrTypeName, []byte("hash:net\x00")), nlattr(attrFamily, []byte{nfprotoIPv4}),
		nlattr(attrData|unix.NLA_F_NESTED, cat(nlattr(attrHashsize, be32b(1024)), nlattr(attrMaxelem, be32b(65536)))),
		nlattr(attrADT|unix.NLA_F_NESTED, adt))
}

func TestNLDecoderSet(t *testing.T) {
	d := newNLDecoder(Limits{})
	d.answer.Seq = 1
	dg := hashNet(cat(ip4(192, 0, 2, 0), nlattr(attrCIDR, []byte{24})),
		cat(ip4(198, 51, 100, 0), nlattr(attrCIDR, []byte{25}), nlattr(attrCADTFlags, be32b(flagNomatch))))
	if done, err := d.datagram(dg); err != nil || done {
		t.Fatalf("done %v, err %v", done, err)
	}
	want, _ := Parse(strings.NewReader("create s hash:net family inet hashsize 1024 maxelem 65536\n" +
		"add s 192.0.2.0/24\nadd s 198.51.100.0/25 nomatch\n"))
	if got := d.d.Sets[0]; len(d.d.Sets) != 1 || got.Name != "s" || len(got.Entries) != 2 ||
		got.Entries[0].Value != want.Sets[0].Entries[0].Value || !got.Entries[1].NoMatch {
		t.Errorf("got %+v, want %+v", d.d.Sets[0], want.Sets[0])
	}
}

func TestNLDecoderMalformed(t *testing.T) {
	good := hashNet(cat(ip4(192, 0, 2, 0), nlattr(attrCIDR, []byte{24})))
	for _, c := range []struct {
		name, want string
		dg         []byte
	}{
		{"truncated header", "shorter than a message header", good[:12]},
		{"message longer than the datagram", "message length", good[:len(good)-4]},
		{"wrong sequence", "answer to request 1 while waiting for 2", good},
		{"attribute overrun", "attribute", hashNet(cat(ip4(192, 0, 2, 0), []byte{40, 0, 3, 0, 24}))},
		{"prefix too long", "prefix length 33", hashNet(cat(ip4(192, 0, 2, 0), nlattr(attrCIDR, []byte{33})))},
		{"address of the other family", "address of its family",
			hashNet(nlattr(attrIP|unix.NLA_F_NESTED, nlattr(ipaddrV6, make([]byte, 16))))},
		{"error", "operation not permitted", func() []byte {
			b := make([]byte, nlmsgHeader, nlmsgHeader+4)
			endian.NativeEndian.PutUint32(b[0:], nlmsgHeader+4)
			endian.NativeEndian.PutUint16(b[4:], unix.NLMSG_ERROR)
			endian.NativeEndian.PutUint32(b[8:], 2)
			e := -int32(unix.EPERM)
			return endian.NativeEndian.AppendUint32(b, uint32(e))
		}()},
	} {
		d := newNLDecoder(Limits{})
		d.answer.Seq = 1
		if c.name == "wrong sequence" || c.name == "error" {
			d.answer.Seq = 2
		}
		_, err := d.datagram(c.dg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
	d := newNLDecoder(Limits{MaxEntries: 1})
	d.answer.Seq = 1
	two := hashNet(ip4(192, 0, 2, 1), ip4(192, 0, 2, 2))
	if _, err := d.datagram(two); err == nil || !strings.Contains(err.Error(), "more than 1 elements") {
		t.Errorf("element cap: %v", err)
	}
	d = newNLDecoder(Limits{})
	d.answer.Seq = 1
	unknown := hashNet(cat(ip4(192, 0, 2, 1), nlattr(27, be32b(1)))) // IPSET_ATTR_SKBMARK
	if _, err := d.datagram(unknown); !errors.Is(err, ErrNotDecoded) {
		t.Errorf("unknown element attribute: %v, want ErrNotDecoded", err)
	}
}

// FuzzNLDecoder: any datagram gives sets or an error, within the caps.
func FuzzNLDecoder(f *testing.F) {
	f.Add(hashNet(cat(ip4(192, 0, 2, 0), nlattr(attrCIDR, []byte{24}))))
	f.Add(hashNet(ip4(192, 0, 2, 1), cat(ip4(192, 0, 2, 2), nlattr(attrCADTFlags, be32b(flagNomatch)))))
	f.Add(setMsg(1, nlattr(attrSetName, []byte("l\x00")), nlattr(attrTypeName, []byte("list:set\x00")),
		nlattr(attrFamily, []byte{0}), nlattr(attrData|unix.NLA_F_NESTED, nlattr(attrSize, be32b(8))),
		nlattr(attrADT|unix.NLA_F_NESTED, nlattr(attrData|unix.NLA_F_NESTED, nlattr(attrName, []byte("s\x00"))))))
	f.Fuzz(func(t *testing.T, dg []byte) {
		d := newNLDecoder(Limits{MaxSets: 4, MaxEntries: 8})
		d.answer.Seq = 1
		if _, err := d.datagram(dg); err != nil {
			return
		}
		n := 0
		for _, s := range d.d.Sets {
			n += len(s.Entries)
		}
		if len(d.d.Sets) > 4 || n > 8 {
			t.Fatalf("caps exceeded: %d sets, %d elements", len(d.d.Sets), n)
		}
	})
}
