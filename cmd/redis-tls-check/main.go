// Command redis-tls-check verifies that Redis TLS is on, sound and the only
// way in. See checks/tlscheck.
package main

import (
	"github.com/sensu-community/sensu-redis-security-checks/checks/plugin"
	"github.com/sensu-community/sensu-redis-security-checks/checks/tlscheck"
)

func main() { plugin.Main(tlscheck.New()) }
