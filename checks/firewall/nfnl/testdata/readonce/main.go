// Command readonce runs nfnl.Read once in its own network namespace and
// exits 1 on error: the process TestScale measures, with no more than a
// Go runtime around the reader.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/nfnl"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rs, err := nfnl.Read(ctx, nfnl.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if len(rs.Rules) == 0 {
		fmt.Fprintln(os.Stderr, "no rules read")
		os.Exit(1)
	}
}
