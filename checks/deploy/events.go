package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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

// PostNodeEvents posts one event per node to a Sensu agent's events API
// (POST /events, 202 Accepted) under check name, each within ctx. It
// returns one error per event that was not accepted.
func PostNodeEvents(ctx context.Context, url, check string, evs []NodeEvent) []error {
	client := &http.Client{Timeout: 2 * time.Second}
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
			errs[i] = post(ctx, client, url, body)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%s: %w", name, errs[i])
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

func post(ctx context.Context, client *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the agent answered %s: %s", resp.Status, clip(strings.TrimSpace(string(msg))))
	}
	return nil
}
