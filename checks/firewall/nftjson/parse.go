package nftjson

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxSize caps the input.
const MaxSize = 64 << 20

var (
	// ErrTooLarge is returned for input over MaxSize.
	ErrTooLarge = errors.New("nft JSON input larger than the size limit")
	// ErrShape is wrapped when valid JSON does not have the shape of an
	// nft ruleset.
	ErrShape = errors.New("unexpected nft JSON shape")
	// ErrSyntax is wrapped when the input is not JSON.
	ErrSyntax = errors.New("invalid JSON")
	// ErrUnusual is wrapped for valid JSON that nft never writes and a
	// reader could take in more than one way: a repeated or escaped key,
	// a key differing from a known one only in case, nesting deeper than
	// nft's, a number beyond float64.
	ErrUnusual = errors.New("JSON nft does not write")
)

// SyntaxError locates a problem by line (nft -j writes one line; a
// pretty-printed dump has many) and byte offset.
type SyntaxError struct {
	Line   int
	Offset int64
	Err    error
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d (byte %d): %v", e.Line, e.Offset, e.Err)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// Parse reads "nft -j list ruleset" output in one pass (scan.go reads
// the JSON, decode.go the ruleset). Errors are *SyntaxError.
func Parse(r io.Reader) (*Ruleset, error) {
	var b strings.Builder
	if l, ok := r.(interface{ Len() int }); ok {
		b.Grow(min(l.Len(), MaxSize+1))
	}
	if _, err := io.Copy(&b, io.LimitReader(r, MaxSize+1)); err != nil {
		return nil, err
	}
	text := b.String()
	if len(text) > MaxSize {
		return nil, ErrTooLarge
	}
	return decode(text)
}
