// Package frontend is what the firewall check asks of a firewall frontend
// (ufw, firewalld): its own configuration, read through a system.System,
// explains the kernel's verdict in the frontend's terms. The kernel's
// ruleset stays the truth; a frontend only says what its administrator
// asked for and which command would close a gap.
//
// Each frontend lives in a package of its own below this one; none
// imports the check.
package frontend

import (
	"go4.org/netipx"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
)

// Explainer is a frontend's configuration, read.
type Explainer interface {
	// Fix completes a finding that q is open to untrusted sources: what
	// the frontend allows and what it would take to close the rest ("" when
	// it has nothing to add). res is the kernel's verdict, trust the
	// trusted networks of q's family.
	Fix(q eval.Query, res *eval.Result, trust *netipx.IPSet) string
	// Admit completes a finding that the trusted sources in missing are
	// not accepted to q: what in the frontend refuses them and the
	// commands that let them in ("" when it has nothing to add).
	Admit(q eval.Query, missing *netipx.IPSet) string
	// Port is what the frontend says of q beside the kernel's verdict.
	Port(q eval.Query) []Finding
	// Notes are remarks on the configuration as a whole, given the
	// queries evaluated.
	Notes(qs []eval.Query) []Finding
}

// Finding is one line of an explanation. Warning marks what is wrong in
// the frontend itself (such as a runtime that a reload would change); the
// rest is informational.
type Finding struct {
	Warning bool
	Text    string
}
