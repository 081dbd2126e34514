package plugin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	corev2 "github.com/sensu/core/v2"
	"github.com/sensu/sensu-plugin-sdk/sensu"
)

// maxEvent caps what is read from stdin; a Sensu event is a few kilobytes.
const maxEvent = 4 << 20

// readEvent reads the event the agent writes to stdin for `stdin: true`.
// Empty input means no event (a pipe from a shell with nothing in it). A
// pipe that never closes is given up on at the deadline.
func readEvent(r io.Reader, wait time.Duration) (*corev2.Event, error) {
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
	ev := &corev2.Event{}
	if err := json.Unmarshal(got.b, ev); err != nil {
		return nil, badInput{fmt.Errorf("stdin is not a Sensu event: %v", err)}
	}
	return ev, nil
}

// applyAnnotations lets check and entity annotations override options, with
// the SDK's keys and precedence (check annotation, then entity annotation).
func applyAnnotations(name string, opts []sensu.ConfigOption, ev *corev2.Event) error {
	for _, o := range opts {
		res, err := o.SetAnnotationValue(Keyspace(name), ev)
		if err != nil {
			return badInput{fmt.Errorf("invalid value in annotation %s", res.AnnotationKey)}
		}
	}
	return nil
}
