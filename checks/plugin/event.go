package plugin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// Event is the part of a Sensu event (github.com/sensu/core/v2.Event, as the
// agent writes it to stdin for `stdin: true`) that the runner reads: the
// check's and the entity's annotations, which may override options.
type Event struct {
	Check  *annotated `json:"check"`
	Entity *annotated `json:"entity"`
}

type annotated struct {
	Metadata struct {
		Name        string            `json:"name"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
}

// EntityName is the name of the entity that ran the check: the agent's
// entity, even for a proxy check.
func (e *Event) EntityName() string {
	if e == nil || e.Entity == nil {
		return ""
	}
	return e.Entity.Metadata.Name
}

func (a *annotated) annotation(key string) string {
	if a == nil {
		return ""
	}
	return a.Metadata.Annotations[key]
}

// maxEvent caps what is read from stdin; a Sensu event is a few kilobytes.
const maxEvent = 4 << 20

// readEvent reads the event the agent writes to stdin for `stdin: true`.
// Empty input means no event (a pipe from a shell with nothing in it). A
// pipe that never closes is given up on at the deadline.
func readEvent(r io.Reader, wait time.Duration) (*Event, error) {
	type read struct {
		b   []byte
		err error
	}
	ch := make(chan read, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(r, maxEvent+1))
		ch <- read{b, err}
	}()
	var got read
	select {
	case got = <-ch:
	case <-time.After(wait):
		return nil, badInput{errors.New("stdin is a pipe but no event arrived before the deadline")}
	}
	if got.err != nil {
		return nil, badInput{fmt.Errorf("reading the event on stdin: %w", got.err)}
	}
	if len(got.b) > maxEvent {
		return nil, badInput{fmt.Errorf("event on stdin exceeds %d bytes", maxEvent)}
	}
	if len(bytes.TrimSpace(got.b)) == 0 {
		return nil, nil
	}
	ev := &Event{}
	if err := json.Unmarshal(got.b, ev); err != nil {
		return nil, badInput{fmt.Errorf("stdin is not a Sensu event: %v", err)}
	}
	return ev, nil
}

// applyAnnotations lets check and entity annotations override options, with
// the SDK's keys and precedence: the key in lower case, then as written; for
// each, the check's annotation, then the entity's.
func applyAnnotations(name string, opts []ConfigOption, ev *Event) error {
	for _, o := range opts {
		key, value := annotationFor(Keyspace(name), o.spec().path, ev)
		if value == "" {
			continue
		}
		if err := o.SetValue(value); err != nil {
			return badInput{fmt.Errorf("invalid value in annotation %s", key)}
		}
	}
	return nil
}

func annotationFor(keyspace, p string, ev *Event) (key, value string) {
	if p == "" {
		return "", ""
	}
	exact := path.Join(keyspace, p)
	for _, key := range []string{strings.ToLower(exact), exact} {
		if v := ev.Check.annotation(key); v != "" {
			return key, v
		}
		if v := ev.Entity.annotation(key); v != "" {
			return key, v
		}
	}
	return "", ""
}
