package redisconn

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sensu-community/sensu-redis-security-checks/checks/internal/testenv"
	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
)

// aclList is ACL LIST of a server with n users, each with a password, key
// and channel patterns and a handful of rules: the largest reply a check
// reads.
func aclList(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", n)
	for i := range n {
		u := fmt.Sprintf("user app%05d on sanitize-payload #%s ~app%d:* &app%d:* -@all +@read +@write -@dangerous +info|server", i, strings.Repeat("5e", 32), i, i)
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(u), u)
	}
	return b.String()
}

// serveReply answers every command on every connection with reply.
func serveReply(b *testing.B, reply string) string {
	return testenv.Serve(b, func(c net.Conn) {
		defer c.Close()
		buf := make([]byte, 4096)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
			if _, err := c.Write([]byte(reply)); err != nil {
				return
			}
		}
	}).String()
}

// BenchmarkACLList reads ACL LIST of 1,000 users (~160 KB) through go-redis,
// with and without the guard, on one connection.
func BenchmarkACLList(b *testing.B) {
	reply := aclList(1000)
	addr := serveReply(b, reply)
	for _, guarded := range []bool{false, true} {
		name := "plain"
		if guarded {
			name = "guarded"
		}
		b.Run(name, func(b *testing.B) {
			var d net.Dialer
			c := redis.NewClient(&redis.Options{
				Addr: addr, Protocol: 2, DisableIdentity: true, MaxRetries: -1, PoolSize: 1,
				Dialer: func(ctx context.Context, network, a string) (net.Conn, error) {
					conn, err := d.DialContext(ctx, network, a)
					if err != nil || !guarded {
						return conn, err
					}
					// Limits without the per-connection totals, so the
					// connection outlives b.N replies.
					lim := resp.DefaultLimits
					lim.MaxBytes, lim.MaxValues = 0, 1<<62
					return resp.Guard(conn, lim, time.Time{}), nil
				},
			})
			defer c.Close()
			ctx := context.Background()
			// HELLO is answered with the list too; its error is expected.
			_ = c.Ping(ctx).Err()
			b.SetBytes(int64(len(reply)))
			b.ResetTimer()
			for range b.N {
				if n, err := c.Do(ctx, "ACL", "LIST").StringSlice(); err != nil || len(n) != 1000 {
					b.Fatalf("%d users, %v", len(n), err)
				}
			}
		})
	}
}
