package nlsock

import (
	"encoding/binary"
	"errors"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func message(typ, flags uint16, seq uint32, body []byte) []byte {
	b := make([]byte, msgHeader, msgHeader+len(body)+3)
	binary.NativeEndian.PutUint32(b[0:], uint32(msgHeader+len(body)))
	binary.NativeEndian.PutUint16(b[4:], typ)
	binary.NativeEndian.PutUint16(b[6:], flags)
	binary.NativeEndian.PutUint32(b[8:], seq)
	b = append(b, body...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// claims rewrites a message's length field.
func claims(b []byte, n uint32) []byte {
	binary.NativeEndian.PutUint32(b, n)
	return b
}

func errno(e syscall.Errno) []byte {
	b := make([]byte, 4)
	v := -int32(e)
	binary.NativeEndian.PutUint32(b, uint32(v))
	return b
}

func TestAnswer(t *testing.T) {
	data := append(message(100, unix.NLM_F_MULTI, 3, []byte{1, 2, 3}), message(101, unix.NLM_F_MULTI|unix.NLM_F_DUMP_INTR, 3, nil)...)
	cases := []struct {
		name              string
		in                []byte
		types             []uint16
		done, acked, intr bool
		errno             syscall.Errno
		err               string
	}{
		{"data, one interrupted", data, []uint16{100, 101}, false, false, true, 0, ""},
		{"data then done", append(data, message(unix.NLMSG_DONE, unix.NLM_F_MULTI, 3, errno(0))...), []uint16{100, 101}, true, false, true, 0, ""},
		{"done carrying an error", message(unix.NLMSG_DONE, unix.NLM_F_MULTI, 3, errno(syscall.EMSGSIZE)), nil, true, false, false, syscall.EMSGSIZE, ""},
		{"error", message(unix.NLMSG_ERROR, 0, 3, errno(syscall.EPERM)), nil, true, false, false, syscall.EPERM, ""},
		{"acknowledgement", message(unix.NLMSG_ERROR, 0, 3, errno(0)), nil, true, true, false, 0, ""},
		{"noop skipped", message(unix.NLMSG_NOOP, 0, 3, nil), nil, false, false, false, 0, ""},
		{"another request's", message(100, 0, 2, nil), nil, false, false, false, 0, "t: answer to request 2 while waiting for 3"},
		{"header cut", data[:10], nil, false, false, false, 0, "t: 10 bytes left, shorter than a message header"},
		{"length past the end", claims(message(100, 0, 3, []byte{1, 2, 3, 4}), 40), nil, false, false, false, 0, "t: message length 40 with 20 bytes left"},
		{"error cut", message(unix.NLMSG_ERROR, 0, 3, []byte{1}), nil, false, false, false, 0, "t: truncated error message"},
	}
	for _, c := range cases {
		a := Answer{Where: "t", Seq: 3}
		var types []uint16
		done, err := a.Datagram(c.in, func(typ uint16, body []byte) error {
			types = append(types, typ)
			return nil
		})
		var ke *KernelError
		switch {
		case c.errno != 0:
			if !errors.As(err, &ke) || ke.Errno != c.errno {
				t.Errorf("%s: err %v, want %v", c.name, err, c.errno)
			}
		case c.err != "":
			if err == nil || err.Error() != c.err {
				t.Errorf("%s: err %v, want %q", c.name, err, c.err)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		}
		if len(types) != len(c.types) || done != c.done || a.Acked != c.acked || a.Interrupted != c.intr {
			t.Errorf("%s: types %v done %v acked %v interrupted %v; want %v %v %v %v", c.name, types, done, a.Acked, a.Interrupted, c.types, c.done, c.acked, c.intr)
		}
	}
	// fn's error stops the reading and is returned as it is.
	a := Answer{Where: "t", Seq: 3}
	if _, err := a.Datagram(data, func(uint16, []byte) error { return errors.New("bad rule") }); err == nil || !strings.HasPrefix(err.Error(), "bad rule") {
		t.Errorf("fn's error: %v", err)
	}
}
