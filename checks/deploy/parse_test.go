package deploy

import (
	"errors"
	"os"
	"strings"
	"testing"
)

const (
	idA = "e7801026a5a517d9d17bdefa481cdd3662644a83"
	idB = "fa363e560b6b6079e1d6f38161e398c6c8e8c042"
)

func TestParseClusterNodesCaptured(t *testing.T) {
	for _, tc := range []struct {
		file    string
		n       int
		myself  string
		replica bool
	}{
		{"testdata/cluster-nodes-6.0.txt", 4, "127.0.0.1:36001", true},
		{"testdata/cluster-nodes-7.0.txt", 4, "127.0.0.1:37004", false},
	} {
		b, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		nodes, err := ParseClusterNodes(strings.NewReader(string(b)))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if len(nodes) != tc.n {
			t.Fatalf("%s: %d nodes, want %d", tc.file, len(nodes), tc.n)
		}
		sawReplica := false
		for _, n := range nodes {
			if n.BusPort != n.Port+10000 {
				t.Errorf("%s: %s bus %d", tc.file, n.ID, n.BusPort)
			}
			if n.Myself && (HostPort{n.IP, n.Port}.String() != tc.myself) {
				t.Errorf("%s: myself is %s:%d", tc.file, n.IP, n.Port)
			}
			if n.Role == RoleReplica {
				sawReplica = true
				if n.MasterID == "" {
					t.Errorf("%s: replica without master", tc.file)
				}
			}
		}
		if sawReplica != tc.replica {
			t.Errorf("%s: replica seen %v", tc.file, sawReplica)
		}
	}
}

func TestParseClusterNodesLines(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       ClusterNode
		err        string
	}{
		{"3.x without bus", idA + " 10.0.0.1:7000 master - 0 0 1 connected 0-100",
			ClusterNode{ID: idA, IP: "10.0.0.1", Port: 7000, BusPort: 17000, Role: RoleMaster}, ""},
		{"7.x hostname", idA + " 192.0.2.1:6379@16379,node-a.example myself,master - 0 0 1 connected",
			ClusterNode{ID: idA, IP: "192.0.2.1", Hostname: "node-a.example", Port: 6379, BusPort: 16379, Role: RoleMaster, Myself: true}, ""},
		{"7.2 aux fields", idB + " 192.0.2.2:6380@16380,,tls-port=6390,shard-id=" + idA + " slave " + idA + " 0 0 1 connected",
			ClusterNode{ID: idB, IP: "192.0.2.2", Port: 6380, BusPort: 16380, TLSPort: 6390, Role: RoleReplica, MasterID: idA}, ""},
		{"ipv6", idA + " 2001:db8::1:6379@16379 master - 0 0 1 connected",
			ClusterNode{ID: idA, IP: "2001:db8::1", Port: 6379, BusPort: 16379, Role: RoleMaster}, ""},
		{"noaddr", idA + " :0@0 master,noaddr - 0 0 1 disconnected",
			ClusterNode{ID: idA, Role: RoleMaster}, ""},
		{"short", idA + " 1.2.3.4:1@2 master -", ClusterNode{}, "fewer than 8 fields"},
		{"bad id", "xyz 1.2.3.4:1@2 master - 0 0 1 connected", ClusterNode{}, "40 hex"},
		{"bad port", idA + " 1.2.3.4:99999@2 master - 0 0 1 connected", ClusterNode{}, "not in 0-65535"},
		{"replica without master", idA + " 1.2.3.4:1@2 slave - 0 0 1 connected", ClusterNode{}, "without a master"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseClusterNodes(strings.NewReader("\n" + tc.line + "\n"))
			if tc.err != "" {
				var pe *ParseError
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.As(err, &pe) || pe.Line != 2 {
					t.Fatalf("err %v, want %q on line 2", err, tc.err)
				}
				return
			}
			if err != nil || len(got) != 1 {
				t.Fatalf("%v %v", got, err)
			}
			g := got[0]
			g.Flags, g.Line = nil, 0
			if g.ID != tc.want.ID || g.IP != tc.want.IP || g.Port != tc.want.Port || g.BusPort != tc.want.BusPort ||
				g.TLSPort != tc.want.TLSPort || g.Role != tc.want.Role || g.MasterID != tc.want.MasterID ||
				g.Hostname != tc.want.Hostname || g.Myself != tc.want.Myself {
				t.Errorf("got %+v\nwant %+v", g, tc.want)
			}
		})
	}
}

func TestParseClusterNodesCaps(t *testing.T) {
	line := idA + " 10.0.0.1:7000@17000 master - 0 0 1 connected\n"
	_, err := ParseClusterNodes(strings.NewReader(strings.Repeat(line, MaxListed+1)))
	if !errors.Is(err, ErrTooMany) {
		t.Errorf("%d lines: %v", MaxListed+1, err)
	}
	_, err = ParseClusterNodes(strings.NewReader(idA + " " + strings.Repeat("x", maxNodesLine+10)))
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("long line: %v", err)
	}
}

// shardNode is one node of CLUSTER SHARDS as the client decodes it.
func shardNode(id, ip string, port, tlsPort int64, role string) []any {
	n := []any{"id", id, "port", port, "ip", ip, "endpoint", ip, "role", role, "replication-offset", int64(0), "health", "online"}
	if tlsPort > 0 {
		n = append(n, "tls-port", tlsPort)
	}
	return n
}

func TestParseClusterShards(t *testing.T) {
	reply := []any{
		[]any{"slots", []any{int64(0), int64(5460)}, "nodes", []any{
			shardNode(idA, "192.0.2.1", 6379, 6390, "master"),
			shardNode(idB, "192.0.2.2", 0, 6390, "replica"),
		}},
	}
	got, err := ParseClusterShards(reply)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Port != 6379 || got[0].TLSPort != 6390 || got[1].Port != 6390 ||
		got[1].Role != RoleReplica || got[1].MasterID != idA {
		t.Errorf("%+v", got)
	}
	for name, bad := range map[string]any{
		"not array":   "x",
		"odd fields":  []any{[]any{"slots"}},
		"no nodes":    []any{[]any{"slots", []any{}}},
		"bad role":    []any{[]any{"nodes", []any{shardNode(idA, "1.2.3.4", 1, 0, "boss")}}},
		"bad port":    []any{[]any{"nodes", []any{shardNode(idA, "1.2.3.4", 70000, 0, "master")}}},
		"bad id":      []any{[]any{"nodes", []any{shardNode("x", "1.2.3.4", 1, 0, "master")}}},
		"nested name": []any{[]any{[]any{}, "x"}},
	} {
		if _, err := ParseClusterShards(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func sentinelEntry(name, ip, port, flags string) []any {
	return []any{"name", name, "ip", ip, "port", port, "runid", "", "flags", flags,
		"link-pending-commands", "0", "last-ok-ping-reply", "300", "down-after-milliseconds", "5000"}
}

func TestParseSentinelList(t *testing.T) {
	got, err := ParseSentinelList("SENTINEL REPLICAS", []any{
		sentinelEntry("192.0.2.11:6379", "192.0.2.11", "6379", "slave"),
		sentinelEntry("192.0.2.12:6379", "192.0.2.12", "6379", "s_down,slave,disconnected"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Port != 6379 || !got[1].Has("s_down") || got[0].Has("s_down") ||
		got[0].Fields["down-after-milliseconds"] != "5000" {
		t.Errorf("%+v", got)
	}
	big := make([]any, 0, 2*(maxPairs+1))
	for i := 0; i <= maxPairs; i++ {
		big = append(big, "k"+string(rune('a'+i%26))+strings.Repeat("x", i), "v")
	}
	for name, bad := range map[string]any{
		"no port":     []any{[]any{"name", "m"}},
		"many fields": []any{big},
		"long value":  []any{[]any{"port", "1", "ip", strings.Repeat("1", maxField+1)}},
	} {
		if _, err := ParseSentinelList("SENTINEL MASTERS", bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	many := make([]any, MaxListed+1)
	for i := range many {
		many[i] = sentinelEntry("m", "1.2.3.4", "1", "master")
	}
	if _, err := ParseSentinelList("SENTINEL MASTERS", many); !errors.Is(err, ErrTooMany) {
		t.Errorf("many: %v", err)
	}
}

func TestParseRole(t *testing.T) {
	m, err := ParseRole([]any{"master", int64(42), []any{[]any{"192.0.2.11", "6379", "42"}, []any{"192.0.2.12", "6380", "0"}}})
	if err != nil || m.Role != RoleMaster || len(m.Replicas) != 2 || m.Replicas[1].String() != "192.0.2.12:6380" {
		t.Errorf("master: %+v %v", m, err)
	}
	r, err := ParseRole([]any{"slave", "2001:db8::1", int64(6379), "connected", int64(42)})
	if err != nil || r.Role != RoleReplica || r.Master.String() != "[2001:db8::1]:6379" || r.LinkState != "connected" {
		t.Errorf("replica: %+v %v", r, err)
	}
	s, err := ParseRole([]any{"sentinel", []any{"mymaster", "other"}})
	if err != nil || s.Role != RoleSentinel || len(s.Monitored) != 2 {
		t.Errorf("sentinel: %+v %v", s, err)
	}
	for name, bad := range map[string]any{
		"empty": []any{}, "string": "master", "unknown": []any{"boss"},
		"short master": []any{"master", int64(1)}, "bad replica": []any{"master", int64(1), []any{"x"}},
		"bad port": []any{"slave", "h", "port", "connected", int64(1)},
	} {
		if _, err := ParseRole(bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseInfo(t *testing.T) {
	got, err := ParseInfo(strings.NewReader("# Server\r\nredis_version:7.0.15\r\nredis_mode:cluster\r\n\r\n# Replication\r\nrole:master\r\n"))
	if err != nil || got["redis_mode"] != "cluster" || got["role"] != "master" {
		t.Errorf("%v %v", got, err)
	}
	if _, err := ParseInfo(strings.NewReader("ok:1\nno colon\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad line: %v", err)
	}
}
