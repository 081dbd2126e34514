package tlscheck

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// LiveConfig is what the running server says about its listeners.
type LiveConfig struct {
	Port           int
	TLSPort        int
	TLSReplication bool
	TLSCluster     bool
	ClusterEnabled bool
	TLSAuthClients string

	// From INFO replication; InfoErr says why they are missing.
	Role      string
	Replicas  int
	InfoErr   error
	infoKnown bool
}

// configKeys are asked one by one: CONFIG GET takes several names only
// since 7.0. Never "*" (it includes requirepass) and never requirepass.
var configKeys = []string{"port", "tls-port", "tls-replication", "tls-cluster", "cluster-enabled", "tls-auth-clients"}

// ConfigError says why the live config could not be read.
type ConfigError struct {
	Code string // Redis error code (NOAUTH, NOPERM, ERR…) or "" for a network error
	Err  error
}

func (e *ConfigError) Error() string {
	switch {
	case e.Code == "NOAUTH" || e.Code == "WRONGPASS":
		return "authentication failed or missing (set $" + redisconn.UsernameEnv + "/$" + redisconn.PasswordEnv + ")"
	case e.Code == "NOPERM":
		return "the user may not run CONFIG GET"
	case redisconn.IsUnknownCommand(e.Err):
		// The first command also carries the login (HELLO, AUTH): name
		// the command the server did not know.
		return missingCommand(e.Err, "CONFIG") + " is renamed or disabled"
	}
	return e.Err.Error()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// readLiveConfig reads the listener settings over a verified TLS
// connection with the credentials from the environment.
func readLiveConfig(ctx context.Context, o redisconn.Options) (LiveConfig, error) {
	var lc LiveConfig
	c := o.Client(ctx)
	defer c.Close()
	pipe := c.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(configKeys))
	for i, k := range configKeys {
		cmds[i] = pipe.ConfigGet(ctx, k)
	}
	info := pipe.Info(ctx, "replication")
	// Each command carries its own error, except a failed login (HELLO,
	// AUTH), which only Exec returns.
	if _, err := pipe.Exec(ctx); err != nil && cmds[0].Err() == nil {
		return lc, &ConfigError{Code: redisconn.ErrorCode(err), Err: err}
	}
	values := map[string]string{}
	for i, k := range configKeys {
		m, err := cmds[i].Result()
		if err != nil {
			return lc, &ConfigError{Code: redisconn.ErrorCode(err), Err: err}
		}
		v, ok := m[k]
		if !ok {
			return lc, &ConfigError{Err: fmt.Errorf("CONFIG GET %s returned nothing", k)}
		}
		values[k] = v
	}
	var err error
	if lc.Port, err = strconv.Atoi(values["port"]); err != nil {
		return lc, &ConfigError{Err: fmt.Errorf("CONFIG GET port: %q is not a number", values["port"])}
	}
	if lc.TLSPort, err = strconv.Atoi(values["tls-port"]); err != nil {
		return lc, &ConfigError{Err: fmt.Errorf("CONFIG GET tls-port: %q is not a number", values["tls-port"])}
	}
	lc.TLSReplication = values["tls-replication"] == "yes"
	lc.TLSCluster = values["tls-cluster"] == "yes"
	lc.ClusterEnabled = values["cluster-enabled"] == "yes"
	lc.TLSAuthClients = values["tls-auth-clients"]
	if text, err := info.Result(); err != nil {
		lc.InfoErr = err
	} else {
		lc.Role, lc.Replicas = parseReplication(text)
		// INFO replication always has a role; without one it said nothing.
		lc.infoKnown = lc.Role != ""
		if !lc.infoKnown {
			lc.InfoErr = errors.New("no role in the reply")
		}
	}
	return lc, nil
}

// parseReplication reads role and connected_slaves from INFO replication.
func parseReplication(text string) (role string, replicas int) {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok {
			continue
		}
		switch k {
		case "role":
			role = v
		case "connected_slaves":
			replicas, _ = strconv.Atoi(v)
		}
	}
	return role, replicas
}

// PlaintextInput is what JudgePlaintext weighs.
type PlaintextInput struct {
	Config    *LiveConfig // nil when it could not be read
	ConfigErr error       // why not
	Probes    []PlainProbe
}

// JudgePlaintext decides whether plaintext is off. The live config is the
// authority when it can be read; without it only the probed ports are
// known, and with no probes either nothing is: UNKNOWN, never OK.
func JudgePlaintext(in PlaintextInput) []result.Finding {
	var fs []result.Finding
	add := func(s result.State, format string, args ...any) {
		fs = append(fs, result.Finding{State: s, Text: fmt.Sprintf(format, args...)})
	}
	for _, p := range in.Probes {
		fs = append(fs, JudgePlainProbe(p))
	}
	lc := in.Config
	if lc == nil {
		reason := "not read"
		if in.ConfigErr != nil {
			reason = in.ConfigErr.Error()
		}
		var ce *ConfigError
		switch {
		case len(in.Probes) == 0:
			add(result.Unknown, "plaintext port not verified: live config unavailable (%s); give --plaintext-port to probe", reason)
		case errors.As(in.ConfigErr, &ce) && ce.Code == "" && redisconn.Broken(ce.Err):
			// A server that breaks off mid-reply is not to be trusted with
			// the rest of the answer either.
			add(result.Unknown, "live config unreadable: the server broke off (%s)", reason)
		default:
			// The probes cover the ports named; a plaintext port elsewhere,
			// the cluster bus and the replication links stay unverified.
			add(result.Warning, "live config unavailable (%s): only the probed ports are known to refuse plaintext; the port setting, tls-cluster and tls-replication are not verified: give the check a user that may run CONFIG GET and INFO replication", reason)
		}
		return fs
	}
	if lc.Port != 0 {
		add(result.Critical, "plaintext port %d is open (live config; set port 0)", lc.Port)
	} else {
		add(result.OK, "plaintext port off (port 0), tls-port %d", lc.TLSPort)
	}
	if lc.TLSAuthClients != "" {
		add(result.OK, "tls-auth-clients %s", lc.TLSAuthClients)
	}
	if lc.ClusterEnabled {
		if lc.TLSCluster {
			add(result.OK, "cluster bus uses TLS (tls-cluster yes)")
		} else {
			add(result.Critical, "cluster mode with tls-cluster no: the cluster bus is plaintext and unauthenticated")
		}
	}
	switch {
	case !lc.infoKnown:
		add(result.Warning, "replication role unknown: INFO replication failed (%s)", infoReason(lc.InfoErr))
	case lc.Role == "slave" && !lc.TLSReplication:
		add(result.Critical, "replica with tls-replication no: the link to its master is plaintext")
	case lc.Role == "slave":
		add(result.OK, "replica; the link to its master uses TLS (tls-replication yes)")
	case lc.Replicas > 0:
		add(result.OK, "replica source with %d replicas; tls-replication %s", lc.Replicas, yesNo(lc.TLSReplication))
	}
	return fs
}

func infoReason(err error) string {
	if code := redisconn.ErrorCode(err); code != "" {
		return code
	}
	if err == nil {
		return "no reply"
	}
	return err.Error()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// errConfigSkipped is why the live config is not asked for when the chain
// did not verify.
var errConfigSkipped = errors.New("not asked: credentials are not sent to a server whose certificate failed verification")

// missingCommand names the command an unknown-command reply names, or
// sent when the reply names none.
func missingCommand(err error, sent string) string {
	if name, _ := redisconn.UnknownCommandName(err); name != "" {
		return name
	}
	return sent
}
