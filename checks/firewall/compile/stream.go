package compile

import (
	"fmt"
	"sync/atomic"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nfnl"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/xt"
)

// Stream compiles the kernel's nf_tables ruleset while it is read: it is
// the nfnl.Sink of a reading, and compiles the rules, a batch of chains
// at a time, on a goroutine of its own while the reader decodes the next
// ones. Neither the whole reading nor its statements are ever held: only
// the model.
//
// Its methods run on the reader's goroutine; Close must follow the
// reading, whatever its outcome.
type Stream struct {
	// sources waits for the other sources and returns them (their
	// NFTBytecode is ignored). It is called once, by the compiling
	// goroutine, before the first rule is compiled.
	sources func() Sources
	// names resolves ipset indexes in the reader's network namespace
	// (IPSetNamesHere): it runs on the reader's goroutine.
	names func([]uint16) (map[uint16]string, error)

	src      *Sources
	resolved map[uint16]bool
	namesErr error
	seeds    seeds

	// pending gathers chains until a batch is worth handing over.
	pending batch
	work    chan batch
	done    chan *bytecodeState
	// drop tells the compiling goroutine to give up its attempt.
	drop *atomic.Bool
	last *bytecodeState
}

// batch is one or more chains' rules, in order, with the ipset names they
// need that no batch before carried.
type batch struct {
	rules    []*nfnl.Rule
	names    map[uint16]string
	namesErr error
	end      bool
}

// NewStream returns a Stream; see its fields for sources and names.
func NewStream(sources func() Sources, names func([]uint16) (map[uint16]string, error)) *Stream {
	return &Stream{sources: sources, names: names}
}

// streamQueue bounds the batches read but not yet compiled: the reader
// waits beyond it rather than hold them.
const streamQueue = 2

// Begin starts compiling a reading attempt; an unfinished one is dropped.
func (s *Stream) Begin(rs *nfnl.Ruleset) error {
	s.stop()
	s.resolved, s.namesErr = map[uint16]bool{}, nil
	// The reader goes on appending rules to rs: the compiler gets the
	// rest, which it no longer changes.
	head := &nfnl.Ruleset{Generation: rs.Generation, Tables: rs.Tables, Chains: rs.Chains, Sets: rs.Sets, Objects: rs.Objects}
	s.work = make(chan batch, streamQueue)
	s.done = make(chan *bytecodeState, 1)
	s.drop = &atomic.Bool{}
	go s.compile(head, s.seeds, s.work, s.done, s.drop)
	return nil
}

// Rules hands one chain's rules to the compiler, with the names of the
// ipsets their xt expressions use.
func (s *Stream) Rules(rules []*nfnl.Rule) error {
	var want []uint16
	for _, r := range rules {
		for _, e := range r.Exprs {
			var idx []uint16
			switch x := e.(type) {
			case *nfnl.Match:
				idx = xt.SetIndexes("match", x.MatchName, x.Rev, x.Info)
			case *nfnl.Target:
				idx = xt.SetIndexes("target", x.TargetName, x.Rev, x.Info)
			}
			for _, i := range idx {
				if !s.resolved[i] {
					s.resolved[i] = true
					want = append(want, i)
				}
			}
		}
	}
	b := &s.pending
	b.rules = append(b.rules, rules...)
	if len(want) > 0 && s.namesErr == nil {
		names, err := s.names(want)
		s.namesErr = err
		if b.names == nil {
			b.names = map[uint16]string{}
		}
		for i, n := range names {
			b.names[i] = n
		}
	}
	b.namesErr = s.namesErr
	if len(b.rules) >= streamBatch {
		s.flush()
	}
	return nil
}

// streamBatch is about the number of rules handed over at once (whole
// chains are): a handover wakes the compiler, which costs more than
// compiling a few rules, and a batch waiting is memory held. 512 ran as
// fast as 4096 with a lower peak.
const streamBatch = 512

func (s *Stream) flush() {
	if len(s.pending.rules) > 0 || s.pending.names != nil {
		s.work <- s.pending
	}
	s.pending = batch{}
}

// End waits for the compiler. It asks for another reading when a rule
// updates a set that a rule before it was compiled as fixed.
func (s *Stream) End(*nfnl.Ruleset) error {
	s.flush()
	s.work <- batch{end: true}
	close(s.work)
	bs := <-s.done
	s.work, s.done = nil, nil
	if bs == nil || !bs.finish() {
		if bs != nil {
			s.seeds = bs.seeds
		}
		return nfnl.ErrReread
	}
	s.last = bs
	return nil
}

// Close lets an unfinished compiler go.
func (s *Stream) Close() { s.stop() }

func (s *Stream) stop() {
	s.pending = batch{}
	if s.work != nil {
		s.drop.Store(true)
		close(s.work)
		<-s.done
		s.work, s.done = nil, nil
	}
}

// Result is the model compiled from the last reading and the legacy
// tables (Sources), once the reading ended well; nil otherwise.
func (s *Stream) Result() (*eval.Ruleset, []string) {
	if s.last == nil {
		return nil, nil
	}
	return s.last.b.end()
}

// compile is the compiling goroutine of one attempt: it sends its state
// on done when the reading ends, or nil when it is dropped.
func (s *Stream) compile(rs *nfnl.Ruleset, sd seeds, work <-chan batch, done chan<- *bytecodeState, drop *atomic.Bool) {
	var bs *bytecodeState
	defer func() { done <- bs }()
	first, ok := <-work
	if !ok {
		return
	}
	if s.src == nil {
		src := s.sources()
		src.NFTBytecode = Dump[nfnl.Ruleset]{}
		s.src = &src
	}
	b := &builder{src: *s.src, rs: &eval.Ruleset{}}
	b.start()
	names := map[uint16]string{}
	var namesErr error
	setName := func(i uint16) (string, error) {
		if n, ok := names[i]; ok {
			return n, nil
		}
		if namesErr != nil {
			return "", namesErr
		}
		return "", fmt.Errorf("no ipset with index %d", i)
	}
	cur := b.bytecodeBegin(rs, setName, sd)
	for it, ok := first, true; ok; it, ok = <-work {
		for i, n := range it.names {
			names[i] = n
		}
		if it.namesErr != nil && namesErr == nil {
			namesErr = it.namesErr
		}
		if drop.Load() {
			continue // drain what the reader queued, compiling none of it
		}
		for i, r := range it.rules {
			it.rules[i] = nil
			cur.rule(r)
		}
		if it.end {
			bs = cur
			return
		}
	}
}
