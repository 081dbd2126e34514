// Command redis-firewall-check computes, from the ruleset the kernel runs,
// which source addresses can open a connection to each Redis port.
package main

import (
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall"
	"github.com/sensu-community/sensu-redis-security-checks/checks/plugin"
)

func main() { plugin.Main(firewall.New()) }
