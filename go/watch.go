package shmd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
)

// errWatchEnded reports a watch's connection that closed.
var errWatchEnded = errors.New("shmd: the watch ended")

// Watch follows the daemon's events on a connection of its own: first
// "ready", then one per created, destroyed, reaped and vanished segment
// the caller could List. The channel is closed when ctx ends, the Client
// is closed or the daemon goes away.
func (c *Client) Watch(ctx context.Context) (<-chan Event, error) {
	if ctx.Err() != nil {
		return nil, contextError(ctx)
	}
	nc, err := dialSocket(ctx, c.socket)
	if err != nil {
		return nil, err
	}
	if !c.track(nc) {
		nc.Close()
		return nil, errClientClosed
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
		}
		c.release(nc) // ends the reads below
	}()
	r := bufio.NewReader(nc)
	first, err := startWatch(nc, r)
	if err != nil {
		close(done)
		switch {
		case ctx.Err() != nil:
			return nil, contextError(ctx)
		case c.isClosed():
			return nil, errClientClosed
		}
		return nil, err
	}
	ch := make(chan Event, 64)
	ch <- first
	go func() {
		defer close(done)
		defer close(ch)
		for {
			ev, err := readEvent(r)
			if err != nil {
				return
			}
			select {
			case ch <- ev:
			case <-ctx.Done():
				return
			case <-c.done:
				return
			}
		}
	}()
	return ch, nil
}

// startWatch sends the Watch call on nc and reads its first event.
func startWatch(nc net.Conn, r *bufio.Reader) (Event, error) {
	msg, err := json.Marshal(map[string]any{"method": "io.shmd.Watch",
		"more": true})
	if err != nil {
		return Event{}, err
	}
	if _, err := nc.Write(append(msg, 0)); err != nil {
		return Event{}, fmt.Errorf("shmd: %s: %w", nc.RemoteAddr(), err)
	}
	return readEvent(r)
}

// readEvent reads one of Watch's replies.
func readEvent(r *bufio.Reader) (Event, error) {
	msg, err := r.ReadBytes(0)
	if err != nil {
		return Event{}, errWatchEnded
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
