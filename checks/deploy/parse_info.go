package deploy

import (
	"bufio"
	"errors"
	"io"
	"strings"
)

// maxInfoLine caps a line of INFO.
const maxInfoLine = 64 << 10

// ParseInfo reads an INFO reply into its key:value fields (sections and
// comments skipped). The last value of a repeated key wins, as a reader
// of the server's own text would take it.
func ParseInfo(r io.Reader) (map[string]string, error) {
	const what = "INFO"
	sc := bufio.NewScanner(io.LimitReader(r, maxText+1))
	sc.Buffer(make([]byte, 0, 4096), maxInfoLine)
	out := map[string]string{}
	line, read := 0, 0
	for sc.Scan() {
		line++
		read += len(sc.Bytes()) + 1
		if read > maxText {
			return nil, lineErr(what, line, "reply longer than %d bytes", maxText)
		}
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(text, ":")
		if !ok || k == "" {
			return nil, lineErr(what, line, "not key:value")
		}
		if len(out) >= 4*MaxListed {
			return nil, tooMany(what, 4*MaxListed)
		}
		out[k] = v
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, lineErr(what, line+1, "line longer than %d bytes", maxInfoLine)
		}
		return nil, err
	}
	return out, nil
}
