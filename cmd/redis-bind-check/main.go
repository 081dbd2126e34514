// Command redis-bind-check verifies that no Redis listener is bound to a
// wildcard address.
package main

import (
	"github.com/sensu-community/sensu-redis-security-checks/checks/bind"
	"github.com/sensu-community/sensu-redis-security-checks/checks/plugin"
)

func main() { plugin.Main(bind.New()) }
