package shmd

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
)

// Watch follows the daemon's events on a connection of its own: first
// "ready", then one per created, destroyed, reaped and vanished segment
// the caller could List. The channel is closed when ctx ends (or the
// daemon goes away).
func (c *Client) Watch(ctx context.Context) (<-chan Event, error) {
	conn, err := net.Dial("unix", c.socket)
	if err != nil {
		return nil, fmt.Errorf("shmd: cannot connect to %s: %w", c.socket, err)
	}
	msg, _ := json.Marshal(map[string]any{"method": "io.shmd.Watch",
		"more": true})
	if _, err := conn.Write(append(msg, 0)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("shmd: %s: %w", c.socket, err)
	}
	r := bufio.NewReader(conn)
	first, err := readEvent(r)
	if err != nil {
		conn.Close()
		return nil, err
	}
	ch := make(chan Event, 64)
	ch <- first
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
		}
		conn.Close() // ends the reader below
	}()
	go func() {
		defer close(ch)
		defer close(done)
		for {
			ev, err := readEvent(r)
			if err != nil {
				return
			}
			select {
			case ch <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

func readEvent(r *bufio.Reader) (Event, error) {
	msg, err := r.ReadBytes(0)
	if err != nil {
		return Event{}, errClosed
	}
	var rep reply
	if err := json.Unmarshal(msg[:len(msg)-1], &rep); err != nil {
		return Event{}, fmt.Errorf("shmd: unreadable event: %w", err)
	}
	var out struct {
		Event   string       `json:"event"`
		Segment *wireSegment `json:"segment"`
	}
	if err := decodeReply(&rep, &out); err != nil {
		return Event{}, err
	}
	ev := Event{Event: out.Event}
	if out.Segment != nil {
		s := out.Segment.segment()
		ev.Segment = &s
	}
	return ev, nil
}
