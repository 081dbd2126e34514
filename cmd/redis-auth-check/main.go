// Command redis-auth-check proves that a Redis or Sentinel server refuses
// clients without credentials and audits its ACL users.
package main

import (
	"github.com/sensu-community/sensu-redis-security-checks/checks/auth"
	"github.com/sensu-community/sensu-redis-security-checks/checks/plugin"
)

func main() { plugin.Main(auth.New()) }
