package shmd

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
)

// pipe is one connection to the daemon with calls pipelined on it: a
// writer goroutine sends them one after another and a reader hands each
// reply to the oldest call sent, as replies come in the order of the
// calls. A caller that gives up leaves its call in the queue, so its
// reply, when it comes, is dropped and every later reply still reaches its
// own caller.
type pipe struct {
	nc     net.Conn
	socket string
	send   chan *request

	mu      sync.Mutex // guards pending and err
	pending []*request
	err     error
	broken  chan struct{} // closed once err is set
}

// request is one call and where its reply goes.
type request struct {
	msg   []byte     // the call, its NUL included
	reply chan reply // buffered: the reader never waits for a caller
}

// reply is one message from the daemon.
type reply struct {
	Parameters json.RawMessage `json:"parameters"`
	Error      string          `json:"error"`
	Continues  bool            `json:"continues"`
}

// newPipe starts the writer and reader of nc.
func newPipe(nc net.Conn, socket string) *pipe {
	p := &pipe{nc: nc, socket: socket, send: make(chan *request),
		broken: make(chan struct{})}
	go p.writeLoop()
	go p.readLoop()
	return p
}

// writeLoop sends the calls in the order it takes them: queued first, so
// the reader finds a call for every reply.
func (p *pipe) writeLoop() {
	for {
		select {
		case <-p.broken:
			return
		case req := <-p.send:
			p.mu.Lock()
			p.pending = append(p.pending, req)
			p.mu.Unlock()
			if _, err := p.nc.Write(req.msg); err != nil {
				p.fail(fmt.Errorf("shmd: %s: %w", p.socket, err))
				return
			}
		}
	}
}

// readLoop hands every reply to the oldest call waiting for one.
func (p *pipe) readLoop() {
	r := bufio.NewReader(p.nc)
	for {
		msg, err := r.ReadBytes(0)
		if err != nil {
			p.fail(fmt.Errorf("shmd: %s closed the connection: %w",
				p.socket, err))
			return
		}
		var rep reply
		if err := json.Unmarshal(msg[:len(msg)-1], &rep); err != nil {
			p.fail(fmt.Errorf("shmd: unreadable reply from %s: %w",
				p.socket, err))
			return
		}
		p.mu.Lock()
		if len(p.pending) == 0 {
			p.mu.Unlock()
			// Unasked, an error refuses the connection (too many
			// clients): the calls to come fail with it.
			if rep.Error != "" {
				p.fail(daemonError(rep.Error, rep.Parameters))
				return
			}
			continue
		}
		req := p.pending[0]
		p.pending = p.pending[1:]
		p.mu.Unlock()
		req.reply <- rep
	}
}

// fail breaks the pipe with err, the first reason only, and closes it.
func (p *pipe) fail(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
		close(p.broken)
	}
	p.mu.Unlock()
	p.nc.Close()
}

// failure is why the pipe broke.
func (p *pipe) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Close ends the pipe's calls under way with errClientClosed.
func (p *pipe) Close() error {
	p.fail(errClientClosed)
	return nil
}

// roundTrip sends msg and waits for its reply, for the pipe to break or
// for ctx to end, whichever comes first.
func (p *pipe) roundTrip(ctx context.Context, msg []byte) (reply, error) {
	req := &request{msg: msg, reply: make(chan reply, 1)}
	select {
	case p.send <- req:
	case <-ctx.Done():
		return reply{}, contextError(ctx)
	case <-p.broken:
		return reply{}, p.failure()
	}
	select {
	case rep := <-req.reply:
		return rep, nil
	case <-ctx.Done():
		return reply{}, contextError(ctx)
	case <-p.broken:
		select { // it may have come just before
		case rep := <-req.reply:
			return rep, nil
		default:
			return reply{}, p.failure()
		}
	}
}
