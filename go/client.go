package shmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// DefaultSocket is where the daemon listens unless $SHMD_SOCKET says
// otherwise.
const DefaultSocket = "/run/shmd/shmd.sock"

// maxWait is the longest wait the daemon takes in one Open.
const maxWait = 3600 * time.Second

// Client is a connection to the daemon, safe for concurrent use by many
// goroutines: their calls are pipelined on one connection and each gets
// its own reply. OpenWait and Watch use connections of their own, so a
// wait holds up no other call. Once the daemon closes the connection (it
// stopped or restarted), every call fails: Dial again.
type Client struct {
	socket string
	ns     uint64 // our IPC namespace, sent with Create and Open
	main   *pipe  // the connection the calls share

	mu     sync.Mutex // guards closed and extra
	closed bool
	extra  map[io.Closer]struct{} // the waits' and watches' connections
	done   chan struct{}          // closed by Close
}

// Dial connects to the daemon's socket: "" means $SHMD_SOCKET, else
// DefaultSocket.
func Dial(socket string) (*Client, error) {
	return DialContext(context.Background(), socket)
}

// DialContext is Dial that gives up when ctx ends.
func DialContext(ctx context.Context, socket string) (*Client, error) {
	if socket == "" {
		socket = os.Getenv("SHMD_SOCKET")
	}
	if socket == "" {
		socket = DefaultSocket
	}
	nc, err := dialSocket(ctx, socket)
	if err != nil {
		return nil, err
	}
	return &Client{socket: socket, ns: ipcNamespace(),
		main: newPipe(nc, socket), extra: map[io.Closer]struct{}{},
		done: make(chan struct{})}, nil
}

// dialSocket connects to socket; when ctx ended, the error wraps ctx.Err()
// (package net's own error for it does not).
func dialSocket(ctx context.Context, socket string) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		if ctx.Err() != nil {
			return nil, contextError(ctx)
		}
		return nil, fmt.Errorf("shmd: cannot connect to %s: %w", socket, err)
	}
	return nc, nil
}

// ipcNamespace is the inode of /proc/self/ns/ipc, or 0 when unknown.
func ipcNamespace() uint64 {
	fi, err := os.Stat("/proc/self/ns/ipc")
	if err != nil {
		return 0
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}

// Close closes the client's connections: calls under way, and any made
// later, return an error for which errors.Is(err, net.ErrClosed) holds,
// and Watch channels close.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.done)
	extra := c.extra
	c.extra = nil
	c.mu.Unlock()
	for x := range extra {
		x.Close()
	}
	return c.main.Close()
}

// track adds x, a connection of the client's own (a wait's, a watch's),
// to what Close closes; false once closed.
func (c *Client) track(x io.Closer) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.extra[x] = struct{}{}
	return true
}

// release closes x, which track added, when its call is done.
func (c *Client) release(x io.Closer) {
	c.mu.Lock()
	delete(c.extra, x)
	c.mu.Unlock()
	x.Close()
}

// isClosed says whether Close was called.
func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// call sends one call on p and decodes its reply's parameters into out.
func (c *Client) call(ctx context.Context, p *pipe, method string,
	params map[string]any, out any) error {
	if ctx.Err() != nil {
		return contextError(ctx)
	}
	msg, err := json.Marshal(map[string]any{
		"method": method, "parameters": params})
	if err != nil {
		return fmt.Errorf("shmd: %s: %w", method, err)
	}
	rep, err := p.roundTrip(ctx, append(msg, 0))
	if err != nil {
		return err
	}
	return decodeReply(&rep, out)
}

// decodeReply is rep's error, or its parameters read into out.
func decodeReply(rep *reply, out any) error {
	if rep.Error != "" {
		return daemonError(rep.Error, rep.Parameters)
	}
	if out == nil || len(rep.Parameters) == 0 {
		return nil
	}
	if err := json.Unmarshal(rep.Parameters, out); err != nil {
		return fmt.Errorf("shmd: unreadable reply: %w", err)
	}
	return nil
}

// wireSegment is the protocol's Segment.
type wireSegment struct {
	Name        string `json:"name"`
	Shmid       int    `json:"shmid"`
	Key         int32  `json:"key"`
	Size        int64  `json:"size"`
	Mode        uint32 `json:"mode"`
	UID         uint32 `json:"uid"`
	GID         uint32 `json:"gid"`
	Lifetime    string `json:"lifetime"`
	Nattch      uint64 `json:"nattch"`
	CreatorUID  uint32 `json:"creator_uid"`
	CreatorPID  int    `json:"creator_pid"`
	CreatedUsec int64  `json:"created_usec"`
	PageSize    int64  `json:"page_size"`
	Locked      bool   `json:"locked"`
	NUMANode    *int   `json:"numa_node"`
	Declared    bool   `json:"declared"`
}

func (w *wireSegment) segment() Segment {
	return Segment{
		Name: w.Name, Shmid: w.Shmid, Key: w.Key, Size: w.Size,
		Mode: w.Mode, UID: w.UID, GID: w.GID,
		Lifetime: Lifetime(w.Lifetime), Nattch: w.Nattch,
		CreatorUID: w.CreatorUID, CreatorPID: w.CreatorPID,
		CreatedAt: time.UnixMicro(w.CreatedUsec),
		PageSize:  w.PageSize, Locked: w.Locked, NUMANode: w.NUMANode,
		Declared: w.Declared,
	}
}

func (c *Client) withNamespace(p map[string]any) map[string]any {
	if c.ns != 0 {
		p["ipc_namespace"] = c.ns
	}
	return p
}

// seconds rounds d up to whole seconds: a wait or timeout is never shorter.
func seconds(d time.Duration) int64 {
	return int64(math.Ceil(d.Seconds()))
}

// Create makes a segment of size bytes; opts may be nil.
func (c *Client) Create(ctx context.Context, name string, size int64,
	opts *CreateOptions) (*Segment, error) {
	p := c.withNamespace(map[string]any{"name": name, "size": size})
	if opts != nil {
		if opts.Mode != 0 {
			p["mode"] = opts.Mode
		}
		if opts.Lifetime != "" {
			p["lifetime"] = string(opts.Lifetime)
		}
		if opts.Key != nil {
			p["key"] = *opts.Key
		}
		if opts.UID != nil {
			p["uid"] = *opts.UID
		}
		if opts.GID != nil {
			p["gid"] = *opts.GID
		}
		if opts.AttachTimeout != 0 {
			p["attach_timeout"] = seconds(opts.AttachTimeout)
		}
		if opts.ExistOK {
			p["exist_ok"] = true
		}
		if opts.HugePages {
			p["huge_pages"] = true
		}
		if opts.PageSize != 0 {
			p["page_size"] = opts.PageSize
		}
		if opts.Locked {
			p["locked"] = true
		}
		if opts.NUMANode != nil {
			p["numa_node"] = *opts.NUMANode
		}
	}
	var out struct {
		Segment wireSegment `json:"segment"`
		Created *bool       `json:"created"`
	}
	if err := c.call(ctx, c.main, "io.shmd.Create", p, &out); err != nil {
		return nil, err
	}
	s := out.Segment.segment()
	s.Created = out.Created == nil || *out.Created
	return &s, nil
}

// Open looks a segment up by name.
func (c *Client) Open(ctx context.Context, name string) (*Segment, error) {
	return c.open(ctx, c.main, name, 0)
}

// OpenWait is Open that waits for the name to be created until ctx ends,
// on a connection of its own: the Client's other calls go on meanwhile.
// When ctx's deadline passes first, the error matches both
// ErrNoSuchSegment and context.DeadlineExceeded; a ctx without a deadline
// waits until it is cancelled.
func (c *Client) OpenWait(ctx context.Context, name string) (*Segment, error) {
	for {
		wait, bounded := maxWait, false
		if d, ok := ctx.Deadline(); ok {
			if left := time.Until(d); left <= maxWait {
				wait, bounded = left, true
			}
		}
		if wait <= 0 {
			return nil, c.expired(ctx, name)
		}
		s, err := c.openOwn(ctx, name, seconds(wait))
		switch {
		case err == nil:
			return s, nil
		case ctx.Err() != nil:
			return nil, waitExpired(ctx, name)
		case !isError(err, nameNoSuchSegment):
			return nil, err
		case !bounded:
			continue // an hour is the daemon's most: wait again
		}
		// The daemon's wait, rounded up, ran out: the deadline is now,
		// give or take its timer's slack.
		return nil, c.expired(ctx, name)
	}
}

// expired is OpenWait's answer once ctx's deadline has passed, as ctx
// says very soon.
func (c *Client) expired(ctx context.Context, name string) error {
	select {
	case <-ctx.Done():
		return waitExpired(ctx, name)
	case <-c.done:
		return errClientClosed
	}
}

// openOwn is one Open with wait on a connection of its own.
func (c *Client) openOwn(ctx context.Context, name string, wait int64) (*Segment, error) {
	nc, err := dialSocket(ctx, c.socket)
	if err != nil {
		return nil, err
	}
	p := newPipe(nc, c.socket)
	if !c.track(p) {
		p.Close()
		return nil, errClientClosed
	}
	defer c.release(p) // a wait abandoned ends with its connection
	return c.open(ctx, p, name, wait)
}

func (c *Client) open(ctx context.Context, p *pipe, name string, wait int64) (*Segment, error) {
	params := c.withNamespace(map[string]any{"name": name})
	if wait > 0 {
		params["wait"] = wait
	}
	var out struct {
		Segment wireSegment `json:"segment"`
	}
	if err := c.call(ctx, p, "io.shmd.Open", params, &out); err != nil {
		return nil, err
	}
	s := out.Segment.segment()
	return &s, nil
}

// isError says whether err is the daemon's error of that name.
func isError(err error, name string) bool {
	e, ok := err.(*Error)
	return ok && e.Name == name
}

// Destroy removes a segment now (its owner, its creator, or root).
func (c *Client) Destroy(ctx context.Context, name string) error {
	return c.call(ctx, c.main, "io.shmd.Destroy",
		map[string]any{"name": name}, nil)
}

// List returns the segments the caller may open (root: all).
func (c *Client) List(ctx context.Context) ([]Segment, error) {
	var out struct {
		Segments []wireSegment `json:"segments"`
	}
	if err := c.call(ctx, c.main, "io.shmd.List", map[string]any{}, &out); err != nil {
		return nil, err
	}
	segs := make([]Segment, len(out.Segments))
	for i := range out.Segments {
		segs[i] = out.Segments[i].segment()
	}
	return segs, nil
}

// Call makes any call of the protocol on the client's connection: method
// fully qualified ("io.shmd.Status"), params its parameters (nil: none),
// and the reply's parameters decoded into out (nil: dropped), as
// encoding/json would. A method this package does not wrap yet is reached
// so; a daemon error is an *Error, as from the wrapped calls.
func (c *Client) Call(ctx context.Context, method string, params map[string]any,
	out any) error {
	if params == nil {
		params = map[string]any{}
	}
	return c.call(ctx, c.main, method, params, out)
}

// Status returns the daemon's state and limits.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var out struct {
		Version      string           `json:"version"`
		PID          int              `json:"pid"`
		UptimeUsec   int64            `json:"uptime_usec"`
		IPCNamespace uint64           `json:"ipc_namespace"`
		Clients      int64            `json:"clients"`
		Segments     int64            `json:"segments"`
		Bytes        int64            `json:"bytes"`
		Requests     int64            `json:"requests"`
		Created      int64            `json:"created"`
		Reaped       int64            `json:"reaped"`
		Vanished     int64            `json:"vanished"`
		Waiters      int64            `json:"waiters"`
		Drift        int64            `json:"declared_drift"`
		UID          uint32           `json:"uid"`
		Limits       map[string]int64 `json:"limits"`
		Usage        []struct {
			UID      uint32 `json:"uid"`
			Segments int64  `json:"segments"`
			Bytes    int64  `json:"bytes"`
		} `json:"usage"`
	}
	if err := c.call(ctx, c.main, "io.shmd.Status", map[string]any{}, &out); err != nil {
		return nil, err
	}
	st := &Status{
		Version: out.Version, PID: out.PID,
		Uptime:       time.Duration(out.UptimeUsec) * time.Microsecond,
		IPCNamespace: out.IPCNamespace, Clients: out.Clients,
		Segments: out.Segments, Bytes: out.Bytes, Requests: out.Requests,
		Created: out.Created, Reaped: out.Reaped, Vanished: out.Vanished,
		Waiters: out.Waiters, DeclaredDrift: out.Drift,
		UID:    out.UID,
		Limits: out.Limits,
	}
	for _, u := range out.Usage {
		st.Usage = append(st.Usage, Usage{UID: u.UID, Segments: u.Segments,
			Bytes: u.Bytes})
	}
	return st, nil
}
