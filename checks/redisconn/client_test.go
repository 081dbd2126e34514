package redisconn

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// replyErr is an error reply as the client library hands it over: any
// error with a RedisError method.
type replyErr string

func (e replyErr) Error() string { return string(e) }
func (replyErr) RedisError()     {}

func TestUnknownCommandName(t *testing.T) {
	for _, tc := range []struct {
		err  error
		name string
		ok   bool
	}{
		{replyErr("ERR unknown command 'AUTH', with args beginning with: 'pw' "), "AUTH", true},
		{replyErr("ERR unknown command `config`, with args beginning with: `GET`, `bind`, "), "CONFIG", true},
		{fmt.Errorf("wrapped: %w", replyErr("ERR unknown command 'hello', with args beginning with: ")), "HELLO", true},
		{replyErr("ERR unknown command"), "", true},
		{replyErr("ERR unknown command 'unterminated"), "", true},
		{replyErr("ERR unknown command '" + strings.Repeat("A", 41) + "'"), "", true},
		{replyErr("ERR unknown command 'a\x1b[2Jb'"), "", true},
		{replyErr("NOPERM this user has no permissions to run the 'config|get' command"), "", false},
		{errors.New("ERR unknown command 'AUTH'"), "", false}, // not a reply from the server
		{nil, "", false},
	} {
		name, ok := UnknownCommandName(tc.err)
		if name != tc.name || ok != tc.ok {
			t.Errorf("UnknownCommandName(%v) = %q, %v; want %q, %v", tc.err, name, ok, tc.name, tc.ok)
		}
	}
}
