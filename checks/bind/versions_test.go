package bind

import (
	"strings"
	"testing"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/redistest"
)

// The meaning of an absent bind line and of protected mode differs between
// versions; every server version installed here is checked.
func TestVersionsNoBindLineIsAllInterfaces(t *testing.T) {
	for label, bin := range redistest.Binaries(t) {
		t.Run(label, func(t *testing.T) {
			s := redistest.Start(t, redistest.Spec{Binary: bin})
			v := ParseVersion(redistest.Version(t, bin))
			out, code := run(t, s, nil)
			if v.Major >= 7 {
				wantLines(t, out, code, 2, "binds *: every IPv4 interface", "kernel: listening on 0.0.0.0:PORT")
			} else {
				wantLines(t, out, code, 2, "empty bind value: Redis 6 listens on all interfaces", "kernel: listening on 0.0.0.0:PORT")
			}
		})
	}
}

func TestVersionsProtectedModeContext(t *testing.T) {
	for label, bin := range redistest.Binaries(t) {
		t.Run(label, func(t *testing.T) {
			s := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{"bind 127.0.0.1", "protected-mode yes"}})
			v := ParseVersion(redistest.Version(t, bin))
			out, code := run(t, s, nil)
			if v.Major >= 7 {
				wantLines(t, out, code, 0, "protected-mode yes (in force only while the default user has no password")
			} else {
				wantLines(t, out, code, 0, "protected-mode yes has no effect on Redis "+v.String()+" because a bind line is set")
			}
		})
	}
}

// Fail closed on every version: a stopped server without a config file is
// UNKNOWN, and a renamed INFO is named as such.
func TestVersionsNothingVerifiedAndRenamedInfo(t *testing.T) {
	for label, bin := range redistest.Binaries(t) {
		t.Run(label, func(t *testing.T) {
			s := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{"bind 127.0.0.1", `rename-command INFO ""`}})
			out, code := run(t, s, nil)
			wantLines(t, out, code, 0, "server at 127.0.0.1:PORT: INFO is renamed or disabled", "kernel: listening on 127.0.0.1:PORT")
			s.Stop()
			out, code = run(t, s, nil)
			wantLines(t, out, code, 3, "redis-bind-check UNKNOWN: nothing verified: server at 127.0.0.1:PORT: cannot connect")

			auth := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{"bind 127.0.0.1", "requirepass pw-5e1",
				`rename-command AUTH ""`, `rename-command HELLO ""`}})
			out, code = run(t, auth, []string{"REDIS_PASSWORD=pw-5e1"})
			wantLines(t, out, code, 0, "server at 127.0.0.1:PORT: AUTH is renamed or disabled: the check cannot log in")
		})
	}
}

// redis-server reads a bind address without a colon as inet_aton does:
// "0" binds every IPv4 interface, "127.1" is loopback. The check must read
// them the same way from the running config and from the file alone.
func TestVersionsInetAtonForms(t *testing.T) {
	for label, bin := range redistest.Binaries(t) {
		t.Run(label, func(t *testing.T) {
			s := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{"bind 0"}})
			out, code := run(t, s, nil, "--config-file", s.ConfigFile)
			wantLines(t, out, code, 2, "running config (DIR/redis.conf:6) binds 0: every IPv4 interface",
				"kernel: listening on 0.0.0.0:PORT (every IPv4 interface)")
			wantNone(t, out, "does not resolve", "does not describe")
			s.Stop()
			out, code = run(t, s, nil, "--config-file", s.ConfigFile)
			wantLines(t, out, code, 2, "config file DIR/redis.conf:6 binds 0: every IPv4 interface")

			l := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{"bind 127.1"}})
			out, code = run(t, l, nil, "--config-file", l.ConfigFile)
			wantLines(t, out, code, 0, "running config (DIR/redis.conf:6) binds 127.1 (loopback)",
				"kernel: listening on 127.0.0.1:PORT (loopback)")
			wantNone(t, out, "does not resolve", "does not describe")
		})
	}
}

func wantNone(t *testing.T, out string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(out, p) {
			t.Fatalf("output has %q:\n%s", p, out)
		}
	}
}

// A zone on the IPv6 wildcard narrows nothing: with "bind ::%1" the kernel
// listens on [::], every IPv6 interface.
func TestVersionsZonedWildcard(t *testing.T) {
	for label, bin := range redistest.Binaries(t) {
		t.Run(label, func(t *testing.T) {
			s := redistest.Start(t, redistest.Spec{Binary: bin, Config: []string{"bind 127.0.0.1 ::%1"}})
			out, code := run(t, s, nil, "--config-file", s.ConfigFile)
			wantLines(t, out, code, 2, "running config (DIR/redis.conf:6) binds ::%1: every IPv6 interface",
				"kernel: listening on [::]:PORT (every IPv6 interface)")
			wantNone(t, out, "one host address", "does not describe")
		})
	}
}
