package iptsave

import (
	"errors"
	"fmt"
)

// MaxSize caps the input: a dump larger than this is refused rather than
// read into memory.
const MaxSize = 64 << 20

// ErrTooLarge is returned for input over MaxSize.
var ErrTooLarge = errors.New("iptables-save input larger than the size limit")

// ErrSyntax is wrapped by every SyntaxError.
var ErrSyntax = errors.New("iptables-save syntax error")

// SyntaxError locates a malformed line.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Unwrap makes errors.Is(err, ErrSyntax) hold.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

func syntaxf(line int, format string, args ...any) error {
	return &SyntaxError{Line: line, Msg: fmt.Sprintf(format, args...)}
}
