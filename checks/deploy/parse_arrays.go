package deploy

import (
	"fmt"
	"strconv"
	"strings"
)

// The array replies arrive from the client as nested []any of string and
// int64 (RESP2). The parsers take that shape and nothing else: a server
// that sends another shape gets an error, never a guess.

// maxPairs caps the key/value pairs of one entry: SENTINEL MASTERS lists
// about 40 per master.
const maxPairs = 128

// pairs reads a flat [k1, v1, k2, v2 …] array into a map of the scalar
// values and a map of the array values.
func pairs(what string, entry int, v any) (map[string]string, map[string][]any, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, nil, entryErr(what, entry, "not an array")
	}
	if len(arr)%2 != 0 {
		return nil, nil, entryErr(what, entry, "odd number of key/value elements")
	}
	if len(arr)/2 > maxPairs {
		return nil, nil, entryErr(what, entry, "more than %d fields", maxPairs)
	}
	scalars := map[string]string{}
	arrays := map[string][]any{}
	for i := 0; i < len(arr); i += 2 {
		k, ok := scalar(arr[i])
		if !ok || k == "" {
			return nil, nil, entryErr(what, entry, "field %d has no name", i/2)
		}
		if a, ok := arr[i+1].([]any); ok {
			arrays[k] = a
			continue
		}
		s, ok := scalar(arr[i+1])
		if !ok {
			return nil, nil, entryErr(what, entry, "field %s has no value", clip(k))
		}
		if len(s) > maxField {
			return nil, nil, entryErr(what, entry, "field %s longer than %d bytes", clip(k), maxField)
		}
		scalars[k] = s
	}
	return scalars, arrays, nil
}

func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int64:
		return strconv.FormatInt(x, 10), true
	case nil:
		return "", true
	}
	return "", false
}

func list(what string, v any) ([]any, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, entryErr(what, -1, "not an array")
	}
	if len(arr) > MaxListed {
		return nil, tooMany(what, MaxListed)
	}
	return arr, nil
}

// ParseClusterShards reads CLUSTER SHARDS (7.0+): shards of
// ["slots", […], "nodes", [node …]], each node a key/value array with
// id, port, tls-port, ip, endpoint, hostname, role, health.
func ParseClusterShards(v any) ([]ClusterNode, error) {
	const what = "CLUSTER SHARDS"
	shards, err := list(what, v)
	if err != nil {
		return nil, err
	}
	var out []ClusterNode
	for si, sh := range shards {
		_, arrays, err := pairs(what, si, sh)
		if err != nil {
			return nil, err
		}
		nodes, ok := arrays["nodes"]
		if !ok {
			return nil, entryErr(what, si, "shard without nodes")
		}
		masterID := ""
		start := len(out)
		for _, nv := range nodes {
			if len(out) == MaxListed {
				return nil, tooMany(what, MaxListed)
			}
			f, _, err := pairs(what, si, nv)
			if err != nil {
				return nil, err
			}
			n := ClusterNode{ID: f["id"], IP: f["ip"], Hostname: f["hostname"], Health: f["health"], Line: si + 1}
			if !isNodeID(n.ID) {
				return nil, entryErr(what, si, "node id is not 40 hex digits")
			}
			if n.IP == "" {
				n.IP = f["endpoint"]
			}
			for _, k := range []struct {
				key string
				p   *int
			}{{"port", &n.TCPPort}, {"tls-port", &n.TLSPort}} {
				if s, ok := f[k.key]; ok {
					if *k.p, err = portField(s); err != nil {
						return nil, entryErr(what, si, "%s: %v", k.key, err)
					}
				}
			}
			n.Port = n.TCPPort
			if n.Port == 0 {
				n.Port = n.TLSPort
			}
			switch f["role"] {
			case "master":
				n.Role = RoleMaster
				masterID = n.ID
			case "replica", "slave":
				n.Role = RoleReplica
			default:
				return nil, entryErr(what, si, "role %q is neither master nor replica", clip(f["role"]))
			}
			out = append(out, n)
		}
		for i := start; i < len(out); i++ {
			if out[i].Role == RoleReplica {
				out[i].MasterID = masterID
			}
		}
	}
	return out, nil
}

// SentinelEntry is one master, replica or Sentinel as SENTINEL MASTERS,
// REPLICAS or SENTINELS lists it.
type SentinelEntry struct {
	Name  string
	IP    string
	Port  int
	RunID string
	Flags []string
	// Fields holds every scalar field, capped (down-after-milliseconds,
	// last-ok-ping-reply, master-link-status …).
	Fields map[string]string
}

// Has reports a flag.
func (e SentinelEntry) Has(flag string) bool {
	for _, f := range e.Flags {
		if f == flag {
			return true
		}
	}
	return false
}

// ParseSentinelList reads the reply of SENTINEL MASTERS, REPLICAS (SLAVES)
// or SENTINELS: an array of key/value arrays.
func ParseSentinelList(what string, v any) ([]SentinelEntry, error) {
	arr, err := list(what, v)
	if err != nil {
		return nil, err
	}
	out := make([]SentinelEntry, 0, len(arr))
	for i, ev := range arr {
		f, _, err := pairs(what, i, ev)
		if err != nil {
			return nil, err
		}
		e := SentinelEntry{Name: f["name"], IP: f["ip"], RunID: f["runid"], Fields: f}
		if e.Port, err = portField(f["port"]); err != nil {
			return nil, entryErr(what, i, "%v", err)
		}
		if fl := f["flags"]; fl != "" {
			e.Flags = strings.Split(fl, ",")
		}
		out = append(out, e)
	}
	return out, nil
}

// RoleReply is the reply of ROLE.
type RoleReply struct {
	Role Role
	// Replicas of a master.
	Replicas []HostPort
	// Master of a replica, and its link state (connect, connecting, sync,
	// connected).
	Master    HostPort
	LinkState string
	// Masters a Sentinel monitors.
	Monitored []string
}

// HostPort is an address as announced, not yet validated.
type HostPort struct {
	Host string
	Port int
}

func (h HostPort) String() string {
	if strings.Contains(h.Host, ":") {
		return "[" + h.Host + "]:" + strconv.Itoa(h.Port)
	}
	return h.Host + ":" + strconv.Itoa(h.Port)
}

// ParseRole reads ROLE: ["master", offset, [[ip, port, offset] …]],
// ["slave", ip, port, state, offset] or ["sentinel", [name …]].
func ParseRole(v any) (RoleReply, error) {
	const what = "ROLE"
	var r RoleReply
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return r, entryErr(what, -1, "not a non-empty array")
	}
	kind, _ := arr[0].(string)
	bad := func(format string, args ...any) (RoleReply, error) {
		return r, entryErr(what, -1, "%s reply: %s", clip(kind), fmt.Sprintf(format, args...))
	}
	switch kind {
	case "master":
		r.Role = RoleMaster
		if len(arr) < 3 {
			return bad("fewer than 3 elements")
		}
		reps, err := list(what, arr[2])
		if err != nil {
			return r, err
		}
		for _, rv := range reps {
			ra, ok := rv.([]any)
			if !ok || len(ra) < 2 {
				return bad("replica entry is not [ip, port, offset]")
			}
			h, _ := scalar(ra[0])
			ps, _ := scalar(ra[1])
			p, err := portField(ps)
			if err != nil || len(h) > maxField {
				return bad("replica entry: bad address")
			}
			r.Replicas = append(r.Replicas, HostPort{h, p})
		}
	case "slave", "replica":
		r.Role = RoleReplica
		if len(arr) < 4 {
			return bad("fewer than 4 elements")
		}
		h, _ := scalar(arr[1])
		ps, _ := scalar(arr[2])
		p, err := portField(ps)
		if err != nil || len(h) > maxField {
			return bad("bad master address")
		}
		r.Master = HostPort{h, p}
		r.LinkState, _ = scalar(arr[3])
	case "sentinel":
		r.Role = RoleSentinel
		if len(arr) < 2 {
			return bad("fewer than 2 elements")
		}
		names, err := list(what, arr[1])
		if err != nil {
			return r, err
		}
		for _, nv := range names {
			s, ok := scalar(nv)
			if !ok || len(s) > maxField {
				return bad("master name is not a string")
			}
			r.Monitored = append(r.Monitored, s)
		}
	default:
		return bad("unknown role")
	}
	return r, nil
}
