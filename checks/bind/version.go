package bind

import (
	"strconv"
	"strings"
)

// Version is a server's major.minor, 0.0 when unknown.
type Version struct{ Major, Minor int }

// ParseVersion reads "7.0.15", "6.2.14-rc1" and the like.
func ParseVersion(s string) Version {
	parts := strings.SplitN(strings.TrimSpace(s), ".", 3)
	var v Version
	if len(parts) >= 1 {
		v.Major, _ = strconv.Atoi(parts[0])
	}
	if len(parts) >= 2 {
		v.Minor, _ = strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	}
	return v
}

// Known reports whether the version was read.
func (v Version) Known() bool { return v.Major > 0 }

func (v Version) String() string {
	if !v.Known() {
		return "unknown"
	}
	return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor)
}

// AtLeast compares with major.minor.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}
