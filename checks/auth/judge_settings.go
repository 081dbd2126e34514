package auth

import (
	"fmt"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// judgeSettings judges the guard settings (enable-debug-command…) the
// audit read and returns the summary text for an all-OK result. yes is a
// WARNING, not CRITICAL: it widens what a client that logged in, and whose
// rules grant the command, can do; a server that lets clients in without a
// password is CRITICAL already through the probe or the ACL audit.
func judgeSettings(r *result.Result, a Audit) string {
	if a.Settings == nil || a.Err != nil || a.Code != "" || a.Broken != nil {
		return "" // the audit's own finding says why nothing was read
	}
	if t := refusedInPart(a.Settings); t != "" {
		// CONFIG is renamed whole, and an ACL rule cannot tell CONFIG GET's
		// arguments apart: no real server refuses some names and not others.
		r.Add(result.Unknown, "enable-* settings not audited: CONFIG GET %s: the replies contradict each other", t)
		return ""
	}
	v, known := parseVersion(a.Version)
	var closed, absent []Setting
	unread := map[string][]Setting{}
	bad := false
	for _, s := range a.Settings {
		switch {
		case refusal(s):
			unread[s.Why] = append(unread[s.Why], s)
		case s.Why != "":
			bad = true
			r.Add(result.Unknown, "%s not audited: CONFIG GET failed: %s", s.Name, s.Why)
		case s.Odd != "":
			bad = true
			r.Add(result.Unknown, "%s not audited: CONFIG GET %s answered %s, which is not that setting alone", s.Name, s.Name, s.Odd)
		case s.Absent && known && v.Major < 7:
			absent = append(absent, s)
		case s.Absent && known:
			bad = true
			r.Add(result.Unknown, "%s not audited: CONFIG GET answered nothing, but %s has that setting (7.0+)", s.Name, a.product())
		case s.Absent:
			bad = true
			r.Add(result.Unknown, "%s not audited: CONFIG GET answered nothing, which only a server before 7.0 does, and the server's "+
				"version could not be read (INFO server: %s; HELLO: %s); grant user %q +info", s.Name, orNA(a.InfoWhy), orNA(a.HelloWhy), a.As)
		case s.Value == "yes":
			bad = true
			r.Add(result.Warning, "%s yes: %s is open to every client its ACL rules allow, from any address; set %s no "+
				"(or local: loopback and UNIX socket clients only) in the config file and restart the server (it cannot change at run time)",
				s.Name, opens(s.Name), s.Name)
		case s.Value == "no" || s.Value == "local":
			closed = append(closed, s)
		default:
			bad = true
			r.Add(result.Unknown, "%s %q: a value this check does not know (no, local or yes)", s.Name, shorten(s.Value))
		}
	}
	if len(closed) > 0 {
		pairs := make([]string, len(closed))
		for i, s := range closed {
			pairs[i] = s.Name + " " + s.Value
		}
		r.Add(result.OK, "%s: closed to remote clients", strings.Join(pairs, ", "))
	}
	if len(absent) > 0 {
		r.Add(result.OK, "%s predates %s (7.0+): DEBUG, MODULE LOAD and CONFIG SET of dir and dbfilename are limited by the ACL rules alone",
			a.product(), names(nameList(absent)))
	}
	if ss := unread["NOPERM"]; len(ss) > 0 {
		r.Add(result.OK, "%s not audited: user %q may not run CONFIG GET (NOPERM); allow it CONFIG GET to audit them", names(nameList(ss)), a.As)
	}
	if ss := unread["unknown command"]; len(ss) > 0 {
		r.Add(result.OK, "%s not audited: CONFIG is renamed or disabled (rename-command CONFIG)", names(nameList(ss)))
	}
	switch {
	case bad:
		return ""
	case len(unread) > 0:
		return "enable-* settings not audited"
	case len(closed) == len(guardSettings):
		return "DEBUG, MODULE and protected configs closed to remote clients"
	}
	return ""
}

// refusal: CONFIG GET was refused as a whole command (NOPERM, or renamed).
func refusal(s Setting) bool { return s.Why == "NOPERM" || s.Why == "unknown command" }

// refusedInPart describes settings refused unlike the others ("answered
// for enable-debug-command but refused (NOPERM) for …"), or "" when CONFIG
// GET was refused for all of them alike or for none.
func refusedInPart(ss []Setting) string {
	var refused, other []string
	why := map[string]bool{}
	for _, s := range ss {
		if refusal(s) {
			refused = append(refused, s.Name+" ("+s.Why+")")
			why[s.Why] = true
		} else {
			other = append(other, s.Name)
		}
	}
	switch {
	case len(refused) == 0 || len(why) == 1 && len(other) == 0:
		return ""
	case len(other) == 0:
		return "refused " + names(refused) + " for different reasons"
	}
	return fmt.Sprintf("answered for %s but refused %s", names(other), names(refused))
}

// opens says what a guard setting set to yes opens.
func opens(name string) string {
	for _, g := range guardSettings {
		if g.Name == name {
			return g.Opens
		}
	}
	return fmt.Sprintf("what %s guards", name)
}
