package hostile

import (
	"fmt"
	"strings"
)

// The baselines are what a consistent Redis 7.0 answers each check: a run
// against one unmutated must be OK, or the oracle "mutated replies never
// give OK" would prove nothing.

// Password is the requirepass of the worlds that have one.
const Password = "hostile-test-pw"

func bulk(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }

func array(items ...string) string {
	return fmt.Sprintf("*%d\r\n", len(items)) + strings.Join(items, "")
}

func bulks(ss ...string) string {
	items := make([]string, len(ss))
	for i, s := range ss {
		items[i] = bulk(s)
	}
	return array(items...)
}

func ok(send string) Action { return Action{Send: send} }

// hello2 is HELLO 2's reply: the server's properties as a flat array.
var hello2 = array(bulk("server"), bulk("redis"), bulk("version"), bulk("7.0.15"), bulk("proto"), ":2\r\n",
	bulk("id"), ":7\r\n", bulk("mode"), bulk("standalone"), bulk("role"), bulk("master"), bulk("modules"), "*0\r\n")

// PortToken stands for the server's port in a reply, replaced by the port
// written on five digits (Redis's parsers and the checks' accept leading
// zeros), so a script keeps its lengths and replays on any port.
const PortToken = "@PORT"

func infoServer() string {
	return bulk(strings.Join([]string{"# Server", "redis_version:7.0.15", "redis_git_sha1:00000000",
		"redis_mode:standalone", "os:Linux 6.1.0 x86_64", "arch_bits:64", "process_id:1",
		"tcp_port:" + PortToken, "uptime_in_seconds:100", "executable:/usr/bin/redis-server",
		"config_file:", ""}, "\r\n"))
}

var infoReplication = bulk("# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_repl_offset:0\r\n")

const noauth = "-NOAUTH Authentication required.\r\n"
const unknownDefault = "-ERR unknown command\r\n"

func configGet(k, v string) Action { return ok(bulks(k, v)) }

// BindWorld: no password, bound to loopback, protected mode on.
func BindWorld(tlsPort bool) Script {
	p, tp := PortToken, "0"
	if tlsPort {
		p, tp = "0", PortToken
	}
	return Script{
		Anon: map[string]Action{
			"HELLO":                      ok(hello2),
			"PING":                       ok("+PONG\r\n"),
			"INFO SERVER":                ok(infoServer()),
			"CONFIG GET BIND":            configGet("bind", "127.0.0.1 -::1"),
			"CONFIG GET PORT":            configGet("port", p),
			"CONFIG GET TLS-PORT":        configGet("tls-port", tp),
			"CONFIG GET CLUSTER-PORT":    configGet("cluster-port", "0"),
			"CONFIG GET CLUSTER-ENABLED": configGet("cluster-enabled", "no"),
			"CONFIG GET PROTECTED-MODE":  configGet("protected-mode", "yes"),
		},
		Default: ok(unknownDefault),
	}
}

// aclUsers is ACL LIST of a server where only the default user exists,
// with a password.
var aclUsers = bulks("user default on sanitize-payload #" + strings.Repeat("ab", 32) + " ~* &* +@all")

var dangerous = bulks("flushall", "flushdb", "config", "debug", "keys", "shutdown", "acl", "module",
	"save", "bgsave", "replicaof", "slaveof", "migrate", "restore", "sort", "monitor", "client", "cluster")

// AuthWorld: requirepass set; without credentials everything is NOAUTH, with
// them the audit reads INFO, the enable-* settings, ACL LIST and ACL CAT.
func AuthWorld() Script {
	return Script{
		Password: Password,
		Anon: map[string]Action{
			"PING":   ok(noauth),
			"DBSIZE": ok(noauth),
			"INFO":   ok(noauth),
			"HELLO":  ok("-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n"),
			"AUTH":   ok("-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
		},
		Authed: map[string]Action{
			"HELLO":                               ok(hello2),
			"AUTH":                                ok("+OK\r\n"),
			"PING":                                ok("+PONG\r\n"),
			"DBSIZE":                              ok(":0\r\n"),
			"INFO SERVER":                         ok(infoServer()),
			"ACL LIST":                            ok(aclUsers),
			"ACL CAT":                             ok(dangerous),
			"CONFIG GET ENABLE-DEBUG-COMMAND":     configGet("enable-debug-command", "no"),
			"CONFIG GET ENABLE-MODULE-COMMAND":    configGet("enable-module-command", "no"),
			"CONFIG GET ENABLE-PROTECTED-CONFIGS": configGet("enable-protected-configs", "no"),
		},
		Default: ok(unknownDefault),
	}
}

// TLSWorld: TLS only (port 0), no password needed for CONFIG GET.
func TLSWorld() Script {
	return Script{
		Anon: map[string]Action{
			"HELLO":                       ok(hello2),
			"PING":                        ok("+PONG\r\n"),
			"CONFIG GET PORT":             configGet("port", "0"),
			"CONFIG GET TLS-PORT":         configGet("tls-port", PortToken),
			"CONFIG GET TLS-REPLICATION":  configGet("tls-replication", "no"),
			"CONFIG GET TLS-CLUSTER":      configGet("tls-cluster", "no"),
			"CONFIG GET CLUSTER-ENABLED":  configGet("cluster-enabled", "no"),
			"CONFIG GET TLS-AUTH-CLIENTS": configGet("tls-auth-clients", "yes"),
			"INFO REPLICATION":            ok(infoReplication),
		},
		Default: ok(unknownDefault),
	}
}

// ExposureWorld: a password-protected server, seen from a trusted vantage
// point (--expect reachable): reaching it is OK.
func ExposureWorld() Script {
	return Script{
		Password: Password,
		Anon:     map[string]Action{"PING": ok(noauth)},
		Default:  ok(noauth),
	}
}
