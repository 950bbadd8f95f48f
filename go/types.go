package shmd

import "time"

// Lifetime says when the daemon destroys a segment.
type Lifetime string

const (
	// Detach: at the last detach, once attached (the default).
	Detach Lifetime = "detach"
	// Process: when the process that created it exits.
	Process Lifetime = "process"
	// Persistent: only by Destroy.
	Persistent Lifetime = "persistent"
)

// CreateOptions are Create's optional parameters; the zero value (or nil)
// asks for the daemon's defaults.
type CreateOptions struct {
	Mode          uint32        // 0: the daemon's default, 0600
	Lifetime      Lifetime      // "": the default, Detach
	Key           *int32        // nil: one from the daemon's range; pointer to 0: no key
	UID, GID      *uint32       // nil: the caller's
	AttachTimeout time.Duration // 0: the daemon's default (whole seconds, rounded up)
	ExistOK       bool          // take an existing segment of that name, size and memory policy

	// Memory policy, each within the caller's limits (ErrQuotaExceeded)
	// and the system's (a SystemLimit error says what to raise).
	HugePages bool  // backed by huge pages; the size is rounded up to the page size
	PageSize  int64 // with HugePages: this huge page size in bytes; 0: the system's default
	Locked    bool  // locked in RAM (SHM_LOCK)
	NUMANode  *int  // nil: none; else its memory is bound to this node
}

// Segment is a segment the daemon manages.
type Segment struct {
	Name       string
	Shmid      int
	Key        int32
	Size       int64
	Mode       uint32
	UID, GID   uint32
	Lifetime   Lifetime
	Nattch     uint64
	CreatorUID uint32
	CreatorPID int
	CreatedAt  time.Time
	Created    bool  // Create: whether this call made it
	PageSize   int64 // its page size in bytes (0 from a daemon before memory policies)
	Locked     bool  // locked in RAM
	NUMANode   *int  // the node its memory is bound to; nil: none
	Declared   bool  // made from a declaration in the daemon's configuration
}

// Event is one of Watch's events.
type Event struct {
	Event   string   // "ready", "created", "destroyed", "reaped", "vanished"
	Segment *Segment // nil for "ready"
}

// Usage is what one uid is charged for.
type Usage struct {
	UID      uint32
	Segments int64
	Bytes    int64
}

// Status is the daemon's state.
type Status struct {
	Version      string
	PID          int
	Uptime       time.Duration
	IPCNamespace uint64
	Clients      int64
	Segments     int64
	Bytes        int64
	Requests     int64
	Created      int64 // segments made since the daemon started
	Reaped       int64
	Vanished     int64
	Waiters      int64 // Open calls waiting for a name
	// DeclaredDrift counts the declared segments (shmd(8)) that differ
	// from their declaration.
	DeclaredDrift int64
	UID           uint32
	Limits        map[string]int64 // one per limit key (max_segment_size, ...)
	Usage         []Usage          // root only
}
