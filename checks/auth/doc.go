// Package auth is redis-auth-check: it proves that a client without
// credentials is refused by a Redis (or Sentinel) server, and, given an
// admin-capable user in $REDIS_USERNAME/$REDIS_PASSWORD, audits the ACL users
// for missing passwords and dangerous grants, and the settings that open
// DEBUG, MODULE and protected configs to remote clients (settings.go).
//
// The I/O (probe.go, audit.go, settings.go) only gathers facts; the verdicts
// come from pure functions (judge.go, judge_settings.go) over those facts,
// and ACL rules are read by a pure parser (acl.go) and evaluated by perm.go,
// so every judgement is testable without a network. Nothing here prints a
// password or a password hash: the parser drops them as it reads.
package auth
