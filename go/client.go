package shmd

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
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

// maxWait is the longest OpenWait the daemon accepts.
const maxWait = 3600 * time.Second

// Client is a connection to the daemon, safe for concurrent use.
type Client struct {
	socket string
	conn   net.Conn
	ns     uint64 // our IPC namespace, sent with Create and Open

	mu      sync.Mutex // guards writes, pending and err
	pending []chan reply
	err     error // set once the connection is broken
}

type reply struct {
	Parameters json.RawMessage `json:"parameters"`
	Error      string          `json:"error"`
	Continues  bool            `json:"continues"`
	err        error
}

// Dial connects to the daemon's socket: "" means $SHMD_SOCKET, else
// DefaultSocket.
func Dial(socket string) (*Client, error) {
	if socket == "" {
		socket = os.Getenv("SHMD_SOCKET")
	}
	if socket == "" {
		socket = DefaultSocket
	}
	conn, err := net.Dial("unix", socket)
	if err != nil {
		return nil, fmt.Errorf("shmd: cannot connect to %s: %w", socket, err)
	}
	c := &Client{socket: socket, conn: conn, ns: ipcNamespace()}
	go c.readLoop()
	return c, nil
}

// ipcNamespace is the inode of /proc/self/ns/ipc, or 0 when unknown.
func ipcNamespace() uint64 {
	fi, err := os.Stat("/proc/self/ns/ipc")
	if err != nil {
		return 0
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}

// Close closes the connection; calls under way fail.
func (c *Client) Close() error {
	return c.conn.Close()
}

// readLoop hands every reply to the oldest call waiting for one: replies
// come in the order of the calls.
func (c *Client) readLoop() {
	r := bufio.NewReader(c.conn)
	for {
		msg, err := r.ReadBytes(0)
		var rep reply
		if err == nil {
			if jerr := json.Unmarshal(msg[:len(msg)-1], &rep); jerr != nil {
				err = fmt.Errorf("shmd: unreadable reply: %w", jerr)
			}
		} else {
			err = fmt.Errorf("shmd: %s closed the connection: %w",
				c.socket, err)
		}
		c.mu.Lock()
		if err != nil {
			c.err = err
			for _, ch := range c.pending {
				ch <- reply{err: err}
			}
			c.pending = nil
			c.mu.Unlock()
			return
		}
		if len(c.pending) == 0 {
			c.mu.Unlock()
			continue // nothing asked for it: ignore
		}
		ch := c.pending[0]
		c.pending = c.pending[1:]
		c.mu.Unlock()
		ch <- rep
	}
}

// call sends one call and waits for its reply's parameters.
func (c *Client) call(method string, params map[string]any, out any) error {
	msg, err := json.Marshal(map[string]any{
		"method": method, "parameters": params})
	if err != nil {
		return err
	}
	ch := make(chan reply, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return c.err
	}
	// The write and the queueing together: replies match calls in order.
	if _, err := c.conn.Write(append(msg, 0)); err != nil {
		c.mu.Unlock()
		return fmt.Errorf("shmd: %s: %w", c.socket, err)
	}
	c.pending = append(c.pending, ch)
	c.mu.Unlock()
	rep := <-ch
	if rep.err != nil {
		return rep.err
	}
	return decodeReply(&rep, out)
}

func decodeReply(rep *reply, out any) error {
	if rep.Error != "" {
		e := &Error{Name: rep.Error, Parameters: map[string]any{}}
		if len(rep.Parameters) > 0 {
			_ = json.Unmarshal(rep.Parameters, &e.Parameters)
		}
		return e
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
}

func (w *wireSegment) segment() Segment {
	return Segment{
		Name: w.Name, Shmid: w.Shmid, Key: w.Key, Size: w.Size,
		Mode: w.Mode, UID: w.UID, GID: w.GID,
		Lifetime: Lifetime(w.Lifetime), Nattch: w.Nattch,
		CreatorUID: w.CreatorUID, CreatorPID: w.CreatorPID,
		CreatedAt: time.UnixMicro(w.CreatedUsec),
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
func (c *Client) Create(name string, size int64, opts *CreateOptions) (*Segment, error) {
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
	}
	var out struct {
		Segment wireSegment `json:"segment"`
		Created *bool       `json:"created"`
	}
	if err := c.call("io.shmd.Create", p, &out); err != nil {
		return nil, err
	}
	s := out.Segment.segment()
	s.Created = out.Created == nil || *out.Created
	return &s, nil
}

// Open looks a segment up by name.
func (c *Client) Open(name string) (*Segment, error) {
	return c.open(name, 0)
}

// OpenWait is Open that waits up to timeout (at most an hour, rounded up
// to whole seconds) for the name to be created: ErrNoSuchSegment when the
// time runs out. Calls made meanwhile on the same Client wait behind it.
func (c *Client) OpenWait(name string, timeout time.Duration) (*Segment, error) {
	if timeout < 0 || timeout > maxWait {
		return nil, &Error{Name: "org.varlink.service.InvalidParameter",
			Parameters: map[string]any{"parameter": "wait"}}
	}
	return c.open(name, seconds(timeout))
}

func (c *Client) open(name string, wait int64) (*Segment, error) {
	p := c.withNamespace(map[string]any{"name": name})
	if wait > 0 {
		p["wait"] = wait
	}
	var out struct {
		Segment wireSegment `json:"segment"`
	}
	if err := c.call("io.shmd.Open", p, &out); err != nil {
		return nil, err
	}
	s := out.Segment.segment()
	return &s, nil
}

// Destroy removes a segment now (its owner, its creator, or root).
func (c *Client) Destroy(name string) error {
	return c.call("io.shmd.Destroy", map[string]any{"name": name}, nil)
}

// List returns the segments the caller may open (root: all).
func (c *Client) List() ([]Segment, error) {
	var out struct {
		Segments []wireSegment `json:"segments"`
	}
	if err := c.call("io.shmd.List", map[string]any{}, &out); err != nil {
		return nil, err
	}
	segs := make([]Segment, len(out.Segments))
	for i := range out.Segments {
		segs[i] = out.Segments[i].segment()
	}
	return segs, nil
}

// Status returns the daemon's state and limits.
func (c *Client) Status() (*Status, error) {
	var out struct {
		Version      string           `json:"version"`
		PID          int              `json:"pid"`
		UptimeUsec   int64            `json:"uptime_usec"`
		IPCNamespace uint64           `json:"ipc_namespace"`
		Clients      int64            `json:"clients"`
		Segments     int64            `json:"segments"`
		Bytes        int64            `json:"bytes"`
		Requests     int64            `json:"requests"`
		Reaped       int64            `json:"reaped"`
		Vanished     int64            `json:"vanished"`
		Waiters      int64            `json:"waiters"`
		UID          uint32           `json:"uid"`
		Limits       map[string]int64 `json:"limits"`
		Usage        []struct {
			UID      uint32 `json:"uid"`
			Segments int64  `json:"segments"`
			Bytes    int64  `json:"bytes"`
		} `json:"usage"`
	}
	if err := c.call("io.shmd.Status", map[string]any{}, &out); err != nil {
		return nil, err
	}
	st := &Status{
		Version: out.Version, PID: out.PID,
		Uptime:       time.Duration(out.UptimeUsec) * time.Microsecond,
		IPCNamespace: out.IPCNamespace, Clients: out.Clients,
		Segments: out.Segments, Bytes: out.Bytes, Requests: out.Requests,
		Reaped: out.Reaped, Vanished: out.Vanished, Waiters: out.Waiters,
		UID: out.UID,
		Limits: out.Limits,
	}
	for _, u := range out.Usage {
		st.Usage = append(st.Usage, Usage{UID: u.UID, Segments: u.Segments,
			Bytes: u.Bytes})
	}
	return st, nil
}

// errClosed reports a watch that ended.
var errClosed = errors.New("shmd: the watch ended")
