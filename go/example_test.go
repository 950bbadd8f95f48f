package shmd_test

import (
	"fmt"
	"log"

	shmd "github.com/shmd/shmd/go"
)

// Whoever starts first makes the segment; the others open it.
func ExampleClient_Create() {
	c, err := shmd.Dial("") // $SHMD_SOCKET, else /run/shmd/shmd.sock
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	seg, err := c.Create("example.frames", 4096, &shmd.CreateOptions{
		ExistOK: true, Lifetime: shmd.Persistent})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Destroy(seg.Name)
	m, err := seg.Attach(false)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Detach()
	fmt.Fprintf(m, "hello from Go")
	fmt.Println(seg.Created, string(m.Bytes()[:13]))
	// Output: true hello from Go
}
