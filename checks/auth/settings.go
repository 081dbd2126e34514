package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
)

// guardSettings are the settings (Redis 7.0+, every Valkey) that keep the
// commands turning a login into code execution from clients: no (nobody may
// run them), local (loopback and UNIX socket clients only) or yes (every
// client its ACL rules allow, from anywhere). They are immutable: CONFIG
// GET shows what the server was started with. Opens says what yes opens.
var guardSettings = []struct{ Name, Opens string }{
	{"enable-debug-command", "DEBUG"},
	{"enable-module-command", "MODULE LOAD (it runs any shared library inside the server)"},
	{"enable-protected-configs", "CONFIG SET of protected configs such as dir and dbfilename (with them a client writes the dump file where it likes)"},
}

// Setting is what CONFIG GET answered for one of guardSettings.
type Setting struct {
	Name  string
	Value string // the value, when the reply named this setting alone
	// Absent: the reply was empty; the server has no such setting.
	Absent bool
	// Odd quotes a reply that is no answer to the question.
	Odd string
	// Why says why CONFIG GET failed: an error code ("NOPERM"), "unknown
	// command" (CONFIG renamed or disabled) or what went wrong.
	Why string
}

// readSettings asks CONFIG GET for each of guardSettings, one name a call:
// before 7.0 CONFIG GET takes a single pattern. broken is a command the
// server broke off (at names it), after which nothing it says is to be
// trusted.
func readSettings(ctx context.Context, c *redis.Client) (out []Setting, at string, broken error) {
	for _, g := range guardSettings {
		s := Setting{Name: g.Name}
		reply, err := c.Do(ctx, "CONFIG", "GET", g.Name).StringSlice()
		switch {
		case redisconn.Broken(err):
			return out, "CONFIG GET " + g.Name, err
		case err != nil:
			s.Why = why(err)
		case len(reply) == 0:
			s.Absent = true
		case len(reply) == 2 && reply[0] == g.Name:
			s.Value = reply[1]
		default:
			s.Odd = shorten(fmt.Sprintf("%q", reply))
		}
		out = append(out, s)
	}
	return out, "", nil
}

// names joins setting names: "a, b and c".
func names(n []string) string {
	if len(n) < 2 {
		return strings.Join(n, "")
	}
	return strings.Join(n[:len(n)-1], ", ") + " and " + n[len(n)-1]
}

// nameList is the names of the settings.
func nameList(ss []Setting) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Name
	}
	return out
}

// guardNames is the names of guardSettings.
func guardNames() []string {
	out := make([]string, len(guardSettings))
	for i, g := range guardSettings {
		out[i] = g.Name
	}
	return out
}
