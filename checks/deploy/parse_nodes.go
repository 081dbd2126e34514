package deploy

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Caps of the parsers. A Redis Cluster is meant for up to 1,000 nodes;
// a Sentinel rarely watches more than a few masters.
const (
	// MaxListed caps the entries one reply may list.
	MaxListed = 1024
	// maxNodesLine caps a CLUSTER NODES line: a master whose slots are
	// fragmented into single slots writes about 100 KiB.
	maxNodesLine = 256 << 10
	// maxText caps a whole text reply (CLUSTER NODES, INFO).
	maxText = 4 << 20
	// maxField caps a string field (address, id, name, flag list).
	maxField = 512
)

// ClusterNode is one node as a Cluster member lists it.
type ClusterNode struct {
	ID string
	// IP is the announced address (may be empty: a node not yet met).
	IP       string
	Hostname string
	// Port is the client port shown, BusPort the cluster bus port; TLSPort
	// and TCPPort come from CLUSTER SHARDS or the 7.2 auxiliary fields.
	Port, BusPort, TLSPort, TCPPort int
	Flags                           []string
	// Role is master or replica; MasterID the master of a replica.
	Role     Role
	MasterID string
	// Health is CLUSTER SHARDS' online/failed/loading; CLUSTER NODES
	// tells through Flags (fail, noaddr, handshake).
	Health string
	// Myself marks the node that answered.
	Myself bool
	// Line is the line of CLUSTER NODES, or the shard index + 1 of SHARDS.
	Line int
}

// ParseClusterNodes reads the text reply of CLUSTER NODES (every version
// since 3.0: "ip:port", "ip:port@cport", and 7.x "ip:port@cport,hostname"
// with 7.2 ",key=value" auxiliary fields).
func ParseClusterNodes(r io.Reader) ([]ClusterNode, error) {
	const what = "CLUSTER NODES"
	sc := bufio.NewScanner(io.LimitReader(r, maxText+1))
	sc.Buffer(make([]byte, 0, 4096), maxNodesLine)
	var out []ClusterNode
	line, read := 0, 0
	for sc.Scan() {
		line++
		read += len(sc.Bytes()) + 1
		if read > maxText {
			return nil, lineErr(what, line, "reply longer than %d bytes", maxText)
		}
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		if len(out) == MaxListed {
			return nil, tooMany(what, MaxListed)
		}
		n, err := parseNodesLine(text)
		if err != nil {
			return nil, lineErr(what, line, "%v", err)
		}
		n.Line = line
		out = append(out, n)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, lineErr(what, line+1, "line longer than %d bytes", maxNodesLine)
		}
		return nil, err
	}
	return out, nil
}

func parseNodesLine(text string) (ClusterNode, error) {
	var n ClusterNode
	f := strings.Fields(text)
	if len(f) < 8 {
		return n, errors.New("fewer than 8 fields")
	}
	if !isNodeID(f[0]) {
		return n, errors.New("node id is not 40 hex digits")
	}
	n.ID = f[0]
	if err := parseNodeAddr(f[1], &n); err != nil {
		return n, err
	}
	if len(f[2]) > maxField {
		return n, errors.New("flags too long")
	}
	n.Flags = strings.Split(f[2], ",")
	n.Role = RoleMaster
	for _, fl := range n.Flags {
		switch fl {
		case "slave", "replica":
			n.Role = RoleReplica
		case "myself":
			n.Myself = true
		}
	}
	if f[3] != "-" {
		if !isNodeID(f[3]) {
			return n, errors.New("master id is neither - nor 40 hex digits")
		}
		n.MasterID = f[3]
	}
	if n.Role == RoleReplica && n.MasterID == "" {
		return n, errors.New("a replica without a master id")
	}
	return n, nil
}

// parseNodeAddr reads ip:port[@cport][,hostname][,key=value…].
func parseNodeAddr(s string, n *ClusterNode) error {
	if len(s) > maxField {
		return errors.New("address field too long")
	}
	addr, aux, _ := strings.Cut(s, ",")
	addr, cport, hasBus := strings.Cut(addr, "@")
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return errors.New("address without a port")
	}
	n.IP = strings.TrimSuffix(strings.TrimPrefix(addr[:i], "["), "]")
	var err error
	if n.Port, err = portField(addr[i+1:]); err != nil {
		return err
	}
	if hasBus {
		if n.BusPort, err = portField(cport); err != nil {
			return err
		}
	} else if n.Port != 0 {
		n.BusPort = n.Port + 10000 // before 4.0: always data port + 10000
	}
	if aux == "" {
		return nil
	}
	for i, a := range strings.Split(aux, ",") {
		k, v, kv := strings.Cut(a, "=")
		switch {
		case !kv && i == 0:
			n.Hostname = a
		case k == "tls-port":
			if n.TLSPort, err = portField(v); err != nil {
				return err
			}
		case k == "tcp-port":
			if n.TCPPort, err = portField(v); err != nil {
				return err
			}
		}
	}
	return nil
}

// portField reads 0-65535 (0: none, as a node without address shows).
func portField(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 0 || p > 65535 {
		return 0, errors.New("port " + strconv.Quote(clip(s)) + " is not in 0-65535")
	}
	return p, nil
}

func isNodeID(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// clip keeps remote text short and printable in messages.
func clip(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return '?'
		}
		return r
	}, s)
}
