package ipset

import (
	endian "encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nlsock"
)

// ErrNotDecoded marks a dump holding something the netlink decoder does
// not write as ipset save would (a set type or an extension it does not
// know): the caller reads `ipset save` instead.
var ErrNotDecoded = errors.New("not decoded from netlink")

// NetlinkError is an error the kernel answered with.
type NetlinkError struct{ Errno syscall.Errno }

func (e *NetlinkError) Error() string { return fmt.Sprintf("ipset netlink: %v", e.Errno) }
func (e *NetlinkError) Unwrap() error { return e.Errno }

// Limits bound a netlink reading; zero fields take the defaults.
type Limits struct {
	// MaxSets caps the sets (default 65535, the kernel's index space).
	MaxSets int
	// MaxEntries caps the entries of all sets together (default 16M).
	MaxEntries int
}

func (l Limits) withDefaults() Limits {
	if l.MaxSets <= 0 {
		l.MaxSets = 65535
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = 16 << 20
	}
	return l
}

// The ipset netlink protocol (linux/netfilter/ipset/ip_set.h).
const (
	subsysIPSet = 6 // NFNL_SUBSYS_IPSET
	cmdList     = 7 // IPSET_CMD_LIST: the kernel's answer to either
	cmdSave     = 8 // IPSET_CMD_SAVE
	protocol    = 7

	nlmsgHeader = unix.SizeofNlMsghdr
	nfgenHeader = 4

	// Command level.
	attrProtocol = 1
	attrSetName  = 2
	attrTypeName = 3
	attrFamily   = 5
	attrData     = 7
	attrADT      = 8
	attrIndex    = 11

	// Inside IPSET_ATTR_DATA.
	attrIP         = 1
	attrIPTo       = 2
	attrCIDR       = 3
	attrPort       = 4
	attrTimeout    = 6
	attrProto      = 7
	attrCADTFlags  = 8
	attrInitval    = 17
	attrHashsize   = 18
	attrMaxelem    = 19
	attrNetmask    = 20
	attrBucketsize = 21
	attrResize     = 22
	attrSize       = 23
	attrElements   = 24
	attrReferences = 25
	attrMemsize    = 26
	attrName       = 18 // an element's: list:set members
	attrBytes      = 24
	attrPackets    = 25
	attrComment    = 26
	attrPad        = 30

	ipaddrV4 = 1
	ipaddrV6 = 2

	flagNomatch  = 1 << 2
	flagCounters = 1 << 3
	flagComment  = 1 << 4
	flagForceadd = 1 << 5

	nfprotoIPv4 = 2
	nfprotoIPv6 = 10
)

// decodedTypes are the set types whose headers and elements the decoder
// writes as ipset save does.
var decodedTypes = map[string]bool{
	"hash:ip": true, "hash:net": true, "bitmap:ip": true, "list:set": true,
	"hash:ip,port": true, "hash:net,port": true,
}

// protoNames are the protocols ipset writes by name in a port element.
var protoNames = map[uint8]string{unix.IPPROTO_TCP: "tcp", unix.IPPROTO_UDP: "udp", unix.IPPROTO_SCTP: "sctp",
	unix.IPPROTO_UDPLITE: "udplite"}

// nlDecoder builds the Dump from the answer to IPSET_CMD_SAVE.
type nlDecoder struct {
	lim     Limits
	answer  nlsock.Answer
	d       *Dump
	byName  map[string]*Set
	entries int
	line    int
}

func newNLDecoder(lim Limits) *nlDecoder {
	return &nlDecoder{lim: lim.withDefaults(), d: &Dump{}, byName: map[string]*Set{}, answer: nlsock.Answer{Where: "ipset netlink"}}
}

// datagram decodes one datagram; it reports whether the dump ended.
func (d *nlDecoder) datagram(b []byte) (bool, error) {
	done, err := d.answer.Datagram(b, func(typ uint16, msg []byte) error {
		if typ != subsysIPSet<<8|cmdList && typ != subsysIPSet<<8|cmdSave {
			return fmt.Errorf("ipset netlink: unexpected message type %#x", typ)
		}
		if len(msg) < nfgenHeader {
			return fmt.Errorf("ipset netlink: message of %d bytes", len(msg))
		}
		return d.message(msg[nfgenHeader:])
	})
	var ke *nlsock.KernelError
	switch {
	case errors.As(err, &ke):
		return true, &NetlinkError{ke.Errno}
	case err != nil:
		return false, err
	case done && d.answer.Acked:
		return false, fmt.Errorf("ipset netlink: acknowledged instead of dumped")
	}
	return done, nil
}

// message is one part of a set: its header the first time, then a batch
// of its elements.
func (d *nlDecoder) message(b []byte) error {
	var name, typ string
	var fam uint8
	var data, adt []byte
	hasFam := false
	err := walk(b, func(t uint16, v []byte) error {
		switch t {
		case attrSetName:
			name = nlsock.CString(v)
		case attrTypeName:
			typ = nlsock.CString(v)
		case attrFamily:
			if len(v) != 1 {
				return fmt.Errorf("ipset netlink: family of %d bytes", len(v))
			}
			fam, hasFam = v[0], true
		case attrData:
			data = v
		case attrADT:
			adt = v
		}
		return nil
	})
	if err != nil {
		return err
	}
	if name == "" {
		return fmt.Errorf("ipset netlink: a set without a name")
	}
	s := d.byName[name]
	if typ != "" {
		if s != nil {
			return fmt.Errorf("ipset netlink: set %q listed twice", name)
		}
		if !decodedTypes[typ] {
			return fmt.Errorf("set %s of type %s: %w", name, typ, ErrNotDecoded)
		}
		if len(d.d.Sets) >= d.lim.MaxSets {
			return fmt.Errorf("ipset netlink: more than %d sets", d.lim.MaxSets)
		}
		d.line++
		s = &Set{Name: name, Type: typ, Line: d.line}
		switch {
		case !hasFam:
			return fmt.Errorf("ipset netlink: set %s without a family", name)
		case fam == nfprotoIPv4:
			s.Family = "inet"
		case fam == nfprotoIPv6:
			s.Family = "inet6"
		case typ != "list:set":
			return fmt.Errorf("ipset netlink: set %s of family %d", name, fam)
		}
		if err := d.header(s, data); err != nil {
			return err
		}
		d.d.Sets = append(d.d.Sets, s)
		d.byName[name] = s
	}
	if s == nil {
		return fmt.Errorf("ipset netlink: elements of set %q before its header", name)
	}
	if adt == nil {
		return nil
	}
	return walk(adt, func(t uint16, v []byte) error {
		if t != attrData {
			return fmt.Errorf("ipset netlink: set %s: attribute %d among its elements", s.Name, t)
		}
		if d.entries >= d.lim.MaxEntries {
			return fmt.Errorf("ipset netlink: more than %d elements", d.lim.MaxEntries)
		}
		d.entries++
		return d.element(s, v)
	})
}

// header writes a set's create options as ipset save does.
func (d *nlDecoder) header(s *Set, b []byte) error {
	var opts struct {
		hashsize, maxelem, timeout, initval, size, flags uint32
		netmask, bucketsize                              uint8
		has                                              map[uint16]bool
		from, to                                         netip.Addr
	}
	opts.has = map[uint16]bool{}
	err := walk(b, func(t uint16, v []byte) error {
		opts.has[t] = true
		var err error
		switch t {
		case attrHashsize:
			opts.hashsize, err = be32(v)
		case attrMaxelem:
			opts.maxelem, err = be32(v)
		case attrTimeout:
			opts.timeout, err = be32(v)
		case attrInitval:
			opts.initval, err = be32(v)
		case attrSize:
			opts.size, err = be32(v)
		case attrCADTFlags:
			opts.flags, err = be32(v)
		case attrNetmask:
			opts.netmask, err = u8(v)
		case attrBucketsize:
			opts.bucketsize, err = u8(v)
		case attrIP:
			opts.from, err = ipAddr(v)
		case attrIPTo:
			opts.to, err = ipAddr(v)
		case attrResize, attrElements, attrReferences, attrMemsize, attrPad:
			// Not written by ipset save.
		default:
			return fmt.Errorf("set %s: header attribute %d: %w", s.Name, t, ErrNotDecoded)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("ipset netlink: set %s: %w", s.Name, err)
	}
	add := func(name, value string) {
		s.Options = append(s.Options, Option{Name: name, Value: value, HasValue: value != ""})
	}
	num := func(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
	switch {
	case strings.HasPrefix(s.Type, "hash:"):
		add("family", s.Family)
		add("hashsize", num(opts.hashsize))
		add("maxelem", num(opts.maxelem))
		if opts.has[attrNetmask] {
			add("netmask", num(uint32(opts.netmask)))
		}
	case s.Type == "bitmap:ip":
		if !opts.from.IsValid() || !opts.to.IsValid() {
			return fmt.Errorf("ipset netlink: set %s without its range", s.Name)
		}
		add("range", opts.from.String()+"-"+opts.to.String())
		if opts.has[attrNetmask] {
			add("netmask", num(uint32(opts.netmask)))
		}
	case s.Type == "list:set":
		add("size", num(opts.size))
	}
	if opts.has[attrTimeout] {
		add("timeout", num(opts.timeout))
	}
	if opts.flags&flagCounters != 0 {
		add("counters", "")
	}
	if opts.flags&flagComment != 0 {
		add("comment", "")
	}
	// forceadd only changes what adding does: ipset save omits it.
	if rest := opts.flags &^ (flagCounters | flagComment | flagForceadd); rest != 0 {
		return fmt.Errorf("set %s: create flags %#x: %w", s.Name, rest, ErrNotDecoded)
	}
	if opts.has[attrBucketsize] {
		add("bucketsize", num(uint32(opts.bucketsize)))
	}
	if opts.has[attrInitval] {
		add("initval", fmt.Sprintf("0x%08x", opts.initval))
	}
	return nil
}

// element writes one element as ipset save does.
func (d *nlDecoder) element(s *Set, b []byte) error {
	var ip netip.Addr
	var cidr, proto uint8
	var port uint16
	var flags, timeout uint32
	var packets, bytes uint64
	var name, comment string
	var has uint64 // bit t: attribute t was there
	err := walk(b, func(t uint16, v []byte) error {
		has |= 1 << (t & 63)
		var err error
		switch t {
		case attrIP:
			ip, err = ipAddr(v)
		case attrCIDR:
			cidr, err = u8(v)
		case attrProto:
			proto, err = u8(v)
		case attrPort:
			if len(v) != 2 {
				return fmt.Errorf("port of %d bytes", len(v))
			}
			port = endian.BigEndian.Uint16(v)
		case attrCADTFlags:
			flags, err = be32(v)
		case attrTimeout:
			timeout, err = be32(v)
		case attrPackets, attrBytes:
			if len(v) != 8 {
				return fmt.Errorf("counter of %d bytes", len(v))
			}
			if t == attrPackets {
				packets = endian.BigEndian.Uint64(v)
			} else {
				bytes = endian.BigEndian.Uint64(v)
			}
		case attrName:
			name = nlsock.CString(v)
		case attrComment:
			comment = nlsock.CString(v)
		case attrPad:
		default:
			return fmt.Errorf("element attribute %d: %w", t, ErrNotDecoded)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("ipset netlink: set %s: %w", s.Name, err)
	}
	if flags&^flagNomatch != 0 {
		return fmt.Errorf("ipset netlink: set %s: element flags %#x: %w", s.Name, flags, ErrNotDecoded)
	}
	var value string
	if s.Type == "list:set" {
		if name == "" {
			return fmt.Errorf("ipset netlink: set %s: a member without a name", s.Name)
		}
		value = name
	} else {
		if !ip.IsValid() || (s.Family == "inet") != ip.Is4() {
			return fmt.Errorf("ipset netlink: set %s: element without an address of its family", s.Name)
		}
		value = ip.String()
		if has&(1<<attrCIDR) != 0 {
			if int(cidr) > ip.BitLen() {
				return fmt.Errorf("ipset netlink: set %s: prefix length %d", s.Name, cidr)
			}
			if int(cidr) != ip.BitLen() {
				value += "/" + strconv.Itoa(int(cidr))
			}
		}
		if strings.HasSuffix(s.Type, ",port") {
			if has&(1<<attrPort) == 0 || has&(1<<attrProto) == 0 {
				return fmt.Errorf("ipset netlink: set %s: element without its port", s.Name)
			}
			pn, ok := protoNames[proto]
			if !ok {
				return fmt.Errorf("set %s: port of protocol %d: %w", s.Name, proto, ErrNotDecoded)
			}
			value += "," + pn + ":" + strconv.Itoa(int(port))
		}
	}
	d.line++
	// In ipset save's order.
	e := Entry{Value: value, NoMatch: flags&flagNomatch != 0, Line: d.line}
	if has&(1<<attrTimeout) != 0 {
		e.Options = append(e.Options, Option{Name: "timeout", Value: strconv.FormatUint(uint64(timeout), 10), HasValue: true})
	}
	if e.NoMatch {
		e.Options = append(e.Options, Option{Name: "nomatch"})
	}
	if has&(1<<attrPackets) != 0 || has&(1<<attrBytes) != 0 {
		e.Options = append(e.Options, Option{Name: "packets", Value: strconv.FormatUint(packets, 10), HasValue: true},
			Option{Name: "bytes", Value: strconv.FormatUint(bytes, 10), HasValue: true})
	}
	if has&(1<<attrComment) != 0 {
		e.Options = append(e.Options, Option{Name: "comment", Value: comment, HasValue: true})
	}
	s.Entries = append(s.Entries, e)
	return nil
}

// ipAddr decodes a nested IPSET_ATTR_IPADDR_IPV4/IPV6.
func ipAddr(b []byte) (netip.Addr, error) {
	var a netip.Addr
	err := walk(b, func(t uint16, v []byte) error {
		switch {
		case t == ipaddrV4 && len(v) == 4, t == ipaddrV6 && len(v) == 16:
			a, _ = netip.AddrFromSlice(v)
			return nil
		}
		return fmt.Errorf("address attribute %d of %d bytes", t, len(v))
	})
	if err == nil && !a.IsValid() {
		err = fmt.Errorf("an empty address attribute")
	}
	return a, err
}

func be32(v []byte) (uint32, error) {
	if len(v) != 4 {
		return 0, fmt.Errorf("a 32-bit attribute of %d bytes", len(v))
	}
	return endian.BigEndian.Uint32(v), nil
}

func u8(v []byte) (uint8, error) {
	if len(v) != 1 {
		return 0, fmt.Errorf("an 8-bit attribute of %d bytes", len(v))
	}
	return v[0], nil
}

// walk calls fn on each attribute of b, flags masked, refusing one that
// overruns.
func walk(b []byte, fn func(t uint16, v []byte) error) error {
	a := nlsock.AttrsOf(b)
	for {
		t, v, ok := a.Next()
		if !ok {
			break
		}
		if err := fn(t, v); err != nil {
			return err
		}
	}
	if err := a.Err(); err != nil {
		return fmt.Errorf("ipset netlink: %w", err)
	}
	return nil
}
