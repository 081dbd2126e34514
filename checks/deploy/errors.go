package deploy

import (
	"errors"
	"fmt"
)

// ErrTooMany: a reply lists more entries than MaxListed.
var ErrTooMany = errors.New("more entries than the limit")

// ErrMalformed: a reply is not shaped as the command's reply is.
var ErrMalformed = errors.New("malformed reply")

// ParseError locates a parse failure: Line for text replies (1-based),
// Entry for array replies (0-based, -1 for the reply as a whole).
type ParseError struct {
	What  string // "CLUSTER NODES", "SENTINEL MASTERS" …
	Line  int
	Entry int
	Msg   string
	Err   error
}

func (e *ParseError) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%s line %d: %s", e.What, e.Line, e.Msg)
	case e.Entry >= 0:
		return fmt.Sprintf("%s entry %d: %s", e.What, e.Entry, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.What, e.Msg)
}

func (e *ParseError) Unwrap() error { return e.Err }

func lineErr(what string, line int, format string, args ...any) error {
	return &ParseError{What: what, Line: line, Entry: -1, Msg: fmt.Sprintf(format, args...), Err: ErrMalformed}
}

func entryErr(what string, entry int, format string, args ...any) error {
	return &ParseError{What: what, Entry: entry, Msg: fmt.Sprintf(format, args...), Err: ErrMalformed}
}

func tooMany(what string, limit int) error {
	return &ParseError{What: what, Entry: -1, Msg: fmt.Sprintf("more than %d entries", limit), Err: ErrTooMany}
}
