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
// inside quotes (iptables-save writes \" \\ and \').
func tokenize(line string) ([]token, bool) {
	var out []token
	var b strings.Builder
	inWord, inQuote, quoted := false, false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case inQuote && c == '\\' && i+1 < len(line):
			i++
			b.WriteByte(line[i])
		case inQuote && c == '"':
			inQuote = false
		case inQuote:
			b.WriteByte(c)
		case c == '"':
			inQuote, inWord, quoted = true, true, true
		case c == ' ' || c == '\t':
			if inWord {
				out = append(out, token{b.String(), quoted})
				b.Reset()
				inWord, quoted = false, false
			}
		default:
			inWord = true
			b.WriteByte(c)
		}
	}
	if inQuote {
		return nil, false
	}
	if inWord {
		out = append(out, token{b.String(), quoted})
	}
	return out, true
}

// isOption reports whether a token starts a new option.
func (t token) isOption() bool {
	return !t.quoted && len(t.s) > 1 && t.s[0] == '-'
}

func (t token) isBang() bool { return !t.quoted && t.s == "!" }
