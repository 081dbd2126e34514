package nfnl

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nlsock"
)

// nf_tables message types (NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_*).
const (
	subsysNFTables = 10

	msgNewTable   = 0
	msgGetTable   = 1
	msgNewChain   = 3
	msgGetChain   = 4
	msgNewRule    = 6
	msgGetRule    = 7
	msgNewSet     = 9
	msgGetSet     = 10
	msgNewSetElem = 12
	msgGetSetElem = 13
	msgNewGen     = 15
	msgGetGen     = 16
	msgNewObj     = 18
	msgGetObj     = 19

	nlmsgHeader = 16
	nfgenHeader = 4
)

// Limits bounds what one reading may hold; a zero field takes its
// default. Exceeding one is an error naming it (*LimitError).
type Limits struct {
	MaxMessageBytes int // one netlink datagram; default 1 MiB
	MaxMessages     int // netlink messages over the whole reading; default 20 million
	MaxRules        int // default 2 million
	MaxElements     int // set elements over all sets; default 10 million
	MaxSets         int // default 1 million
}

func (l Limits) withDefaults() Limits {
	if l.MaxMessageBytes <= 0 {
		l.MaxMessageBytes = 1 << 20
	}
	if l.MaxMessages <= 0 {
		l.MaxMessages = 20_000_000
	}
	if l.MaxRules <= 0 {
		l.MaxRules = 2_000_000
	}
	if l.MaxElements <= 0 {
		l.MaxElements = 10_000_000
	}
	if l.MaxSets <= 0 {
		l.MaxSets = 1_000_000
	}
	return l
}

// LimitError says which limit a reading exceeded, and where.
type LimitError struct {
	Limit string // "MaxRules", ...
	Max   int
	Where string // e.g. "rule dump, table inet filter chain input"
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("nf_tables ruleset exceeds %s (%d) at %s", e.Limit, e.Max, e.Where)
}

// ErrGenerationChanged is returned when the ruleset kept changing while
// it was read.
var ErrGenerationChanged = errors.New("nf_tables ruleset changed during every read attempt")

// A dump kind names which request a datagram answers; the recording
// format stores it beside each datagram.
type dumpKind byte

const (
	kindAttempt  dumpKind = 'A' // start of a read attempt (no payload)
	kindGen      dumpKind = 'G'
	kindTables   dumpKind = 'T'
	kindChains   dumpKind = 'C'
	kindRules    dumpKind = 'R'
	kindSets     dumpKind = 'S'
	kindElements dumpKind = 'E'
	kindObjects  dumpKind = 'O'
)

func (k dumpKind) String() string {
	switch k {
	case kindAttempt:
		return "attempt"
	case kindGen:
		return "generation"
	case kindTables:
		return "table dump"
	case kindChains:
		return "chain dump"
	case kindRules:
		return "rule dump"
	case kindSets:
		return "set dump"
	case kindElements:
		return "set element dump"
	case kindObjects:
		return "object dump"
	}
	return fmt.Sprintf("dump %q", byte(k))
}

type setKey struct {
	fam         Family
	table, name string
}

// decoder turns netlink messages into a Ruleset, copying what it keeps
// into chunked arenas and interning names, so the datagrams can be
// reused.
type decoder struct {
	lim   Limits
	rs    *Ruleset
	sets  map[setKey]*Set
	names map[string]string
	// payloads and cmps share identical expressions between rules (a
	// large ruleset loads the same fields and compares them with the same
	// ports and protocols thousands of times); decoded expressions are
	// never changed.
	payloads map[Payload]*Payload
	cmps     map[cmpKey]*Cmp
	// payload and cmp are where one is decoded before it is shared (its
	// Data not yet copied): decoding it allocates nothing.
	payload Payload
	cmp     Cmp
	// ruleExprs is the NFTA_RULE_EXPRESSIONS of the rule being decoded.
	ruleExprs []byte
	// exprs shares other expressions by their attribute bytes (see
	// sharedExprs).
	exprs    map[string]map[string]Expr
	arena    []byte
	messages int
	nelems   int
	nrules   int // rules decoded in this attempt, handed over or not
	// seq is the request the datagrams answer (0 in a recording).
	seq uint32
	// lastTable and lastChain are the names the last rule gave.
	lastTable, lastChain string
	gen                  uint32
	genSeen              bool
	changed              bool // the generation differed between two readings of it
	intr                 bool // NLM_F_DUMP_INTR seen: the dump raced a change
}

func newDecoder(lim Limits) *decoder {
	d := &decoder{lim: lim.withDefaults(), names: map[string]string{}}
	d.reset()
	return d
}

func (d *decoder) reset() {
	d.rs = &Ruleset{}
	d.payloads, d.cmps = map[Payload]*Payload{}, map[cmpKey]*Cmp{}
	d.exprs = map[string]map[string]Expr{}
	d.sets = map[setKey]*Set{}
	d.messages, d.nelems, d.nrules = 0, 0, 0
	d.genSeen, d.intr, d.changed = false, false, false
}

const arenaChunk = 64 << 10

// bytes copies p into the arena.
func (d *decoder) bytes(p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	if len(p) > arenaChunk/8 {
		return append([]byte(nil), p...)
	}
	if cap(d.arena)-len(d.arena) < len(p) {
		d.arena = make([]byte, 0, arenaChunk)
	}
	n := len(d.arena)
	d.arena = append(d.arena, p...)
	return d.arena[n:len(d.arena):len(d.arena)]
}

// maxShared bounds each table of shared expressions: beyond it, values
// that rarely repeat (addresses) are not worth the entry.
const maxShared = 1 << 16

type cmpKey struct {
	op, sreg uint32
	data     string
}

func (d *decoder) internPayload(e Payload) *Payload {
	if s, ok := d.payloads[e]; ok {
		return s
	}
	p := &Payload{}
	*p = e
	if len(d.payloads) < maxShared {
		d.payloads[e] = p
	}
	return p
}

// internCmp returns the comparison of data (not yet copied) with op in
// sreg, shared when one was already decoded.
func (d *decoder) internCmp(sreg, op uint32, data []byte) *Cmp {
	if s, ok := d.cmps[cmpKey{op, sreg, string(data)}]; ok {
		return s
	}
	e := &Cmp{SReg: sreg, Op: op, Data: d.bytes(data)}
	if len(d.cmps) < maxShared {
		d.cmps[cmpKey{op, sreg, string(data)}] = e
	}
	return e
}

// lastName is last if p spells it, else p interned (and kept as last):
// the rules of a chain dump all name the same table and chain.
func (d *decoder) lastName(last *string, p []byte) string {
	if string(p) == *last {
		return *last
	}
	*last = d.str(p)
	return *last
}

// str interns a name: a ruleset repeats its table, chain and set names
// in every rule.
func (d *decoder) str(p []byte) string {
	if s, ok := d.names[string(p)]; ok {
		return s
	}
	if len(d.names) > 1<<20 {
		return string(p)
	}
	s := string(p)
	d.names[s] = s
	return s
}

// datagram decodes one datagram of the given dump. done is true when it
// ends the dump (NLMSG_DONE, or the reply of a non-dump request).
func (d *decoder) datagram(kind dumpKind, b []byte) (done bool, err error) {
	a := nlsock.Answer{Where: kind.String(), Seq: d.seq}
	sawGen := false
	done, err = a.Datagram(b, func(typ uint16, body []byte) error {
		d.messages++
		if d.messages > d.lim.MaxMessages {
			return &LimitError{"MaxMessages", d.lim.MaxMessages, kind.String()}
		}
		if typ>>8 != subsysNFTables {
			return fmt.Errorf("%s: unexpected message type %#x", kind, typ)
		}
		sawGen = sawGen || kind == kindGen
		return d.message(kind, uint8(typ), body)
	})
	d.intr = d.intr || a.Interrupted
	var ke *nlsock.KernelError
	if errors.As(err, &ke) {
		// An NLMSG_ERROR, or a dump that failed part way: what it sent
		// is not the whole answer.
		return false, &NetlinkError{Errno: int32(ke.Errno), Where: kind.String()}
	}
	if err != nil {
		return false, err
	}
	// The generation is asked for without a dump: its one message is
	// the answer.
	return done || sawGen, nil
}

// NetlinkError is an error the kernel answered a request with.
type NetlinkError struct {
	Errno int32
	Where string
}

// Unwrap gives the errno, so errors.Is(err, os.ErrPermission) tells a
// reader without CAP_NET_ADMIN.
func (e *NetlinkError) Unwrap() error { return syscall.Errno(e.Errno) }

func (e *NetlinkError) Error() string {
	return fmt.Sprintf("nf_tables %s: kernel error %d (%s)", e.Where, e.Errno, errnoName(e.Errno))
}

func (d *decoder) message(kind dumpKind, msg uint8, b []byte) error {
	if len(b) < nfgenHeader {
		return fmt.Errorf("%s: nfgenmsg truncated", kind)
	}
	fam := Family(b[0])
	b = b[nfgenHeader:]
	switch msg {
	case msgNewGen:
		return d.generation(b)
	case msgNewTable:
		return d.table(fam, b)
	case msgNewChain:
		return d.chain(fam, b)
	case msgNewRule:
		return d.rule(fam, b)
	case msgNewSet:
		return d.set(fam, b)
	case msgNewSetElem:
		return d.elements(fam, b)
	case msgNewObj:
		return d.object(fam, b)
	}
	return fmt.Errorf("%s: unexpected nf_tables message %d", kind, msg)
}

func (d *decoder) generation(b []byte) error {
	var f fields
	var gen uint32
	seen, err := walk(b, func(t uint16, p []byte) {
		if t == 1 {
			f.u32(&gen, "generation id", p)
		}
	})
	if err = errs(err, f.err); err != nil {
		return fmt.Errorf("generation: %w", err)
	}
	if seen&(1<<1) == 0 {
		return errors.New("generation: no NFTA_GEN_ID")
	}
	if d.genSeen && gen != d.gen {
		d.changed = true
	}
	d.gen, d.genSeen = gen, true
	return nil
}

func (d *decoder) table(fam Family, b []byte) error {
	t := &Table{Family: fam}
	if _, err := fill(d, t, tableAttrs, b); err != nil {
		return fmt.Errorf("table %s %s: %w", fam, t.Name, err)
	}
	d.rs.Tables = append(d.rs.Tables, t)
	return nil
}

func (d *decoder) chain(fam Family, b []byte) error {
	c := &Chain{Family: fam}
	seen, err := fill(d, c, chainAttrs, b)
	c.HasPolicy = seen&(1<<5) != 0 // NFTA_CHAIN_POLICY
	if err != nil {
		return fmt.Errorf("chain %s %s %s: %w", fam, c.Table, c.Name, err)
	}
	d.rs.Chains = append(d.rs.Chains, c)
	return nil
}

func (d *decoder) hook(c *Chain, b []byte) error {
	var f fields
	var dev string
	var devs []string
	c.HasHook = true
	_, err := walk(b, func(typ uint16, p []byte) {
		switch typ {
		case 1:
			f.u32(&c.Hooknum, "hooknum", p)
		case 2:
			var v uint32
			f.u32(&v, "priority", p)
			c.Priority = int32(v)
		case 3:
			dev = d.str(trimNUL(p))
		case 4:
			_, err := walk(p, func(t uint16, q []byte) {
				if t == 1 && len(devs) < 256 {
					devs = append(devs, d.str(trimNUL(q)))
				}
			})
			f.fail("devices", err)
		}
	})
	// The kernel sends a single device both ways; the list wins.
	switch {
	case len(devs) > 0:
		c.Devices = devs
	case dev != "":
		c.Devices = []string{dev}
	}
	return errs(err, f.err)
}

func (d *decoder) rule(fam Family, b []byte) error {
	r := &Rule{Family: fam}
	d.ruleExprs = nil
	_, err := fill(d, r, ruleAttrs, b)
	exprs := d.ruleExprs
	d.ruleExprs = nil
	if d.nrules >= d.lim.MaxRules {
		return &LimitError{"MaxRules", d.lim.MaxRules, fmt.Sprintf("rule dump, chain %s %s %s handle %d", fam, r.Table, r.Chain, r.Handle)}
	}
	if err == nil && exprs != nil {
		r.Exprs, err = d.exprList(exprs, 0)
	}
	if err != nil {
		return fmt.Errorf("rule %s %s %s handle %d: %w", fam, r.Table, r.Chain, r.Handle, err)
	}
	d.nrules++
	d.rs.Rules = append(d.rs.Rules, r)
	return nil
}

func (d *decoder) set(fam Family, b []byte) error {
	s := &Set{Family: fam}
	_, err := fill(d, s, setAttrs, b)
	if len(d.rs.Sets) >= d.lim.MaxSets {
		return &LimitError{"MaxSets", d.lim.MaxSets, fmt.Sprintf("set dump, set %s %s %s", fam, s.Table, s.Name)}
	}
	if err != nil {
		return fmt.Errorf("set %s %s %s: %w", fam, s.Table, s.Name, err)
	}
	d.rs.Sets = append(d.rs.Sets, s)
	d.sets[setKey{fam, s.Table, s.Name}] = s
	return nil
}

func (d *decoder) setDesc(s *Set, b []byte) error {
	var f fields
	_, err := walk(b, func(typ uint16, p []byte) {
		switch typ {
		case 1:
			f.u32(&s.Size, "size", p)
		case 2:
			_, err := walk(p, func(t uint16, q []byte) {
				if t != 1 || len(s.Fields) >= 16 { // NFT_REG32_COUNT fields at most
					return
				}
				_, err := walk(q, func(t uint16, r []byte) {
					if t == 1 {
						var v uint32
						f.u32(&v, "field len", r)
						s.Fields = append(s.Fields, v)
					}
				})
				f.fail("field", err)
			})
			f.fail("concat", err)
		}
	})
	return errs(err, f.err)
}

func (d *decoder) elements(fam Family, b []byte) error {
	var table, name string
	var list []byte
	_, err := walk(b, func(typ uint16, p []byte) {
		switch typ {
		case 1:
			table = d.str(trimNUL(p))
		case 2:
			name = d.str(trimNUL(p))
		case 3:
			list = p
		}
	})
	if err != nil {
		return fmt.Errorf("set elements %s %s %s: %w", fam, table, name, err)
	}
	s := d.sets[setKey{fam, table, name}]
	if s == nil {
		return fmt.Errorf("set elements of %s %s %s, a set the set dump did not list", fam, table, name)
	}
	a := nlsock.AttrsOf(list)
	for {
		typ, p, ok := a.Next()
		if !ok {
			break
		}
		if typ != 1 {
			continue
		}
		d.nelems++
		if d.nelems > d.lim.MaxElements {
			return &LimitError{"MaxElements", d.lim.MaxElements, fmt.Sprintf("set %s %s %s", fam, table, name)}
		}
		if err := d.elem(s, p); err != nil {
			return fmt.Errorf("set %s %s %s element %d: %w", fam, table, name, len(s.Elements), err)
		}
	}
	if a.Err() != nil {
		return fmt.Errorf("set elements %s %s %s: %w", fam, table, name, a.Err())
	}
	return nil
}

// elem decodes an element into s, in place (an Elem is large, and a set
// may have millions); on an error s is left as it was.
func (d *decoder) elem(s *Set, b []byte) error {
	s.Elements = append(s.Elements, Elem{})
	_, err := fill(d, &s.Elements[len(s.Elements)-1], elemAttrs, b)
	if err != nil {
		s.Elements = s.Elements[:len(s.Elements)-1]
	}
	return err
}

func (d *decoder) object(fam Family, b []byte) error {
	o := &Object{Family: fam}
	if _, err := fill(d, o, objectAttrs, b); err != nil {
		return fmt.Errorf("object %s %s %s: %w", fam, o.Table, o.Name, err)
	}
	d.rs.Objects = append(d.rs.Objects, o)
	return nil
}
