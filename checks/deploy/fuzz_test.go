package deploy

import (
	"os"
	"strings"
	"testing"
)

func FuzzParseClusterNodes(f *testing.F) {
	for _, p := range []string{"testdata/cluster-nodes-6.0.txt", "testdata/cluster-nodes-7.0.txt"} {
		b, _ := os.ReadFile(p)
		f.Add(string(b))
	}
	f.Add(idA + " 192.0.2.2:6380@16380,h,tls-port=6390 slave " + idA + " 0 0 1 connected")
	f.Fuzz(func(t *testing.T, s string) {
		nodes, err := ParseClusterNodes(strings.NewReader(s))
		if err != nil {
			return
		}
		if len(nodes) > MaxListed {
			t.Fatalf("%d nodes", len(nodes))
		}
		for _, n := range nodes {
			if n.Port < 0 || n.Port > 65535 || n.BusPort < 0 || n.BusPort > 65535+10000 || !isNodeID(n.ID) {
				t.Fatalf("bad node %+v", n)
			}
			if n.Role == RoleReplica && n.MasterID == "" {
				t.Fatalf("replica without master %+v", n)
			}
		}
	})
}

// tree decodes fuzz bytes into the shape the client hands the parsers:
// '[' opens an array, ']' closes one, ',' ends a string, '#' makes the
// string before it an int64 when it is one. Depth and size are bounded by
// the input.
func tree(b []byte) any {
	root := []any{}
	stack := [][]any{root}
	var cur strings.Builder
	flush := func(asInt bool) {
		s := cur.String()
		cur.Reset()
		var v any = s
		if asInt {
			var n int64
			neg := strings.HasPrefix(s, "-")
			ok := len(strings.TrimPrefix(s, "-")) > 0 && len(s) < 19
			for _, c := range strings.TrimPrefix(s, "-") {
				if c < '0' || c > '9' {
					ok = false
					break
				}
				n = n*10 + int64(c-'0')
			}
			if ok {
				if neg {
					n = -n
				}
				v = n
			}
		}
		stack[len(stack)-1] = append(stack[len(stack)-1], v)
	}
	for _, c := range b {
		switch c {
		case '[':
			stack = append(stack, []any{})
		case ']':
			if len(stack) > 1 {
				top := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				stack[len(stack)-1] = append(stack[len(stack)-1], top)
			}
		case ',':
			flush(false)
		case '#':
			flush(true)
		default:
			cur.WriteByte(c)
		}
	}
	for len(stack) > 1 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		stack[len(stack)-1] = append(stack[len(stack)-1], top)
	}
	if len(stack[0]) == 1 {
		return stack[0][0]
	}
	return stack[0]
}

func FuzzParseArrays(f *testing.F) {
	f.Add([]byte("[[slots,[0#5460#]nodes,[[id," + idA + ",port,6379#ip,192.0.2.1,role,master,]]]]"))
	f.Add([]byte("[[name,m,ip,192.0.2.1,port,6379,flags,master,s_down,]]"))
	f.Add([]byte("[master,1#[[192.0.2.11,6379,0,]]]"))
	f.Add([]byte("[slave,192.0.2.1,6379#connected,1#]"))
	f.Add([]byte("[sentinel,[mymaster,]]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v := tree(b)
		if nodes, err := ParseClusterShards(v); err == nil {
			for _, n := range nodes {
				if !isNodeID(n.ID) || n.Port < 0 || n.Port > 65535 || (n.Role != RoleMaster && n.Role != RoleReplica) {
					t.Fatalf("bad shard node %+v", n)
				}
			}
		}
		if es, err := ParseSentinelList("SENTINEL MASTERS", v); err == nil {
			for _, e := range es {
				if e.Port < 0 || e.Port > 65535 || len(e.IP) > maxField || len(e.Fields) > maxPairs {
					t.Fatalf("bad entry %+v", e)
				}
			}
		}
		if r, err := ParseRole(v); err == nil && r.Role == "" {
			t.Fatalf("role without role %+v", r)
		}
	})
}

func FuzzParseInfo(f *testing.F) {
	f.Add("# Server\r\nredis_version:7.0.15\r\nredis_mode:sentinel\r\n")
	f.Add("role:master\nslave0:ip=192.0.2.11,port=6379,state=online\n")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseInfo(strings.NewReader(s))
		if err != nil {
			return
		}
		if len(m) > 4*MaxListed {
			t.Fatalf("%d fields", len(m))
		}
		for k := range m {
			if k == "" || strings.ContainsAny(k, "\n") {
				t.Fatalf("key %q", k)
			}
		}
	})
}
