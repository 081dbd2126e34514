package tlscheck

import (
	"context"
	"strconv"
	"time"

	"github.com/sensu-community/sensu-redis-security-checks/checks/plugin"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// Name is the binary's name.
const Name = "redis-tls-check"

// New returns the check, ready for plugin.Main.
func New() plugin.Check {
	o := &Options{}
	return plugin.Check{
		Name:  Name,
		Short: "Redis TLS is on, sound (chain, expiry, protocol floor, client certificates) and the only way in",
		Long: "Handshakes with the Redis TLS port (default " + strconv.Itoa(DefaultPort) + ") as a TLS scanner would and PINGs over it,\n" +
			"verifies the chain against --ca-cert, applies expiry windows to every certificate, probes each\n" +
			"protocol version (SSL 3.0 to TLS 1.3) with ClientHellos offering every cipher suite so that a\n" +
			"version below --min-tls-version must be refused, lists the weak suites accepted (no forward\n" +
			"secrecy, CBC-SHA1, 3DES, RC4, NULL, export, anonymous), classifies the client-certificate policy\n" +
			"and checks that plaintext is off (live config port 0, and --plaintext-port probes).\n" +
			"Credentials for CONFIG GET come from $REDIS_USERNAME and $REDIS_PASSWORD only.",
		Options:        o.ConfigOptions(),
		DefaultTimeout: 10 * time.Second,
		Validate:       o.Validate,
		Event:          func(ev *plugin.Event) { o.Discover.CheckName = ev.CheckName() },
		Run: func(ctx context.Context) result.Result {
			if o.Discover.Enabled {
				return o.RunDeployment(ctx)
			}
			return Judge(*o, Gather(ctx, o))
		},
	}
}

// roughly rounds a budget for a message: it is measured from when the
// check started, so a slow process start shaves a few milliseconds off it
// that say nothing to the reader.
func roughly(d time.Duration) time.Duration {
	if d >= 100*time.Millisecond {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

func (o *Options) serverName() string {
	if o.Conn.ServerName != "" {
		return o.Conn.ServerName
	}
	return o.Conn.Host
}

// halfway is the moment between now and ctx's deadline.
func halfway(ctx context.Context) time.Time {
	dl, ok := ctx.Deadline()
	if !ok {
		return time.Now().Add(time.Second)
	}
	return time.Now().Add(time.Until(dl) / 2)
}

// clip keeps a remote reply short in a finding.
func clip(s string) string {
	const max = 60
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
