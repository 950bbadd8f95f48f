// Package shmd is the Go client of shmd, the System V shared memory broker:
// segments that are named, owned, limited and cleaned up.
//
// A program asks the daemon for a segment by name over its Unix socket and
// gets a shmid, which it attaches (shmat) through Segment.Attach. The daemon
// gives the segment the caller's ownership and mode and removes it when its
// lifetime ends: at the last detach (Detach, the default), when its creator
// exits (Process), or only when asked (Persistent).
//
// Producer and consumer may start in either order: Create with
// CreateOptions.ExistOK opens the segment when it is already there, and
// OpenWait waits for a name to be created.
//
//	c, err := shmd.Dial("") // $SHMD_SOCKET, else /run/shmd/shmd.sock
//	if err != nil { ... }
//	defer c.Close()
//	seg, err := c.Create("cam0", 1<<20, &shmd.CreateOptions{ExistOK: true})
//	m, err := seg.Attach(false)
//	defer m.Detach()
//	copy(m.Bytes(), frame)
//
// Every error the daemon answers is an *Error, and matches its sentinel with
// errors.Is (ErrNameExists, ErrNoSuchSegment, ...). The package uses the
// standard library only and speaks the daemon's protocol (Varlink framing:
// JSON objects ending in a NUL byte) directly. A Client is safe for
// concurrent use by several goroutines: calls are pipelined on its
// connection and answered in order.
package shmd
