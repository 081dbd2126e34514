package firewall

import "github.com/sensu-community/sensu-redis-security-checks/checks/firewall/system"

// The machine the check reads lives in checks/firewall/system, shared with
// the frontend explainers; these names keep the check's API in one place.
type (
	// System runs the firewall tools and reads kernel files.
	System = system.System
	// Host is the local machine.
	Host = system.Host
	// ToolError is a command that ran and failed.
	ToolError = system.ToolError
)

// ErrPrivilege means the ruleset cannot be read with the privileges the
// check has.
var ErrPrivilege = system.ErrPrivilege
