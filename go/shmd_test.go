package shmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The daemon the tests talk to: $SHMD_DAEMON, else the source tree's build.
var (
	daemonPath string
	socketPath string
	haveDaemon bool
)

func TestMain(m *testing.M) {
	if os.Getenv("SHMD_GO_HELPER") != "" {
		os.Exit(helper(os.Getenv("SHMD_GO_HELPER")))
	}
	daemonPath = os.Getenv("SHMD_DAEMON")
	if daemonPath == "" {
		daemonPath = "../build/daemon/shmd"
	}
	var cmd *exec.Cmd
	var dir string
	if _, err := os.Stat(daemonPath); err == nil {
		dir, cmd = startDaemon()
		haveDaemon = true
	} else {
		fmt.Fprintf(os.Stderr, "no shmd at %s (set SHMD_DAEMON): the "+
			"tests that need it are skipped\n", daemonPath)
	}
	code := m.Run()
	if cmd != nil {
		cleanup()
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			fmt.Fprintf(os.Stderr, "shmd did not exit 0: %v\n", err)
			code = 1
		}
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

func startDaemon() (string, *exec.Cmd) {
	dir, err := os.MkdirTemp("", "shmd-go-")
	if err != nil {
		panic(err)
	}
	os.Chmod(dir, 0755) // uid 65534 reaches the socket
	socketPath = filepath.Join(dir, "shmd.sock")
	cmd := exec.Command(daemonPath, "--config", "/dev/null",
		"--socket", socketPath, "--state-dir", filepath.Join(dir, "state"),
		"--key-base=0x7e5f3000", "--key-count=256",
		"--max-segment-size=1M")
	log, _ := os.Create(filepath.Join(dir, "shmd.log"))
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		panic(err)
	}
	os.Setenv("SHMD_SOCKET", socketPath) // for Dial("") and the examples
	for i := 0; i < 1000; i++ {
		if c, err := Dial(socketPath); err == nil {
			_, err = c.Status()
			c.Close()
			if err == nil {
				return dir, cmd
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	panic("shmd did not start")
}

// cleanup removes whatever a failed test left.
func cleanup() {
	c, err := Dial(socketPath)
	if err != nil {
		return
	}
	defer c.Close()
	segs, _ := c.List()
	for _, s := range segs {
		c.Destroy(s.Name)
	}
}

func dial(t *testing.T) *Client {
	t.Helper()
	if !haveDaemon {
		t.Skip("no daemon")
	}
	c, err := Dial("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func keyp(k int32) *int32 { return &k }

func TestCreateOpenListDestroy(t *testing.T) {
	c := dial(t)
	s, err := c.Create("go.a", 4096, &CreateOptions{Mode: 0640,
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
	o, err := c.Open("go.a")
	if err != nil || o.Shmid != s.Shmid || o.Created {
		t.Fatalf("open: %+v %v", o, err)
	}
	// open-or-create
	e, err := c.Create("go.a", 4096, &CreateOptions{ExistOK: true})
	if err != nil || e.Created || e.Shmid != s.Shmid || e.Mode != 0640 {
		t.Fatalf("exist ok: %+v %v", e, err)
	}
	segs, err := c.List()
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
	if err := c.Destroy("go.a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Open("go.a"); !errors.Is(err, ErrNoSuchSegment) {
		t.Fatalf("after destroy: %v", err)
	}
}

func TestStatus(t *testing.T) {
	c := dial(t)
	st, err := c.Status()
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
	if _, err := c.Create("go.e", 64, nil); err != nil {
		t.Fatal(err)
	}
	defer c.Destroy("go.e")
	_, err := c.Create("go.e", 64, nil)
	var e *Error
	if !errors.Is(err, ErrNameExists) || !errors.As(err, &e) ||
		e.Parameters["name"] != "go.e" {
		t.Fatalf("name exists: %v", err)
	}
	if _, err := c.Open("go.none"); !errors.Is(err, ErrNoSuchSegment) {
		t.Fatalf("no such segment: %v", err)
	}
	_, err = c.Create("go.big", 2<<20, nil)
	if !errors.Is(err, ErrQuotaExceeded) || !errors.As(err, &e) ||
		e.Parameters["limit"] != "segment_size" {
		t.Fatalf("quota: %v", err)
	}
	if _, err := c.Create("go.zero", 0, nil); !errors.Is(err, ErrInvalidParameter) {
		t.Fatalf("invalid: %v", err)
	}
	if _, err := c.Create("go.k1", 64, &CreateOptions{Key: keyp(0x7e5f30ff)}); err != nil {
		t.Fatal(err)
	}
	defer c.Destroy("go.k1")
	if _, err := c.Create("go.k2", 64, &CreateOptions{Key: keyp(0x7e5f30ff)}); !errors.Is(err, ErrKeyInUse) {
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
		"io.shmd.ProtocolError":                ErrProtocolError,
		"io.shmd.WrongNamespace":               ErrWrongNamespace,
		"org.varlink.service.InvalidParameter": ErrInvalidParameter,
		"org.varlink.service.MethodNotFound":   ErrMethodNotFound,
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "fake.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	names := make(chan string, 1)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		buf := make([]byte, 65536)
		for name := range names {
			if _, err := conn.Read(buf); err != nil {
				return
			}
			msg, _ := json.Marshal(map[string]any{"error": name,
				"parameters": map[string]any{"client": 1, "daemon": 2}})
			conn.Write(append(msg, 0))
		}
	}()
	c, err := Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for name, want := range all {
		names <- name
		_, err := c.Open("x")
		var e *Error
		if !errors.Is(err, want) || !errors.As(err, &e) || e.Name != name ||
			e.Parameters["daemon"] != float64(2) ||
			!strings.Contains(err.Error(), name) {
			t.Errorf("%s: got %v", name, err)
		}
		for other, sent := range all {
			if other != name && errors.Is(err, sent) {
				t.Errorf("%s also matches %s", name, other)
			}
		}
	}
	close(names)
}

// The other process of a test: "consumer:NAME" waits for NAME and reads
// it; "destroy:NAME" is refused as uid 65534.
func helper(what string) int {
	verb, name, _ := strings.Cut(what, ":")
	if verb == "destroy" {
		if err := syscall.Setgid(65534); err != nil {
			return 10
		}
		if err := syscall.Setuid(65534); err != nil {
			return 11
		}
	}
	c, err := Dial("")
	if err != nil {
		return 2
	}
	defer c.Close()
	switch verb {
	case "destroy":
		if !errors.Is(c.Destroy(name), ErrPermissionDenied) {
			return 3
		}
		return 0
	case "consumer":
		s, err := c.OpenWait(name, 10*time.Second)
		if err != nil {
			return 4
		}
		m, err := s.Attach(true)
		if err != nil {
			return 5
		}
		defer m.Detach()
		for i := 0; i < 1000 && m.Bytes()[0] == 0; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if !bytes.HasPrefix(m.Bytes()[1:], []byte("from go")) {
			return 6
		}
		return 0
	}
	return 9
}

func runHelper(what string) ([]byte, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SHMD_GO_HELPER="+what)
	return cmd.CombinedOutput()
}

func TestProducerAndConsumer(t *testing.T) {
	c := dial(t)
	defer c.Destroy("go.pc")
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
		if st, err := c.Status(); err == nil && st.Waiters >= 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	s, err := c.Create("go.pc", 4096, &CreateOptions{ExistOK: true,
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
	s, err := c.Create("go.reap", 64, nil) // Detach
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
		if _, err := c.Open("go.reap"); errors.Is(err, ErrNoSuchSegment) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("not reaped after its last detach")
}

func TestMappingIO(t *testing.T) {
	c := dial(t)
	s, err := c.Create("go.io", 16, &CreateOptions{Lifetime: Persistent})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy("go.io")
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
	go func() {
		time.Sleep(200 * time.Millisecond)
		other.Create("go.wait", 64, &CreateOptions{Lifetime: Persistent})
	}()
	s, err := c.OpenWait("go.wait", 5*time.Second)
	if err != nil || s.Name != "go.wait" {
		t.Fatal(s, err)
	}
	c.Destroy("go.wait")
	start := time.Now()
	if _, err := c.OpenWait("go.never", time.Second); !errors.Is(err, ErrNoSuchSegment) {
		t.Fatal(err)
	}
	if time.Since(start) < 900*time.Millisecond {
		t.Fatal("did not wait")
	}
	if _, err := c.OpenWait("go.x", 2*time.Hour); !errors.Is(err, ErrInvalidParameter) {
		t.Fatal(err)
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
	if _, err := c.Create("go.watched", 64, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Destroy("go.watched"); err != nil {
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

func TestConcurrentUse(t *testing.T) {
	c := dial(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				name := fmt.Sprintf("go.cc.%d.%d", g, i)
				s, err := c.Create(name, 64, &CreateOptions{Key: keyp(0)})
				if err == nil {
					var o *Segment
					if o, err = c.Open(name); err == nil && o.Shmid != s.Shmid {
						err = fmt.Errorf("%s: shmid %d, then %d", name,
							s.Shmid, o.Shmid)
					}
				}
				if err == nil {
					err = c.Destroy(name)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestDialFails(t *testing.T) {
	_, err := Dial(filepath.Join(t.TempDir(), "none.sock"))
	if err == nil || !strings.Contains(err.Error(), "none.sock") {
		t.Fatal(err)
	}
}
