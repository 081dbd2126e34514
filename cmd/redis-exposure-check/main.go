// Command redis-exposure-check connects to Redis ports from the host it runs
// on and reports whether they are reachable, and as what.
package main

import (
	"github.com/sensu-community/sensu-redis-security-checks/checks/exposure"
	"github.com/sensu-community/sensu-redis-security-checks/checks/plugin"
)

func main() { plugin.Main(exposure.New()) }
