package shmd_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	shmd "github.com/shmd/shmd/go"
)

// Whoever starts first makes the segment; the others open it. (No Output:
// an example runs only against a daemon; readme_test.go runs README's.)
func ExampleClient_Create() {
	ctx := context.Background()
	c, err := shmd.Dial("") // $SHMD_SOCKET, else /run/shmd/shmd.sock
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	seg, err := c.Create(ctx, "example.frames", 4096, &shmd.CreateOptions{
		ExistOK: true, Lifetime: shmd.Persistent})
	if err != nil {
		log.Fatal(err)
	}
	m, err := seg.Attach(false)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Detach()
	fmt.Fprintf(m, "hello from Go")
	fmt.Println(seg.Created, string(m.Bytes()[:13]))
}

// A consumer waits up to 30 s for the producer's segment.
func ExampleClient_OpenWait() {
	c, err := shmd.Dial("")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seg, err := c.OpenWait(ctx, "example.frames")
	if errors.Is(err, shmd.ErrNoSuchSegment) {
		log.Fatal("nobody made example.frames in 30 s")
	} else if err != nil {
		log.Fatal(err)
	}
	m, err := seg.Attach(true) // read-only: Write returns ErrReadOnly
	if err != nil {
		log.Fatal(err)
	}
	defer m.Detach()
	fmt.Println(string(m.Bytes()[:13]))
}
