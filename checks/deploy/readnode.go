package deploy

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/sensu-community/sensu-redis-security-checks/checks/redisconn"
)

// maxMasters caps the masters of one Sentinel the walk follows.
const maxMasters = 64

// configKeys are read with one CONFIG GET each (6.x takes one pattern, and
// a pattern such as tls-* would also return tls-key-file-pass).
var configKeys = []string{"port", "tls-port", "tls-replication", "tls-cluster"}

// nodeReport is what one node said.
type nodeReport struct {
	role     Role
	cluster  bool
	master   string
	version  string
	config   map[string]string
	ports    []Port
	monitors []string
	view     map[string]SentinelEntry
	found    []candidate
}

// readNode asks one node what it is and whom it knows. An error means the
// node could not be read at all; the commands after INFO that fail only
// leave their part out.
func readNode(ctx context.Context, opts redisconn.Options) (nodeReport, error) {
	var r nodeReport
	c := opts.Client(ctx)
	defer c.Close()
	self := opts.Addr()
	text, err := c.Info(ctx, "server").Result()
	if err != nil {
		return r, err
	}
	info, err := ParseInfo(strings.NewReader(text))
	if err != nil {
		return r, err
	}
	r.version = clip(info["redis_version"])
	switch info["redis_mode"] {
	case "sentinel":
		return r, readSentinel(ctx, c, self, &r)
	case "cluster":
		r.cluster = true
		if err := readCluster(ctx, c, self, &r); err != nil {
			return r, err
		}
	}
	r.config = map[string]string{}
	for _, k := range configKeys {
		v, err := c.ConfigGet(ctx, k).Result()
		if err == nil {
			if s, ok := v[k]; ok && len(s) <= maxField {
				r.config[k] = s
			}
		}
	}
	if p, err := strconv.Atoi(r.config["tls-port"]); err == nil && p > 0 {
		r.ports = append(r.ports, Port{PortTLS, p})
	}
	if p, err := strconv.Atoi(r.config["port"]); err == nil && p > 0 {
		r.ports = append(r.ports, Port{PortData, p})
	}
	// ROLE lists the replicas: without it (an ACL without +role) members
	// could be missed, so the node counts as not read.
	v, err := c.Do(ctx, "ROLE").Result()
	if err != nil {
		return r, fmt.Errorf("ROLE: %w", err)
	}
	role, err := ParseRole(v)
	if err != nil {
		return r, err
	}
	if r.role == "" {
		r.role = role.Role
	}
	src := "replication of " + self
	switch role.Role {
	case RoleMaster:
		for _, hp := range role.Replicas {
			r.found = append(r.found, candidate{hp: hp, role: RoleReplica, master: self, cluster: r.cluster, source: src})
		}
	case RoleReplica:
		if r.master == "" {
			r.master = role.Master.String()
		}
		r.found = append(r.found, candidate{hp: role.Master, role: RoleMaster, cluster: r.cluster, source: src})
	}
	return r, nil
}

func readSentinel(ctx context.Context, c *redis.Client, self string, r *nodeReport) error {
	r.role = RoleSentinel
	src := "sentinel " + self
	v, err := c.Do(ctx, "SENTINEL", "MASTERS").Result()
	if err != nil {
		return err
	}
	masters, err := ParseSentinelList("SENTINEL MASTERS", v)
	if err != nil {
		return err
	}
	if len(masters) > maxMasters {
		return fmt.Errorf("SENTINEL MASTERS: more than %d masters", maxMasters)
	}
	r.view = map[string]SentinelEntry{}
	for _, m := range masters {
		name := clip(m.Name)
		r.monitors = append(r.monitors, name)
		r.view[name] = m
		r.found = append(r.found, candidate{hp: HostPort{m.IP, m.Port}, role: RoleMaster, master: name,
			flags: m.Flags, source: src})
		reps, err := c.Do(ctx, "SENTINEL", "REPLICAS", m.Name).Result()
		if redisconn.IsUnknownCommand(err) || redisconn.ErrorCode(err) == "ERR" {
			reps, err = c.Do(ctx, "SENTINEL", "SLAVES", m.Name).Result() // before 5.0
		}
		if err != nil {
			return err
		}
		list, err := ParseSentinelList("SENTINEL REPLICAS", reps)
		if err != nil {
			return err
		}
		for _, e := range list {
			r.found = append(r.found, candidate{hp: HostPort{e.IP, e.Port}, role: RoleReplica, master: name,
				flags: e.Flags, source: src})
		}
		sents, err := c.Do(ctx, "SENTINEL", "SENTINELS", m.Name).Result()
		if err != nil {
			return err
		}
		list, err = ParseSentinelList("SENTINEL SENTINELS", sents)
		if err != nil {
			return err
		}
		for _, e := range list {
			r.found = append(r.found, candidate{hp: HostPort{e.IP, e.Port}, role: RoleSentinel,
				flags: e.Flags, ports: []Port{{PortSentinel, e.Port}}, source: src})
		}
	}
	return nil
}

// readCluster lists the members: CLUSTER SHARDS (7.0+) for the data and
// TLS ports, CLUSTER NODES for the bus ports and before 7.0. A member list
// that cannot be read or parsed fails the read: members could be missed.
// CLUSTER SHARDS may be unknown (before 7.0), never malformed.
func readCluster(ctx context.Context, c *redis.Client, self string, r *nodeReport) error {
	src := "cluster " + self
	text, err := c.Do(ctx, "CLUSTER", "NODES").Text()
	if err != nil {
		return fmt.Errorf("CLUSTER NODES: %w", err)
	}
	nodes, err := ParseClusterNodes(strings.NewReader(text))
	if err != nil {
		return err
	}
	idx := map[string]int{}
	for i := range nodes {
		idx[nodes[i].ID] = i
	}
	v, err := c.Do(ctx, "CLUSTER", "SHARDS").Result()
	if err != nil && !redisconn.IsUnknownCommand(err) && redisconn.ErrorCode(err) != "ERR" {
		return fmt.Errorf("CLUSTER SHARDS: %w", err)
	}
	if err == nil {
		shards, err := ParseClusterShards(v)
		if err != nil {
			return err
		}
		for _, s := range shards {
			i, ok := idx[s.ID]
			if !ok {
				idx[s.ID] = len(nodes)
				nodes = append(nodes, s)
				continue
			}
			nodes[i].TCPPort, nodes[i].TLSPort = s.TCPPort, s.TLSPort
			if s.IP != "" {
				nodes[i].IP = s.IP
			}
		}
	}
	for _, n := range nodes {
		port := n.Port
		ports := []Port{{PortBus, n.BusPort}}
		if n.TCPPort > 0 {
			ports = append(ports, Port{PortData, n.TCPPort})
		}
		if n.TLSPort > 0 {
			ports = append(ports, Port{PortTLS, n.TLSPort})
		}
		if n.TCPPort == 0 && n.TLSPort == 0 {
			ports = append(ports, Port{PortData, port})
		}
		master := ""
		if i, ok := idx[n.MasterID]; ok && n.MasterID != "" {
			master = HostPort{nodes[i].IP, nodes[i].Port}.String()
		}
		var flags []string
		for _, f := range n.Flags {
			switch f {
			case "fail", "fail?", "noaddr", "handshake", "nofailover":
				flags = append(flags, f)
			}
		}
		if n.Myself {
			r.role, r.master = n.Role, master
			r.ports = append(r.ports, ports...)
			continue
		}
		r.found = append(r.found, candidate{hp: HostPort{n.IP, port}, role: n.Role, cluster: true,
			master: master, flags: flags, ports: ports, source: src})
	}
	return nil
}
