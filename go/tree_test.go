package shmd

import (
	"bufio"
	"bytes"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// What of the source tree around go/ speaks of the Go client: README.md's
// programs, Makefile.am's list of files to distribute.

// Every file of the package is in Makefile.am's EXTRA_DIST, so make dist
// (and the Debian source package) carries it.
func TestDistributed(t *testing.T) {
	am, err := os.ReadFile("../Makefile.am")
	if os.IsNotExist(err) {
		t.Skip("no ../Makefile.am: not in shmd's source tree")
	}
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`\bgo/[\w.]+`).FindAll(am, -1) {
		listed[string(m)] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(files, "go.mod") {
		if !listed["go/"+f] {
			t.Errorf("go/%s is not in Makefile.am's EXTRA_DIST", f)
		}
		delete(listed, "go/"+f)
	}
	for f := range listed {
		t.Errorf("Makefile.am lists %s, which is not there", f)
	}
}

// readmePrograms are README.md's Go programs, by the name their first line
// gives (// producer.go: ...).
func readmePrograms(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("../README.md")
	if os.IsNotExist(err) {
		t.Skip("no ../README.md: not in shmd's source tree")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	progs := map[string]string{}
	var block *strings.Builder
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		switch {
		case block == nil && line == "```go":
			block = &strings.Builder{}
		case block != nil && line == "```":
			src := block.String()
			first, _, _ := strings.Cut(src, "\n")
			name, _, _ := strings.Cut(strings.TrimPrefix(first, "// "), ":")
			progs[name] = src
			block = nil
		case block != nil:
			block.WriteString(line + "\n")
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return progs
}

// buildProgram builds src, a main package using this module, into dir.
func buildProgram(t *testing.T, dir, name, src string) string {
	t.Helper()
	if tidy, err := format.Source([]byte(src)); err != nil || string(tidy) != src {
		t.Errorf("README.md's %s is not gofmt-clean (%v):\n%s", name, err, tidy)
	}
	here, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(dir, strings.TrimSuffix(name, ".go"))
	mod := "module example\n\ngo 1.19\n\n" +
		"require github.com/shmd/shmd/go v0.0.0\n\n" +
		"replace github.com/shmd/shmd/go => " + here + "\n"
	if err := os.MkdirAll(pkg, 0755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pkg, "go.mod"), []byte(mod), 0644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pkg, name), []byte(src), 0644); err != nil {
		t.Fatal(err)
	}
	bin := pkg + ".bin"
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"),
		"build", "-o", bin, ".")
	cmd.Dir = pkg
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off",
		"GOWORK=off", "GOOS=", "GOARCH=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s does not build: %v\n%s\n%s", name, err, out, src)
	}
	return bin
}

// README's Go programs, as written: the consumer first (it waits for the
// name), then the producer; the consumer prints the producer's frame.
func TestReadmePrograms(t *testing.T) {
	c := dial(t)
	progs := readmePrograms(t)
	if progs["producer.go"] == "" || progs["consumer.go"] == "" {
		t.Fatalf("README.md has no producer.go and consumer.go: %v", progs)
	}
	dir := t.TempDir()
	producer := buildProgram(t, dir, "producer.go", progs["producer.go"])
	consumer := buildProgram(t, dir, "consumer.go", progs["consumer.go"])
	defer c.Destroy(bg, "cam0")

	var out bytes.Buffer
	cons := exec.Command(consumer)
	cons.Stdout, cons.Stderr = &out, &out
	if err := cons.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the consumer waits", func() bool { return waiters(c) >= 1 })
	if out, err := exec.Command(producer).CombinedOutput(); err != nil {
		t.Fatalf("producer: %v: %s", err, out)
	}
	if err := cons.Wait(); err != nil || out.String() != "frame 1\n" {
		t.Fatalf("consumer: %v: %q", err, out.String())
	}
}
