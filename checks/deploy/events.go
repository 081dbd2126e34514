package deploy

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// NodeEvent is one node's verdict, to be filed in Sensu under a proxy
// entity of its own.
type NodeEvent struct {
	Node   Node
	Status int // 0-3, the check states
	Output string
}

// EntityName is the proxy entity a node's events are filed under:
// "redis-192.0.2.11-6379". It is named after the address and port, not
// the role: a failover swaps roles, and an entity named after the old
// role would keep the old alert while a new one opened elsewhere. The
// role is in the output.
func EntityName(n Node) string {
	s := "redis-" + n.Addr.String() + "-" + strconv.Itoa(n.Port)
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, s)
}

// eventBody is the part of a Sensu core/v2 event the agent's API needs:
// the agent fills namespace, timestamps and its own entity, and files the
// check under the given entity's name as proxy_entity_name.
type eventBody struct {
	Entity struct {
		EntityClass string `json:"entity_class"`
		Metadata    struct {
			Name string `json:"name"`
		} `json:"metadata"`
	} `json:"entity"`
	Check struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Status          int    `json:"status"`
		Output          string `json:"output"`
		ProxyEntityName string `json:"proxy_entity_name"`
	} `json:"check"`
}

// maxPosts bounds the simultaneous posts to the agent.
const maxPosts = 4

// postTimeout bounds one post: the agent queues the event and answers.
const postTimeout = 2 * time.Second

// PostNodeEvents posts one event per node to a Sensu agent's events API
// (POST /events, 202 Accepted) under check name, each within ctx. It
// returns one error per event that was not accepted.
func PostNodeEvents(ctx context.Context, url, check string, evs []NodeEvent) []error {
	errs := make([]error, len(evs))
	sem := make(chan struct{}, maxPosts)
	var wg sync.WaitGroup
	for i, ev := range evs {
		var b eventBody
		name := EntityName(ev.Node)
		b.Entity.EntityClass = "proxy"
		b.Entity.Metadata.Name = name
		b.Check.Metadata.Name = check
		b.Check.Status = ev.Status
		b.Check.Output = ev.Output
		b.Check.ProxyEntityName = name
		body, err := json.Marshal(b)
		if err != nil {
			errs[i] = err
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			pctx, cancel := context.WithTimeout(ctx, postTimeout)
			defer cancel()
			if err := post(pctx, url, body); err != nil {
				errs[i] = fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	wg.Wait()
	var out []error
	for _, e := range errs {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

// post sends one HTTP/1.1 POST and reads the status line. The agent's API
// is plain HTTP on its own host; a request this small needs no more than
// this, and net/http would add a megabyte to every check binary.
func post(ctx context.Context, rawURL string, body []byte) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("%q is not an http:// URL", rawURL)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	req := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		u.RequestURI(), u.Host, len(body))
	if _, err := c.Write(append([]byte(req), body...)); err != nil {
		return err
	}
	line, err := bufio.NewReaderSize(io.LimitReader(c, 512), 512).ReadString('\n')
	if err != nil {
		return fmt.Errorf("no HTTP answer: %w", err)
	}
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/1.") {
		return fmt.Errorf("not an HTTP answer: %q", clip(line))
	}
	if f[1] != "202" && f[1] != "200" {
		return fmt.Errorf("the agent answered %s", clip(strings.Join(f[1:], " ")))
	}
	return nil
}
