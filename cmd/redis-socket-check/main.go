// Command redis-socket-check verifies that only the allowed users can
// connect to Redis's UNIX sockets.
package main

import (
	"github.com/sensu-community/sensu-redis-security-checks/checks/plugin"
	"github.com/sensu-community/sensu-redis-security-checks/checks/unixsock"
)

func main() { plugin.Main(unixsock.New()) }
