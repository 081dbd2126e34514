// Package redisconf reads redis.conf and sentinel.conf the way redis-server
// does: quoted arguments, `include` expanded in place (recursively, with glob
// patterns), and the last occurrence of a directive winning.
package redisconf

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Limits keep a hostile or broken configuration from exhausting the check.
const (
	MaxFileSize   = 1 << 20 // redis.conf is ~100 KiB with all its comments
	MaxLineLength = 64 << 10
	MaxIncludes   = 64
	MaxDepth      = 8
)

// Directive is one configuration line.
type Directive struct {
	Name string   // lower-cased
	Args []string // unquoted
	File string
	Line int
}

// Where is "file:line" for findings.
func (d Directive) Where() string { return fmt.Sprintf("%s:%d", d.File, d.Line) }

// Config is a parsed configuration, includes expanded, in file order.
type Config struct {
	Directives []Directive
	Files      []string // every file read, in order
}

// Last returns the effective (last) occurrence of a directive.
func (c *Config) Last(name string) (Directive, bool) {
	name = strings.ToLower(name)
	for i := len(c.Directives) - 1; i >= 0; i-- {
		if c.Directives[i].Name == name {
			return c.Directives[i], true
		}
	}
	return Directive{}, false
}

// SyntaxError reports a line redis-server would refuse.
type SyntaxError struct {
	File string
	Line int
	Err  error
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *SyntaxError) Unwrap() error { return e.Err }

// ErrTooLarge and ErrTooManyIncludes are the caps being hit.
var (
	ErrTooLarge        = errors.New("input too large")
	ErrTooManyIncludes = errors.New("too many or too deeply nested includes")
	ErrLineTooLong     = errors.New("line too long")
	ErrEmptyDirective  = errors.New("empty directive name")
)

// Parse reads one file's text, without following includes: `include` lines
// are kept as directives. name labels the findings.
func Parse(r io.Reader, name string) (*Config, error) {
	c := &Config{Files: []string{name}}
	err := parseInto(c, r, name, nil, 0)
	return c, err
}

// Opener resolves an include pattern to files and opens them. ParseFile uses
// the real file system.
type Opener interface {
	Glob(pattern string) ([]string, error)
	Open(path string) (io.ReadCloser, error)
}

// ParseFile reads path and everything it includes.
func ParseFile(path string) (*Config, error) {
	return ParseWith(osFS{}, path)
}

// ParseWith reads path through fs, expanding includes.
func ParseWith(fs Opener, path string) (*Config, error) {
	c := &Config{}
	f, err := fs.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c.Files = append(c.Files, path)
	err = parseInto(c, f, path, fs, 0)
	return c, err
}

func parseInto(c *Config, r io.Reader, name string, fs Opener, depth int) error {
	lr := &io.LimitedReader{R: r, N: MaxFileSize + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 4096), MaxLineLength)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		args, err := SplitArgs(text)
		if err != nil {
			return &SyntaxError{File: name, Line: line, Err: err}
		}
		if len(args) == 0 {
			continue
		}
		if args[0] == "" {
			// redis-server refuses to start on it ("Bad directive").
			return &SyntaxError{File: name, Line: line, Err: ErrEmptyDirective}
		}
		d := Directive{Name: strings.ToLower(args[0]), Args: args[1:], File: name, Line: line}
		if d.Name == "include" && fs != nil {
			if err := include(c, d, fs, depth); err != nil {
				return err
			}
			continue
		}
		c.Directives = append(c.Directives, d)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return &SyntaxError{File: name, Line: line + 1, Err: ErrLineTooLong}
		}
		return &SyntaxError{File: name, Line: line + 1, Err: err}
	}
	if lr.N <= 0 {
		return &SyntaxError{File: name, Line: line, Err: ErrTooLarge}
	}
	return nil
}

// include expands an include line in place. Redis sorts glob matches and
// ignores a pattern that matches nothing; a plain path that is missing is an
// error for redis-server, and so it is here.
func include(c *Config, d Directive, fs Opener, depth int) error {
	if len(d.Args) != 1 {
		return &SyntaxError{File: d.File, Line: d.Line, Err: errors.New("include takes one path")}
	}
	if depth+1 > MaxDepth || len(c.Files) >= MaxIncludes {
		return &SyntaxError{File: d.File, Line: d.Line, Err: ErrTooManyIncludes}
	}
	pattern := d.Args[0]
	var paths []string
	if strings.ContainsAny(pattern, "*?[") {
		m, err := fs.Glob(pattern)
		if err != nil {
			return &SyntaxError{File: d.File, Line: d.Line, Err: err}
		}
		sort.Strings(m)
		paths = m
	} else {
		paths = []string{pattern}
	}
	for _, p := range paths {
		if len(c.Files) >= MaxIncludes {
			return &SyntaxError{File: d.File, Line: d.Line, Err: ErrTooManyIncludes}
		}
		f, err := fs.Open(p)
		if err != nil {
			return &SyntaxError{File: d.File, Line: d.Line, Err: fmt.Errorf("include %s: %w", p, err)}
		}
		c.Files = append(c.Files, p)
		err = parseInto(c, f, p, fs, depth+1)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

type osFS struct{}

func (osFS) Glob(p string) ([]string, error)      { return filepath.Glob(p) }
func (osFS) Open(p string) (io.ReadCloser, error) { return os.Open(p) }

// FromArgs turns redis-server's command line (after the program name) into
// directives: an optional config file path first, then `--name value …`
// groups, which Redis appends after the file's lines. A lone "-" reads the
// config from stdin, which cannot be recovered: it is reported.
func FromArgs(args []string) (file string, directives []Directive, err error) {
	i := 0
	if i < len(args) && !strings.HasPrefix(args[i], "--") {
		file = args[i]
		i++
	}
	var cur *Directive
	for ; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "--") && len(a) > 2 {
			directives = append(directives, Directive{Name: strings.ToLower(a[2:]), File: "command line", Line: len(directives) + 1})
			cur = &directives[len(directives)-1]
			continue
		}
		if cur == nil {
			return file, nil, fmt.Errorf("command line: unexpected argument %q", a)
		}
		cur.Args = append(cur.Args, a)
	}
	return file, directives, nil
}
