package auth

import (
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// settings builds the three guard settings, each as answer says.
func settings(answer func(name string) Setting) []Setting {
	var out []Setting
	for _, n := range guardNames() {
		s := answer(n)
		s.Name = n
		out = append(out, s)
	}
	return out
}

func value(v string) func(string) Setting { return func(string) Setting { return Setting{Value: v} } }

func TestJudgeSettings(t *testing.T) {
	hash := "#" + strings.Repeat("ab", 32)
	clean := users(t, "user default on "+hash+" ~* +@all")
	refused := Probe{Ping: reply("-NOAUTH Authentication required."), Read: &ReadAttempt{Command: "DBSIZE", Code: "NOAUTH"}}
	mixed := func(n string) Setting {
		return map[string]Setting{"enable-debug-command": {Value: "local"}, "enable-module-command": {Value: "yes"},
			"enable-protected-configs": {Value: "no"}}[n]
	}
	for _, tc := range []struct {
		name  string
		a     Audit
		state result.State
		want  []string // lines of the rendered output
		not   string   // must not appear
	}{
		{"all no", Audit{Version: "7.0.15", Settings: settings(value("no"))}, result.OK, []string{
			"; DEBUG, MODULE and protected configs closed to remote clients\n",
			"OK: enable-debug-command no, enable-module-command no, enable-protected-configs no: closed to remote clients\n"}, "not audited"},
		{"local is closed to remote clients", Audit{Version: "7.2.4", Server: "valkey", Settings: settings(value("local"))}, result.OK, []string{
			"OK: enable-debug-command local, enable-module-command local, enable-protected-configs local: closed to remote clients\n"}, ""},
		{"module yes", Audit{Version: "8.0.2", Settings: settings(mixed)}, result.Warning, []string{
			"c WARNING: enable-module-command yes: MODULE LOAD (it runs any shared library inside the server) is open to every client its ACL rules allow, from any address; " +
				"set enable-module-command no (or local: loopback and UNIX socket clients only) in the config file and restart the server (it cannot change at run time)\n",
			"OK: enable-debug-command local, enable-protected-configs no: closed to remote clients\n"}, ""},
		{"protected configs yes", Audit{Version: "7.0.15", Settings: settings(func(n string) Setting {
			if n == "enable-protected-configs" {
				return Setting{Value: "yes"}
			}
			return Setting{Value: "no"}
		})}, result.Warning, []string{"WARNING: enable-protected-configs yes: CONFIG SET of protected configs such as dir and dbfilename"}, ""},
		{"6.0 has none", Audit{Version: "6.0.16", Settings: settings(func(string) Setting { return Setting{Absent: true} })}, result.OK, []string{
			"OK: Redis 6.0.16 predates enable-debug-command, enable-module-command and enable-protected-configs (7.0+): DEBUG, MODULE LOAD and CONFIG SET of dir and dbfilename are limited by the ACL rules alone\n"},
			"closed to remote"},
		{"7.0 without them contradicts itself", Audit{Version: "7.0.15", Settings: settings(func(string) Setting { return Setting{Absent: true} })}, result.Unknown, []string{
			"UNKNOWN: enable-debug-command not audited: CONFIG GET answered nothing, but Redis 7.0.15 has that setting (7.0+)\n"}, "predates"},
		{"version unknown", Audit{As: "mon", InfoWhy: "NOPERM", HelloWhy: "unknown command", Settings: settings(func(string) Setting { return Setting{Absent: true} })}, result.Unknown, []string{
			"UNKNOWN: enable-module-command not audited: CONFIG GET answered nothing, which only a server before 7.0 does, and the server's version could not be read (INFO server: NOPERM; HELLO: unknown command); grant user \"mon\" +info\n"}, ""},
		{"NOPERM", Audit{As: "audit", Version: "7.0.15", Settings: settings(func(string) Setting { return Setting{Why: "NOPERM"} })}, result.OK, []string{
			"; enable-* settings not audited\n",
			"OK: enable-debug-command, enable-module-command and enable-protected-configs not audited: user \"audit\" may not run CONFIG GET (NOPERM); allow it CONFIG GET to audit them\n"}, ""},
		{"CONFIG renamed", Audit{Version: "7.0.15", Settings: settings(func(string) Setting { return Setting{Why: "unknown command"} })}, result.OK, []string{
			"OK: enable-debug-command, enable-module-command and enable-protected-configs not audited: CONFIG is renamed or disabled (rename-command CONFIG)\n"}, ""},
		{"other error", Audit{Version: "7.0.15", Settings: settings(func(n string) Setting {
			if n == "enable-debug-command" {
				return Setting{Why: "LOADING"}
			}
			return Setting{Value: "no"}
		})}, result.Unknown, []string{"UNKNOWN: enable-debug-command not audited: CONFIG GET failed: LOADING\n",
			"OK: enable-module-command no, enable-protected-configs no: closed to remote clients\n"}, ""},
		{"refused for one name only", Audit{Version: "7.0.15", Settings: settings(func(n string) Setting {
			if n == "enable-module-command" {
				return Setting{Why: "unknown command"}
			}
			return Setting{Value: "no"}
		})}, result.Unknown, []string{"UNKNOWN: enable-* settings not audited: CONFIG GET answered for enable-debug-command and enable-protected-configs but refused enable-module-command (unknown command): the replies contradict each other\n"}, "closed"},
		{"refused for different reasons", Audit{Version: "7.0.15", Settings: settings(func(n string) Setting {
			if n == "enable-module-command" {
				return Setting{Why: "unknown command"}
			}
			return Setting{Why: "NOPERM"}
		})}, result.Unknown, []string{"CONFIG GET refused enable-debug-command (NOPERM), enable-module-command (unknown command) and enable-protected-configs (NOPERM) for different reasons"}, "not audited: user"},
		{"another key", Audit{Version: "7.0.15", Settings: settings(func(string) Setting { return Setting{Odd: `["bind" "*"]`} })}, result.Unknown, []string{
			"UNKNOWN: enable-debug-command not audited: CONFIG GET enable-debug-command answered [\"bind\" \"*\"], which is not that setting alone\n"}, ""},
		{"unknown value", Audit{Version: "9.0.0", Settings: settings(value("sometimes"))}, result.Unknown, []string{
			"UNKNOWN: enable-protected-configs \"sometimes\": a value this check does not know (no, local or yes)\n"}, "closed"},
		{"sentinel: none read", Audit{Version: "7.0.15", Mode: "sentinel"}, result.OK, nil, "enable-"},
		{"broken off: the audit says so", Audit{Version: "7.0.15", Broken: errInfoWithoutVersion, BrokenAt: "CONFIG GET enable-module-command",
			Settings: settings(value("no"))[:1]}, result.Unknown, []string{"UNKNOWN: ACL audit: the server broke off CONFIG GET enable-module-command"}, "closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.a
			if a.As == "" {
				a.As = "default"
			}
			if a.Broken == nil {
				a.Users = clean
			}
			r := Judge(Options{Admins: []string{"default"}}, Facts{Target: "192.0.2.1:6379", Probe: refused, Credentials: true, Audit: &a})
			out := render(r)
			if r.State != tc.state {
				t.Errorf("state %s, want %s\n%s", r.State, tc.state, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tc.not != "" && strings.Contains(out, tc.not) {
				t.Errorf("output has %q:\n%s", tc.not, out)
			}
		})
	}
}
