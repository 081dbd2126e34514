package iptsave

import (
	"io"
	"strings"
)

// readText reads at most limit+1 bytes as one string. Every token the
// parser keeps is a substring of it, so the dump costs one copy of the
// input rather than one allocation per word. A reader that knows its
// length (bytes.Reader, strings.Reader) is read in a single allocation.
func readText(r io.Reader, limit int64) (string, error) {
	var b strings.Builder
	if l, ok := r.(interface{ Len() int }); ok {
		b.Grow(int(min(int64(l.Len()), limit+1)))
	}
	if _, err := io.Copy(&b, io.LimitReader(r, limit+1)); err != nil {
		return "", err
	}
	return b.String(), nil
}

// slab hands out small slices carved from shared blocks: the parsed rules,
// matches, options and values of a dump live in a few large arrays. Each
// slice is capped at its length, so an append by a caller copies instead
// of overwriting a neighbour.
type slab[T any] struct{ buf []T }

const slabBlock = 1024

// take returns n zeroed elements, or nil for n == 0 (what appending to a
// nil slice would have left).
func (s *slab[T]) take(n int) []T {
	if n == 0 {
		return nil
	}
	if n > cap(s.buf)-len(s.buf) {
		s.buf = make([]T, 0, max(n, slabBlock))
	}
	i := len(s.buf)
	s.buf = s.buf[:i+n]
	return s.buf[i : i+n : i+n]
}
