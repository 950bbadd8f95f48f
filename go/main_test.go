package shmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The daemon the tests talk to, which TestMain starts: $SHMD_DAEMON (it
// must start), else the source tree's build (when there is none, or it
// does not start, the tests that need a daemon skip and say why).
var (
	daemonPath string
	socketPath string
	noDaemon   string // why there is no daemon, when there is none
	keyBase    int32  // the daemon's key range: 256 keys of this process's own
)

// bg is the context of calls a test does not mean to end.
var bg = context.Background()

func TestMain(m *testing.M) {
	if os.Getenv("SHMD_GO_HELPER") != "" {
		os.Exit(helper(os.Getenv("SHMD_GO_HELPER")))
	}
	daemonPath = os.Getenv("SHMD_DAEMON")
	required := daemonPath != ""
	if !required {
		daemonPath = "../build/daemon/shmd"
	}
	keyBase = 0x7e000000 + int32(os.Getpid()%0x8000)*0x100
	d, err := startDaemon()
	if err != nil {
		if required {
			fmt.Fprintf(os.Stderr, "SHMD_DAEMON=%s: %v\n", daemonPath, err)
			os.Exit(1)
		}
		noDaemon = fmt.Sprintf("no daemon (%v; set SHMD_DAEMON)", err)
		fmt.Fprintf(os.Stderr, "%s: the tests that need one skip\n", noDaemon)
	}
	code := m.Run()
	if d != nil {
		cleanup()
		if err := d.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "shmd did not exit 0: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// daemon is the shmd the tests started.
type daemon struct {
	cmd    *exec.Cmd
	dir    string     // its socket, state and log
	exited chan error // its exit status, once it exits
}

// stop ends the daemon with SIGTERM: nil when it exited 0.
func (d *daemon) stop() error {
	d.cmd.Process.Signal(syscall.SIGTERM)
	err := <-d.exited
	os.RemoveAll(d.dir)
	return err
}

// startDaemon starts daemonPath on a socket of its own and waits until it
// answers.
func startDaemon() (*daemon, error) {
	if _, err := os.Stat(daemonPath); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "shmd-go-")
	if err != nil {
		return nil, err
	}
	os.Chmod(dir, 0755) // uid 65534 reaches the socket
	socketPath = filepath.Join(dir, "shmd.sock")
	cmd := exec.Command(daemonPath, "--config", "/dev/null",
		"--socket", socketPath, "--state-dir", filepath.Join(dir, "state"),
		fmt.Sprintf("--key-base=%#x", keyBase), "--key-count=256",
		"--max-segment-size=1M")
	logPath := filepath.Join(dir, "shmd.log")
	log, err := os.Create(logPath)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer log.Close()
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	d := &daemon{cmd: cmd, dir: dir, exited: make(chan error, 1)}
	go func() { d.exited <- cmd.Wait() }()
	for i := 0; i < 1000; i++ {
		if answers(socketPath) {
			os.Setenv("SHMD_SOCKET", socketPath) // for Dial("") and the programs
			return d, nil
		}
		select {
		case err := <-d.exited:
			out, _ := os.ReadFile(logPath)
			os.RemoveAll(dir)
			return nil, fmt.Errorf("shmd exited (%v): %s", err,
				bytes.TrimSpace(out))
		case <-time.After(10 * time.Millisecond):
		}
	}
	cmd.Process.Kill()
	<-d.exited
	os.RemoveAll(dir)
	return nil, errors.New("shmd did not answer in 10 s")
}

// answers says whether a daemon answers a Status on socket.
func answers(socket string) bool {
	c, err := Dial(socket)
	if err != nil {
		return false
	}
	defer c.Close()
	_, err = c.Status(bg)
	return err == nil
}

// cleanup removes whatever a failed test left.
func cleanup() {
	c, err := Dial(socketPath)
	if err != nil {
		return
	}
	defer c.Close()
	segs, _ := c.List(bg)
	for _, s := range segs {
		c.Destroy(bg, s.Name)
	}
}

// dial connects to the tests' daemon, or skips the test when there is none.
func dial(t *testing.T) *Client {
	t.Helper()
	if noDaemon != "" {
		t.Skip(noDaemon)
	}
	c, err := Dial("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testContext ends with the test, or after 30 s: a call that hangs fails.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds, for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("not in 10 s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waiters is how many Open calls wait in the daemon, -1 when c's Status
// fails.
func waiters(c *Client) int64 {
	ctx, cancel := context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	st, err := c.Status(ctx)
	if err != nil {
		return -1
	}
	return st.Waiters
}

func keyp(k int32) *int32 { return &k }

// fakeDaemon serves socket's connections with serve, one call (its
// message without the NUL) at a time: what serve returns is sent back,
// nil sends nothing. It stops with the test.
func fakeDaemon(t *testing.T, serve func(call map[string]any) []byte) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "fake.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
			go fakeConn(conn, serve)
		}
	}()
	return sock
}

// fakeConn answers one connection's calls for fakeDaemon.
func fakeConn(conn net.Conn, serve func(call map[string]any) []byte) {
	r := bufio.NewReader(conn)
	for {
		msg, err := r.ReadBytes(0)
		if err != nil {
			return
		}
		var call map[string]any
		if json.Unmarshal(msg[:len(msg)-1], &call) != nil {
			return
		}
		if out := serve(call); out != nil {
			if _, err := conn.Write(append(out, 0)); err != nil {
				return
			}
		}
	}
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
		if !errors.Is(c.Destroy(bg, name), ErrPermissionDenied) {
			return 3
		}
		return 0
	case "consumer":
		ctx, cancel := context.WithTimeout(bg, 10*time.Second)
		defer cancel()
		s, err := c.OpenWait(ctx, name)
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

// runHelper runs this test binary again as the helper; under an emulator
// ($SHMD_GO_EMULATOR, qemu-user for another architecture's build), in it.
func runHelper(what string) ([]byte, error) {
	args := []string{os.Args[0], "-test.run=^$"}
	if emu := os.Getenv("SHMD_GO_EMULATOR"); emu != "" {
		args = append([]string{emu}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "SHMD_GO_HELPER="+what)
	return cmd.CombinedOutput()
}
