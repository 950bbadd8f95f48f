package shmd

import (
	"errors"
	"fmt"
	"io"
	"unsafe"
)

// shmRdonly is SHM_RDONLY, shmat(2)'s flag for a read-only attach.
const shmRdonly = 010000

// ErrReadOnly is what writing to a read-only mapping returns.
var ErrReadOnly = errors.New("shmd: the mapping is read-only")

// Mapping is a segment attached to this process: an io.Reader, io.Writer,
// io.Seeker, io.ReaderAt and io.WriterAt over exactly its Size bytes. It is
// not for concurrent use by several goroutines (Bytes is, with care).
type Mapping struct {
	data     []byte
	off      int64
	readonly bool
}

// Attach maps the segment (shmat(2)); readonly attaches it read-only, for
// which read permission suffices. Detach it when done: a Detach lifetime
// ends at the last detach.
func (s *Segment) Attach(readonly bool) (*Mapping, error) {
	flags := uintptr(0)
	if readonly {
		flags = shmRdonly
	}
	p, err := shmat(s.Shmid, flags)
	if err != nil {
		return nil, fmt.Errorf("shmd: shmat %s (shmid %d): %w", s.Name,
			s.Shmid, err)
	}
	return &Mapping{data: unsafe.Slice((*byte)(p), s.Size),
		readonly: readonly}, nil
}

// addrPointer is the address shmat returned, as a pointer (through memory:
// go vet flags a plain uintptr conversion, which is right here, as the
// memory is the kernel's mapping, not the Go heap).
func addrPointer(addr uintptr) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&addr))
}

// Bytes is the memory itself, exactly Size bytes, valid until Detach.
// Writing through it when read-only faults: use Write for a checked write.
func (m *Mapping) Bytes() []byte {
	return m.data
}

// Detach unmaps the segment (shmdt(2)); the mapping is empty afterwards.
func (m *Mapping) Detach() error {
	if m.data == nil {
		return nil
	}
	p := unsafe.Pointer(&m.data[0])
	m.data = nil
	if err := shmdt(p); err != nil {
		return fmt.Errorf("shmd: shmdt: %w", err)
	}
	return nil
}

// ReadAt reads from off; io.EOF past the end.
func (m *Mapping) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("shmd: negative offset")
	}
	if off >= int64(len(m.data)) {
		return 0, io.EOF
	}
	n := copy(p, m.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt writes at off: what fits, and an error for the rest. A
// read-only mapping writes nothing and returns ErrReadOnly.
func (m *Mapping) WriteAt(p []byte, off int64) (int, error) {
	if m.readonly {
		return 0, ErrReadOnly
	}
	if off < 0 {
		return 0, errors.New("shmd: negative offset")
	}
	if off >= int64(len(m.data)) {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.ErrShortWrite
	}
	n := copy(m.data[off:], p)
	if n < len(p) {
		return n, io.ErrShortWrite
	}
	return n, nil
}

// Read reads from the current offset.
func (m *Mapping) Read(p []byte) (int, error) {
	n, err := m.ReadAt(p, m.off)
	m.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// Write writes at the current offset (see WriteAt).
func (m *Mapping) Write(p []byte) (int, error) {
	n, err := m.WriteAt(p, m.off)
	m.off += int64(n)
	return n, err
}

// Seek sets the offset for Read and Write (io.SeekStart, io.SeekCurrent,
// io.SeekEnd); it may not be negative.
func (m *Mapping) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += m.off
	case io.SeekEnd:
		offset += int64(len(m.data))
	default:
		return m.off, errors.New("shmd: bad whence")
	}
	if offset < 0 {
		return m.off, errors.New("shmd: negative offset")
	}
	m.off = offset
	return offset, nil
}
