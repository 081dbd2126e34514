//go:build !linux

package unixsock

import "context"

// Gather knows no socket table outside Linux.
func Gather(ctx context.Context, o *Options) Facts {
	return Facts{ProcErr: "redis-socket-check reads Linux's /proc and sock_diag only"}
}
