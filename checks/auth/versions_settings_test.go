package auth

import (
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// guardCombos set each guard setting to each value once across three
// servers; the fourth keeps the defaults (no, no, no).
var guardCombos = [][3]string{
	{"yes", "local", "no"},
	{"no", "yes", "local"},
	{"local", "no", "yes"},
	{},
}

// The guard settings (7.0+) as each installed server reads them: yes is a
// WARNING naming the setting to change, no and local are closed to remote
// clients, and a server before 7.0, which has none of them, is neither
// flagged nor called unaudited.
func TestVersionsGuardSettings(t *testing.T) {
	env := map[string]string{redisconn.PasswordEnv: pwDefault}
	for label, bin := range redistest.Binaries(t) {
		t.Run(label, func(t *testing.T) {
			v, _ := parseVersion(redistest.Version(t, bin))
			if v.Major < 7 {
				s := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{"requirepass " + pwDefault}})
				r, out := check(t, redisconn.Options{Port: s.Port}, env)
				expect(t, r, out, result.OK, "OK: Redis "+redistest.Version(t, bin)+
					" predates enable-debug-command, enable-module-command and enable-protected-configs (7.0+)")
				if strings.Contains(out, "not audited") || strings.Contains(out, "closed to remote") {
					t.Errorf("settings judged on a server without them:\n%s", out)
				}
				return
			}
			for _, combo := range guardCombos {
				conf := []string{"requirepass " + pwDefault}
				want := map[string]string{}
				for i, name := range guardNames() {
					want[name] = "no"
					if combo[i] != "" {
						conf = append(conf, name+" "+combo[i])
						want[name] = combo[i]
					}
				}
				s := redistest.Start(t, redistest.Spec{Binary: bin, Config: conf})
				assertGuardsLive(t, s, want)
				r, out := check(t, redisconn.Options{Port: s.Port}, env)
				state := result.OK
				var closed, lines []string
				for _, name := range guardNames() {
					if want[name] == "yes" {
						state = result.Warning
						lines = append(lines, "WARNING: "+name+" yes: ", "set "+name+" no (or local")
						continue
					}
					closed = append(closed, name+" "+want[name])
				}
				lines = append(lines, "OK: "+strings.Join(closed, ", ")+": closed to remote clients\n")
				expect(t, r, out, state, lines...)
				if state == result.OK && !strings.Contains(out, "; DEBUG, MODULE and protected configs closed to remote clients\n") {
					t.Errorf("summary lacks the settings:\n%s", out)
				}
			}
		})
	}
}

// assertGuardsLive holds a case to the server's own behaviour: over
// loopback DEBUG, MODULE LOAD (of a file that does not exist) and CONFIG SET
// dir (to the test server's own directory) are refused exactly when their
// setting is no.
func assertGuardsLive(t *testing.T, s *redistest.Server, want map[string]string) {
	t.Helper()
	o := redisconn.Options{Host: "127.0.0.1", Port: s.Port, Password: pwDefault}
	c := o.Client(t.Context())
	defer c.Close()
	missing := t.TempDir() + "/missing.so"
	for name, args := range map[string][]any{"enable-debug-command": {"DEBUG", "HELP"}, "enable-module-command": {"MODULE", "LOAD", missing},
		"enable-protected-configs": {"CONFIG", "SET", "dir", s.Dir}} {
		err := c.Do(t.Context(), args...).Err()
		refused := err != nil && (strings.Contains(err.Error(), "command not allowed") || strings.Contains(err.Error(), "can't set protected config"))
		if refused != (want[name] == "no") {
			t.Fatalf("%s %s: %v %v: the server does not behave as the setting says", name, want[name], args, err)
		}
	}
}

// An audit user without CONFIG GET, and a server with CONFIG renamed, leave
// the settings unread: said, with what to grant, and never called closed
// (here debug is yes on 7.0+); the run stays OK, as the ACL audit it was
// given credentials for completed.
func TestVersionsGuardSettingsUnread(t *testing.T) {
	for label, bin := range redistest.Binaries(t) {
		t.Run(label, func(t *testing.T) {
			conf := []string{"user default on >" + pwDefault + " ~* +@all", "user audit on >" + pwOps + " -@all +acl|list +acl|cat +info"}
			if v, _ := parseVersion(redistest.Version(t, bin)); v.Major >= 7 {
				conf = append(conf, "enable-debug-command yes") // 6.x refuses to start on it
			}
			s := redistest.Start(t, redistest.Spec{Binary: bin, Config: conf})
			env := map[string]string{redisconn.UsernameEnv: "audit", redisconn.PasswordEnv: pwOps}
			r, out := check(t, redisconn.Options{Port: s.Port}, env)
			expect(t, r, out, result.OK, "; enable-* settings not audited\n",
				`OK: enable-debug-command, enable-module-command and enable-protected-configs not audited: user "audit" may not run CONFIG GET (NOPERM); allow it CONFIG GET`)
			if strings.Contains(out, "closed to remote") {
				t.Errorf("unread settings called closed:\n%s", out)
			}

			renamed := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{"requirepass " + pwDefault, `rename-command CONFIG ""`}})
			r, out = check(t, redisconn.Options{Port: renamed.Port}, map[string]string{redisconn.PasswordEnv: pwDefault})
			expect(t, r, out, result.OK, "not audited: CONFIG is renamed or disabled (rename-command CONFIG)")
		})
	}
}
