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
// OpenWait waits for a name to be created, until its context's deadline.
//
//	c, err := shmd.Dial("") // $SHMD_SOCKET, else /run/shmd/shmd.sock
//	if err != nil { ... }
//	defer c.Close()
//	seg, err := c.Create(ctx, "cam0", 1<<20, &shmd.CreateOptions{ExistOK: true})
//	m, err := seg.Attach(false)
//	defer m.Detach()
//	copy(m.Bytes(), frame)
//
// Every method that talks to the daemon takes a context.Context first.
// Cancelling it ends the call at once with an error wrapping ctx.Err(), and
// the Client stays usable: the call's reply, when it comes, is dropped.
// Close ends the calls under way with an error wrapping net.ErrClosed.
//
// A Client is safe for concurrent use by many goroutines: their calls are
// pipelined on one connection and each gets its own reply. OpenWait and
// Watch use connections of their own, so a wait holds up no other call.
//
// Client.Call makes any call of the protocol, one this package does not
// wrap yet included, and decodes its reply with encoding/json.
//
// Every error the daemon answers is an *Error, and matches its sentinel with
// errors.Is (ErrNameExists, ErrNoSuchSegment, ...); the integers among its
// Parameters are int64. The package uses the standard library only, speaks
// the daemon's protocol (Varlink framing: JSON objects ending in a NUL byte)
// directly, and builds for every Linux architecture Go supports: shmat and
// shmdt are syscalls of their own on some, ipc(2) calls on others (386,
// mips, ppc64, s390x).
package shmd
