package shmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCreateOpenListDestroy(t *testing.T) {
	c := dial(t)
	s, err := c.Create(bg, "go.a", 4096, &CreateOptions{Mode: 0640,
		Lifetime: Persistent, Key: keyp(0)})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "go.a" || s.Size != 4096 || s.Mode != 0640 ||
		s.Lifetime != Persistent || s.Key != 0 || !s.Created ||
		s.CreatorPID != os.Getpid() || s.UID != uint32(os.Geteuid()) ||
		time.Since(s.CreatedAt) > time.Minute {
		t.Fatalf("unexpected %+v", s)
	}
	o, err := c.Open(bg, "go.a")
	if err != nil || o.Shmid != s.Shmid || o.Created {
		t.Fatalf("open: %+v %v", o, err)
	}
	// open-or-create
	e, err := c.Create(bg, "go.a", 4096, &CreateOptions{ExistOK: true})
	if err != nil || e.Created || e.Shmid != s.Shmid || e.Mode != 0640 {
		t.Fatalf("exist ok: %+v %v", e, err)
	}
	segs, err := c.List(bg)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, x := range segs {
		found = found || x.Name == "go.a"
	}
	if !found {
		t.Fatal("go.a not listed")
	}
	if err := c.Destroy(bg, "go.a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Open(bg, "go.a"); !errors.Is(err, ErrNoSuchSegment) {
		t.Fatalf("after destroy: %v", err)
	}
}

func TestMemoryPolicy(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the daemon locks memory as root")
	}
	c := dial(t)
	zero := 0
	s, err := c.Create(bg, "go.policy", 5000, &CreateOptions{Locked: true,
		NUMANode: &zero, Lifetime: Persistent})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy(bg, "go.policy")
	if !s.Locked || s.NUMANode == nil || *s.NUMANode != 0 || s.Declared ||
		s.PageSize != int64(os.Getpagesize()) {
		t.Fatalf("unexpected %+v", s)
	}
	// exist_ok compares the policy
	if e, err := c.Create(bg, "go.policy", 5000, &CreateOptions{Locked: true,
		NUMANode: &zero, ExistOK: true}); err != nil || e.Created ||
		e.Shmid != s.Shmid {
		t.Fatalf("exist ok: %+v %v", e, err)
	}
	if _, err := c.Create(bg, "go.policy", 5000,
		&CreateOptions{ExistOK: true}); !errors.Is(err, ErrNameExists) {
		t.Fatalf("another policy: %v", err)
	}
	p, err := c.Create(bg, "go.plain", 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy(bg, "go.plain")
	if p.Locked || p.NUMANode != nil {
		t.Fatalf("no policy: %+v", p)
	}
	var e *Error
	_, err = c.Create(bg, "go.bad", 64, &CreateOptions{PageSize: 2 << 20})
	if !errors.Is(err, ErrInvalidParameter) || !errors.As(err, &e) ||
		e.Parameters["parameter"] != "page_size" {
		t.Fatalf("page size alone: %v", err)
	}
	far := 1000
	_, err = c.Create(bg, "go.bad", 64, &CreateOptions{NUMANode: &far})
	if !errors.As(err, &e) || e.Parameters["parameter"] != "numa_node" {
		t.Fatalf("absent node: %v", err)
	}
}

func TestStatus(t *testing.T) {
	c := dial(t)
	st, err := c.Status(bg)
	if err != nil {
		t.Fatal(err)
	}
	if st.Version == "" || st.PID == 0 || st.Clients < 1 ||
		st.Limits["max_segment_size"] != 1<<20 ||
		st.IPCNamespace != ipcNamespace() {
		t.Fatalf("unexpected %+v", st)
	}
}

func TestErrorsFromTheDaemon(t *testing.T) {
	c := dial(t)
	if _, err := c.Create(bg, "go.e", 64, nil); err != nil {
		t.Fatal(err)
	}
	defer c.Destroy(bg, "go.e")
	_, err := c.Create(bg, "go.e", 64, nil)
	var e *Error
	if !errors.Is(err, ErrNameExists) || !errors.As(err, &e) ||
		e.Parameters["name"] != "go.e" {
		t.Fatalf("name exists: %v", err)
	}
	if _, err := c.Open(bg, "go.none"); !errors.Is(err, ErrNoSuchSegment) {
		t.Fatalf("no such segment: %v", err)
	}
	_, err = c.Create(bg, "go.big", 2<<20, nil)
	if !errors.Is(err, ErrQuotaExceeded) || !errors.As(err, &e) ||
		e.Parameters["limit"] != "segment_size" ||
		e.Parameters["max"] != int64(1<<20) {
		t.Fatalf("quota: %v", err)
	}
	if _, err := c.Create(bg, "go.zero", 0, nil); !errors.Is(err, ErrInvalidParameter) {
		t.Fatalf("invalid: %v", err)
	}
	key := keyBase + 0xff
	if _, err := c.Create(bg, "go.k1", 64, &CreateOptions{Key: &key}); err != nil {
		t.Fatal(err)
	}
	defer c.Destroy(bg, "go.k1")
	_, err = c.Create(bg, "go.k2", 64, &CreateOptions{Key: &key})
	if !errors.Is(err, ErrKeyInUse) || !errors.As(err, &e) ||
		e.Parameters["key"] != int64(key) {
		t.Fatalf("key in use: %v", err)
	}
	if os.Geteuid() == 0 {
		// another user may not destroy it
		if out, err := runHelper("destroy:go.e"); err != nil {
			t.Fatalf("helper: %v: %s", err, out)
		}
	}
}

// Every error name the daemon may answer becomes its sentinel: a server
// of the test's own answers each in turn.
func TestEverySentinel(t *testing.T) {
	all := map[string]error{
		"io.shmd.NameExists":                   ErrNameExists,
		"io.shmd.NoSuchSegment":                ErrNoSuchSegment,
		"io.shmd.PermissionDenied":             ErrPermissionDenied,
		"io.shmd.QuotaExceeded":                ErrQuotaExceeded,
		"io.shmd.KeyInUse":                     ErrKeyInUse,
		"io.shmd.SystemLimit":                  ErrSystemLimit,
		"io.shmd.StateError":                   ErrStateError,
		"io.shmd.ProtocolError":                ErrProtocolError,
		"io.shmd.WrongNamespace":               ErrWrongNamespace,
		"org.varlink.service.InvalidParameter": ErrInvalidParameter,
		"org.varlink.service.MethodNotFound":   ErrMethodNotFound,
	}
	sock := fakeDaemon(t, func(call map[string]any) []byte {
		name := call["parameters"].(map[string]any)["name"]
		msg, _ := json.Marshal(map[string]any{"error": name,
			"parameters": map[string]any{"client": 1, "daemon": 2}})
		return msg
	})
	c, err := Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for name, want := range all {
		_, err := c.Open(bg, name)
		var e *Error
		if !errors.Is(err, want) || !errors.As(err, &e) || e.Name != name ||
			!strings.Contains(err.Error(), name) {
			t.Errorf("%s: got %v", name, err)
		}
		for other, sent := range all {
			if other != name && errors.Is(err, sent) {
				t.Errorf("%s also matches %s", name, other)
			}
		}
	}
}

func TestProducerAndConsumer(t *testing.T) {
	c := dial(t)
	defer c.Destroy(bg, "go.pc")
	// the consumer first: it waits for the name
	done := make(chan error, 1)
	go func() {
		out, err := runHelper("consumer:go.pc")
		if err != nil {
			err = fmt.Errorf("%v: %s", err, out)
		}
		done <- err
	}()
	for i := 0; i < 1000; i++ { // until the consumer waits
		if st, err := c.Status(bg); err == nil && st.Waiters >= 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	s, err := c.Create(bg, "go.pc", 4096, &CreateOptions{ExistOK: true,
		Lifetime: Persistent})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Attach(false)
	if err != nil {
		t.Fatal(err)
	}
	m.WriteAt([]byte("from go"), 1)
	m.WriteAt([]byte{1}, 0)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	m.Detach()
}

func TestReapedAfterLastDetach(t *testing.T) {
	c := dial(t)
	s, err := c.Create(bg, "go.reap", 64, nil) // Detach
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Attach(false)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Detach(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 300; i++ {
		if _, err := c.Open(bg, "go.reap"); errors.Is(err, ErrNoSuchSegment) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("not reaped after its last detach")
}

func TestMappingIO(t *testing.T) {
	c := dial(t)
	s, err := c.Create(bg, "go.io", 16, &CreateOptions{Lifetime: Persistent})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy(bg, "go.io")
	m, err := s.Attach(false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Detach()
	var _ io.ReadWriteSeeker = m
	var _ io.ReaderAt = m
	var _ io.WriterAt = m
	if len(m.Bytes()) != 16 {
		t.Fatalf("%d bytes", len(m.Bytes()))
	}
	if n, err := m.Write([]byte("0123456789")); n != 10 || err != nil {
		t.Fatal(n, err)
	}
	// past the end: what fits, and an error
	if n, err := m.Write([]byte("abcdefgh")); n != 6 || err == nil {
		t.Fatalf("past the end: %d %v", n, err)
	}
	if n, err := m.WriteAt([]byte("x"), 16); n != 0 || err == nil {
		t.Fatalf("at the end: %d %v", n, err)
	}
	if pos, _ := m.Seek(0, io.SeekStart); pos != 0 {
		t.Fatal(pos)
	}
	all, err := io.ReadAll(m)
	if err != nil || string(all) != "0123456789abcdef" {
		t.Fatalf("%q %v", all, err)
	}
	if _, err := m.Seek(-1, io.SeekStart); err == nil {
		t.Fatal("negative seek")
	}
	// read-only: reads work, writes fail and write nothing, never a fault
	r, err := s.Attach(true)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Detach()
	if n, err := r.WriteAt([]byte("zz"), 0); n != 0 || !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only write: %d %v", n, err)
	}
	if n, err := r.Write([]byte("zz")); n != 0 || err == nil {
		t.Fatal(n, err)
	}
	buf := make([]byte, 4)
	if n, err := r.ReadAt(buf, 12); n != 4 || err != nil || string(buf) != "cdef" {
		t.Fatalf("%d %v %q", n, err, buf)
	}
	if m.Bytes()[0] != '0' {
		t.Fatal("the read-only write changed something")
	}
}

func TestOpenWait(t *testing.T) {
	c := dial(t)
	other := dial(t)
	ctx, cancel := context.WithTimeout(bg, 10*time.Second)
	defer cancel()
	go func() {
		for { // until c waits
			st, err := other.Status(ctx)
			if err != nil || st.Waiters >= 1 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		other.Create(ctx, "go.wait", 64, &CreateOptions{Lifetime: Persistent})
	}()
	s, err := c.OpenWait(ctx, "go.wait")
	if err != nil || s.Name != "go.wait" {
		t.Fatal(s, err)
	}
	// a name that is there: at once
	if o, err := c.OpenWait(ctx, "go.wait"); err != nil || o.Shmid != s.Shmid {
		t.Fatal(o, err)
	}
	c.Destroy(bg, "go.wait")
}

// The wait is ctx's deadline: when it passes, the daemon's answer
// (NoSuchSegment) and the context's.
func TestOpenWaitDeadline(t *testing.T) {
	c := dial(t)
	ctx, cancel := context.WithTimeout(bg, time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.OpenWait(ctx, "go.never")
	if !errors.Is(err, ErrNoSuchSegment) ||
		!errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v", err)
	}
	if time.Since(start) < 900*time.Millisecond {
		t.Fatalf("did not wait: %v after %v", err, time.Since(start))
	}
	var e *Error
	if !errors.As(err, &e) || e.Parameters["name"] != "go.never" {
		t.Fatalf("%#v", err)
	}
}

func TestWatch(t *testing.T) {
	c := dial(t)
	ctx, cancel := context.WithCancel(context.Background())
	events, err := c.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-events; ev.Event != "ready" || ev.Segment != nil {
		t.Fatalf("first: %+v", ev)
	}
	if _, err := c.Create(bg, "go.watched", 64, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Destroy(bg, "go.watched"); err != nil {
		t.Fatal(err)
	}
	var seen []string
	for len(seen) < 2 {
		select {
		case ev := <-events:
			if ev.Segment != nil && ev.Segment.Name == "go.watched" {
				seen = append(seen, ev.Event)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("events: %v", seen)
		}
	}
	if seen[0] != "created" || seen[1] != "destroyed" {
		t.Fatalf("events: %v", seen)
	}
	cancel()
	for range events { // closed once ctx ends
	}
}

func TestDialFails(t *testing.T) {
	_, err := Dial(filepath.Join(t.TempDir(), "none.sock"))
	if err == nil || !strings.Contains(err.Error(), "none.sock") {
		t.Fatal(err)
	}
}
