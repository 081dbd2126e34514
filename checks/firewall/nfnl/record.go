package nfnl

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The recording format: the line "nfnl-recording 1\n", then frames of a
// kind byte (which request the datagram answers, see dumpKind), a 4-byte
// big-endian length and the datagram as the kernel sent it. An 'A' frame
// (empty) starts each read attempt; Decode keeps the last one.
const recordMagic = "nfnl-recording 1\n"

type recorder struct {
	w   io.Writer
	err error
}

func (r *recorder) header() error {
	if _, err := io.WriteString(r.w, recordMagic); err != nil {
		return fmt.Errorf("recording: %w", err)
	}
	return nil
}

func (r *recorder) frame(k dumpKind, b []byte) error {
	if r == nil {
		return nil
	}
	var h [5]byte
	h[0] = byte(k)
	binary.BigEndian.PutUint32(h[1:], uint32(len(b)))
	if _, err := r.w.Write(h[:]); err != nil {
		return fmt.Errorf("recording: %w", err)
	}
	if _, err := r.w.Write(b); err != nil {
		return fmt.Errorf("recording: %w", err)
	}
	return nil
}

// Decode reads a recording made with Options.Record and decodes it as
// Read decoded it live, with the default Limits.
func Decode(r io.Reader) (*Ruleset, error) { return DecodeLimits(r, Limits{}) }

// DecodeLimits is Decode with explicit limits.
func DecodeLimits(r io.Reader, lim Limits) (*Ruleset, error) {
	br := bufio.NewReader(r)
	magic := make([]byte, len(recordMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != recordMagic {
		return nil, errors.New("not an nfnl recording (bad header)")
	}
	d := newDecoder(lim)
	var frame bytes.Buffer
	off := int64(len(recordMagic))
	pending := false // inside a dump whose end has not been read
	attempts := 0
	for {
		var h [5]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			if err == io.EOF {
				break
			}
			return nil, fmt.Errorf("recording offset %d: frame header: %w", off, err)
		}
		k := dumpKind(h[0])
		n := binary.BigEndian.Uint32(h[1:])
		if int64(n) > int64(d.lim.MaxMessageBytes) {
			return nil, &LimitError{"MaxMessageBytes", d.lim.MaxMessageBytes, fmt.Sprintf("recording offset %d: a datagram of %d bytes", off, n)}
		}
		// Grown as bytes arrive, not from the length field: a frame that
		// claims more than the file holds costs only what it holds.
		frame.Reset()
		if _, err := io.CopyN(&frame, br, int64(n)); err != nil {
			return nil, fmt.Errorf("recording offset %d: datagram of %d bytes: %w", off, n, err)
		}
		buf := frame.Bytes()
		off += 5 + int64(n)
		switch k {
		case kindAttempt:
			if pending {
				return nil, fmt.Errorf("recording offset %d: attempt starts inside a dump", off)
			}
			d.reset()
			attempts++
			continue
		case kindGen, kindTables, kindChains, kindRules, kindSets, kindElements, kindObjects:
		default:
			return nil, fmt.Errorf("recording offset %d: unknown frame kind %q", off, byte(k))
		}
		if attempts == 0 {
			return nil, fmt.Errorf("recording offset %d: datagram before the first attempt", off)
		}
		done, err := d.datagram(k, buf)
		if err != nil {
			return nil, fmt.Errorf("recording offset %d: %w", off, err)
		}
		pending = !done
	}
	if attempts == 0 {
		return nil, errors.New("recording holds no read attempt")
	}
	if pending {
		return nil, errors.New("recording ends inside a dump")
	}
	if !d.genSeen {
		return nil, errors.New("recording holds no generation")
	}
	if d.changed || d.intr {
		return nil, ErrGenerationChanged
	}
	rs := d.rs
	rs.Generation = d.gen
	return rs, nil
}
