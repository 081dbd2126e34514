package auth

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// User is one line of ACL LIST, reduced to what the audit judges. Password
// material is never kept: only whether a password exists.
type User struct {
	Name    string
	Line    int // 1-based line in the ACL LIST reply
	Enabled bool
	// NoPass: any password is accepted (for default: no AUTH needed at all).
	NoPass bool
	// Passwords counts the passwords set (#hash or >password), ignoring
	// removals (<password, !hash): an upper bound, so that a user is never
	// wrongly thought unable to log in. The values are dropped while parsing.
	Passwords int
	// Root holds the user's own command rules; Selectors (Redis 7.0+,
	// written in parentheses) grant more: a command runs if the root or any
	// selector allows it.
	Root      Selector
	Selectors []Selector
	// Unknown holds tokens the parser did not understand (never a token that
	// can carry a secret). Their effect on permissions is unknown.
	Unknown []string
}

// Selector is an ordered list of command rules; later rules override
// earlier ones, as in Redis.
type Selector struct {
	Rules []Rule
}

// RuleKind says what a command rule names.
type RuleKind int

const (
	// AllCommands: +@all, -@all, allcommands, nocommands.
	AllCommands RuleKind = iota
	// Category: +@read, -@dangerous.
	Category
	// Command: +config, -flushall (every subcommand included).
	Command
	// Subcommand: +config|get, or a first-argument rule such as +select|0.
	Subcommand
)

// Rule is one command rule.
type Rule struct {
	Allow bool
	Kind  RuleKind
	Name  string // category or command, lower case
	Sub   string // subcommand or first argument, lower case
}

// String is the rule as Redis writes it.
func (r Rule) String() string {
	sign := "-"
	if r.Allow {
		sign = "+"
	}
	switch r.Kind {
	case AllCommands:
		return sign + "@all"
	case Category:
		return sign + "@" + r.Name
	case Subcommand:
		return sign + r.Name + "|" + r.Sub
	}
	return sign + r.Name
}

// Limits on what the parser reads: a server with more users than this is
// not something to audit in one check run, and a longer line is not ACL LIST.
const (
	maxACLBytes = 4 << 20
	maxACLUsers = 10000
	maxLineLen  = 256 << 10
)

// Parse errors.
var (
	ErrNotUserLine = errors.New("not an ACL LIST user line")
	ErrTooLarge    = errors.New("ACL LIST reply too large")
	ErrUnbalanced  = errors.New("unbalanced selector parentheses")
)

// ParseError locates a line ParseACLList could not read.
type ParseError struct {
	Line int
	Err  error
}

func (e *ParseError) Error() string { return fmt.Sprintf("ACL LIST line %d: %v", e.Line, e.Err) }
func (e *ParseError) Unwrap() error { return e.Err }

// ParseACLList reads ACL LIST output, one user per line, capped in size.
// Blank lines are skipped.
func ParseACLList(r io.Reader) ([]User, error) {
	lr := &io.LimitedReader{R: r, N: maxACLBytes + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 4096), maxLineLen)
	var users []User
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if len(users) >= maxACLUsers {
			return nil, &ParseError{Line: n, Err: ErrTooLarge}
		}
		u, err := ParseUser(line)
		if err != nil {
			return nil, &ParseError{Line: n, Err: err}
		}
		u.Line = n
		users = append(users, u)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = ErrTooLarge
		}
		return nil, &ParseError{Line: n + 1, Err: err}
	}
	if lr.N <= 0 {
		return nil, &ParseError{Line: n, Err: ErrTooLarge}
	}
	return users, nil
}

// ParseUser reads one "user NAME rule..." line. It applies the rules in
// order the way ACL SETUSER does, so the result describes the user whether
// the line is Redis's normalised form or a hand-written aclfile line.
func ParseUser(line string) (User, error) {
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "user" {
		return User{}, ErrNotUserLine
	}
	u := User{Name: f[1]}
	var cur *Selector = &u.Root
	inSel := false
	for _, tok := range f[2:] {
		if strings.HasPrefix(tok, "(") {
			if inSel {
				return User{}, ErrUnbalanced
			}
			u.Selectors = append(u.Selectors, Selector{})
			cur = &u.Selectors[len(u.Selectors)-1]
			inSel = true
			tok = tok[1:]
		}
		closing := false
		if inSel && strings.HasSuffix(tok, ")") {
			tok = tok[:len(tok)-1]
			closing = true
		} else if strings.Contains(tok, ")") && !inSel {
			return User{}, ErrUnbalanced
		}
		if tok != "" {
			u.apply(cur, tok, inSel)
		}
		if closing {
			inSel = false
			cur = &u.Root
		}
	}
	if inSel {
		return User{}, ErrUnbalanced
	}
	return u, nil
}

// apply applies one token to the user (flags, passwords) or to the current
// selector (command rules). Key and channel patterns do not change which
// commands run, so they are accepted and ignored.
func (u *User) apply(sel *Selector, tok string, inSel bool) {
	low := strings.ToLower(tok)
	switch tok[0] {
	case '#', '>':
		// A password or its hash: count it, never keep it.
		if !inSel {
			u.Passwords++
			u.NoPass = false
		}
		return
	case '<', '!':
		// Removing a password: which one is unknown here, and a user
		// thought to have none would be judged unable to log in. Keep the
		// count as an upper bound.
		return
	case '~', '%', '&':
		return
	case '+', '-':
		if r, ok := parseCommandRule(low); ok {
			sel.Rules = append(sel.Rules, r)
			return
		}
	}
	if !inSel {
		switch low {
		case "on":
			u.Enabled = true
			return
		case "off":
			u.Enabled = false
			return
		case "nopass":
			u.NoPass, u.Passwords = true, 0
			return
		case "resetpass":
			u.NoPass, u.Passwords = false, 0
			return
		case "reset":
			// ACL SETUSER reset: off, resetpass, resetkeys, resetchannels,
			// clearselectors, -@all.
			u.Enabled, u.NoPass, u.Passwords = false, false, 0
			u.Selectors = nil
			u.Root.Rules = append(u.Root.Rules, Rule{Allow: false, Kind: AllCommands})
			return
		case "clearselectors":
			u.Selectors = nil
			return
		case "sanitize-payload", "skip-sanitize-payload":
			return
		}
	}
	switch low {
	case "allcommands":
		sel.Rules = append(sel.Rules, Rule{Allow: true, Kind: AllCommands})
	case "nocommands":
		sel.Rules = append(sel.Rules, Rule{Allow: false, Kind: AllCommands})
	case "allkeys", "resetkeys", "allchannels", "resetchannels":
	default:
		u.Unknown = append(u.Unknown, shorten(tok))
	}
}

// parseCommandRule reads +@cat, -cmd, +cmd|sub (already lower case).
func parseCommandRule(tok string) (Rule, bool) {
	r := Rule{Allow: tok[0] == '+'}
	body := tok[1:]
	if body == "" {
		return Rule{}, false
	}
	if cat, ok := strings.CutPrefix(body, "@"); ok {
		if cat == "" || strings.ContainsAny(cat, "|@") {
			return Rule{}, false
		}
		if cat == "all" {
			r.Kind = AllCommands
			return r, true
		}
		r.Kind, r.Name = Category, cat
		return r, true
	}
	name, sub, hasSub := strings.Cut(body, "|")
	if name == "" || strings.Contains(name, "@") || (hasSub && sub == "") {
		return Rule{}, false
	}
	r.Name = name
	r.Kind = Command
	if hasSub {
		r.Kind, r.Sub = Subcommand, sub
	}
	return r, true
}

// shorten caps a token that goes into a finding.
func shorten(s string) string {
	const max = 40
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
