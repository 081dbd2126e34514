package iptsave

import "strings"

// token is one word of a rule line; quoted records that it was written in
// double quotes, so "-x" in quotes is a value, never an option.
type token struct {
	s      string
	quoted bool
}

// tokenize splits a line the way iptables-restore does: on blanks, with
// double quotes grouping and a backslash escaping the next character
// inside quotes (iptables-save writes \" \\ and \'). The tokens are
// appended to out; an unquoted word is a substring of line, only a word
// with quotes is built anew.
func tokenize(out []token, line string) ([]token, bool) {
	for i := 0; i < len(line); {
		c := line[i]
		if c == ' ' || c == '\t' {
			i++
			continue
		}
		start := i
		for i < len(line) && line[i] != ' ' && line[i] != '\t' && line[i] != '"' {
			i++
		}
		if i == len(line) || line[i] != '"' {
			out = append(out, token{line[start:i], false})
			continue
		}
		// The word has a quote somewhere: build it byte by byte.
		var b strings.Builder
		b.WriteString(line[start:i])
		inQuote := false
		for ; i < len(line); i++ {
			c := line[i]
			if !inQuote && (c == ' ' || c == '\t') {
				break
			}
			switch {
			case inQuote && c == '\\' && i+1 < len(line):
				i++
				b.WriteByte(line[i])
			case c == '"':
				inQuote = !inQuote
			default:
				b.WriteByte(c)
			}
		}
		if inQuote {
			return nil, false
		}
		out = append(out, token{b.String(), true})
	}
	return out, true
}

// isOption reports whether a token starts a new option.
func (t token) isOption() bool {
	return !t.quoted && len(t.s) > 1 && t.s[0] == '-'
}

func (t token) isBang() bool { return !t.quoted && t.s == "!" }
