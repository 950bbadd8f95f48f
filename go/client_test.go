package shmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// Many goroutines share one Client: each call gets its own reply.
func TestConcurrentUse(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			errs <- createOpenDestroy(ctx, c, g, 30)
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// createOpenDestroy makes n segments one after another, checking that
// every reply is the one to its own call.
func createOpenDestroy(ctx context.Context, c *Client, g, n int) error {
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("go.cc.%d.%d", g, i)
		s, err := c.Create(ctx, name, int64(64+g), &CreateOptions{Key: keyp(0)})
		if err != nil {
			return err
		}
		if s.Name != name || s.Size != int64(64+g) {
			return fmt.Errorf("%s: created %+v", name, s)
		}
		o, err := c.Open(ctx, name)
		if err != nil {
			return err
		}
		if o.Name != name || o.Shmid != s.Shmid {
			return fmt.Errorf("%s: shmid %d, opened %+v", name, s.Shmid, o)
		}
		if _, err := c.Status(ctx); err != nil {
			return err
		}
		if err := c.Destroy(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

// A Client's other calls are answered while an OpenWait waits.
func TestOpenWaitHoldsUpNoCall(t *testing.T) {
	c := dial(t)
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	waited := make(chan error, 1)
	go func() {
		_, err := c.OpenWait(ctx, "go.awaited")
		waited <- err
	}()
	eventually(t, "OpenWait waits", func() bool { return waiters(c) >= 1 })
	if err := createOpenDestroy(testContext(t), c, 0, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := c.List(testContext(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waited:
		t.Fatalf("OpenWait ended: %v", err)
	default:
	}
	cancel()
	if err := <-waited; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
}

// Cancelling an OpenWait ends it at once (within 5 s on a loaded machine:
// the daemon's wait has no end) with ctx's error, ends the daemon's wait,
// and leaves the Client usable.
func TestCancelOpenWait(t *testing.T) {
	c := dial(t)
	ctx, cancel := context.WithCancel(bg)
	waited := make(chan error, 1)
	go func() {
		_, err := c.OpenWait(ctx, "go.cancelled")
		waited <- err
	}()
	eventually(t, "OpenWait waits", func() bool { return waiters(c) >= 1 })
	cancel()
	start := time.Now()
	err := <-waited
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the cancelled OpenWait returned after %v", took)
	}
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrNoSuchSegment) {
		t.Fatalf("cancelled wait: %v", err)
	}
	eventually(t, "the daemon's wait ends", func() bool { return waiters(c) == 0 })
	// usable: a call, and a wait that ends well
	ctx2 := testContext(t)
	go func() {
		for waiters(c) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		c.Create(ctx2, "go.cancelled", 64, &CreateOptions{Lifetime: Persistent})
	}()
	s, err := c.OpenWait(ctx2, "go.cancelled")
	if err != nil || s.Name != "go.cancelled" {
		t.Fatal(s, err)
	}
	if err := c.Destroy(ctx2, "go.cancelled"); err != nil {
		t.Fatal(err)
	}
}

// A call given up on keeps its place: its late reply goes to nobody, and
// the next call gets its own.
func TestCancelledCallKeepsOrder(t *testing.T) {
	got := make(chan string, 4)
	var held []byte
	sock := fakeDaemon(t, func(call map[string]any) []byte {
		name := call["parameters"].(map[string]any)["name"].(string)
		got <- name
		msg, _ := json.Marshal(map[string]any{"parameters": map[string]any{
			"segment": map[string]any{"name": name}}})
		if name == "first" { // answered only with the next one
			held = msg
			return nil
		}
		return append(append(held, 0), msg...)
	})
	c, err := Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(bg)
	done := make(chan error, 1)
	go func() {
		_, err := c.Open(ctx, "first")
		done <- err
	}()
	<-got
	cancel()
	start := time.Now()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the cancelled Open returned after %v", took)
	}
	s, err := c.Open(testContext(t), "second")
	if err != nil || s.Name != "second" {
		t.Fatalf("the call after: %+v %v", s, err)
	}
}

// Close during a call, a wait or a watch ends each with net.ErrClosed,
// as it does the calls made after it.
func TestCloseDuringCall(t *testing.T) {
	got := make(chan struct{}, 1)
	sock := fakeDaemon(t, func(call map[string]any) []byte {
		got <- struct{}{}
		return nil // never answers
	})
	c, err := Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Status(bg)
		done <- err
	}()
	<-got
	c.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("the call under way: %v", err)
	}
	if _, err := c.List(bg); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("a call after Close: %v", err)
	}
	if _, err := c.OpenWait(bg, "x"); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("a wait after Close: %v", err)
	}
	if _, err := c.Watch(bg); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("a watch after Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close again: %v", err)
	}
}

func TestCloseDuringWaitAndWatch(t *testing.T) {
	c := dial(t)
	other := dial(t)
	events, err := c.Watch(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() {
		_, err := c.OpenWait(bg, "go.closed")
		waited <- err
	}()
	eventually(t, "OpenWait waits", func() bool { return waiters(other) >= 1 })
	c.Close()
	if err := <-waited; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("the wait under way: %v", err)
	}
	for range events { // closed by Close
	}
	eventually(t, "the daemon's wait ends", func() bool { return waiters(other) == 0 })
}

// The daemon's integer error parameters are int64, exactly (a float64
// would round 2^53+1); other numbers float64, nested ones too.
func TestErrorParametersAreInt64(t *testing.T) {
	sock := fakeDaemon(t, func(call map[string]any) []byte {
		return []byte(`{"error":"io.shmd.QuotaExceeded","parameters":` +
			`{"limit":"bytes","max":9007199254740993,"errno":-1,` +
			`"ratio":0.5,"usage":{"uid":1000,"list":[1,2.5]}}}`)
	})
	c, err := Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Create(bg, "x", 1, nil)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	p := e.Parameters
	usage, _ := p["usage"].(map[string]any)
	list, _ := usage["list"].([]any)
	if p["max"] != int64(9007199254740993) || p["errno"] != int64(-1) ||
		p["ratio"] != 0.5 || p["limit"] != "bytes" ||
		usage["uid"] != int64(1000) || len(list) != 2 ||
		list[0] != int64(1) || list[1] != 2.5 {
		t.Fatalf("%#v", p)
	}
}

func TestDialContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(bg)
	cancel()
	sock := fakeDaemon(t, func(map[string]any) []byte { return nil })
	if _, err := DialContext(ctx, sock); !errors.Is(err, context.Canceled) {
		t.Fatalf("%v", err)
	}
}

// A call whose ctx has ended is not sent.
func TestCallWithEndedContext(t *testing.T) {
	sent := make(chan struct{}, 1)
	sock := fakeDaemon(t, func(map[string]any) []byte {
		sent <- struct{}{}
		return []byte(`{"parameters":{}}`)
	})
	c, err := Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := c.Destroy(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("%v", err)
	}
	if err := c.Destroy(testContext(t), "y"); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 1 {
		t.Fatalf("%d calls sent", len(sent))
	}
}

// Call reaches any method, a wrapped one or not, and its errors are *Error.
func TestCall(t *testing.T) {
	c := dial(t)
	ctx := testContext(t)
	var st struct {
		Version string `json:"version"`
		PID     int    `json:"pid"`
	}
	if err := c.Call(ctx, "io.shmd.Status", nil, &st); err != nil {
		t.Fatal(err)
	}
	if st.Version == "" || st.PID <= 0 {
		t.Fatalf("Status through Call: %+v", st)
	}
	// Status's counters: a Create counts; no declarations, no drift
	before, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, "go.call.count", 64, nil); err != nil {
		t.Fatal(err)
	}
	defer c.Destroy(ctx, "go.call.count")
	after, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Created < before.Created+1 || after.DeclaredDrift != 0 {
		t.Fatalf("Status: created %d then %d, drift %d", before.Created,
			after.Created, after.DeclaredDrift)
	}
	var desc struct {
		Description string `json:"description"`
	}
	err = c.Call(ctx, "org.varlink.service.GetInterfaceDescription",
		map[string]any{"interface": "io.shmd"}, &desc)
	if err != nil || len(desc.Description) == 0 {
		t.Fatalf("GetInterfaceDescription: %v %q", err, desc.Description)
	}
	err = c.Call(ctx, "io.shmd.NoSuchMethod", nil, nil)
	var e *Error
	if !errors.As(err, &e) || e.Name != "org.varlink.service.MethodNotFound" {
		t.Fatalf("an unknown method: %v", err)
	}
}
