package shmd

import (
	"fmt"
	"sort"
	"strings"
)

// Error is an error the daemon answered: its name (io.shmd.NameExists) and
// parameters (name, limit, max, key, errno, client, daemon, ...).
type Error struct {
	Name       string
	Parameters map[string]any
}

func (e *Error) Error() string {
	if len(e.Parameters) == 0 {
		return "shmd: " + e.Name
	}
	keys := make([]string, 0, len(e.Parameters))
	for k := range e.Parameters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, e.Parameters[k]))
	}
	msg := "shmd: " + e.Name + " (" + strings.Join(parts, ", ") + ")"
	if e.Name == nameWrongNamespace {
		msg += ": run this program in shmd's IPC namespace " +
			"(--ipc=host, --ipc=container:shmd, or in shmd's pod)"
	}
	return msg
}

// Is makes errors.Is(err, ErrNameExists) and the like work.
func (e *Error) Is(target error) bool {
	s, ok := target.(*sentinel)
	return ok && s.name == e.Name
}

type sentinel struct{ name string }

func (s *sentinel) Error() string { return "shmd: " + s.name }

const nameWrongNamespace = "io.shmd.WrongNamespace"

// The daemon's errors, for errors.Is.
var (
	ErrNameExists       error = &sentinel{"io.shmd.NameExists"}
	ErrNoSuchSegment    error = &sentinel{"io.shmd.NoSuchSegment"}
	ErrPermissionDenied error = &sentinel{"io.shmd.PermissionDenied"}
	ErrQuotaExceeded    error = &sentinel{"io.shmd.QuotaExceeded"}
	ErrKeyInUse         error = &sentinel{"io.shmd.KeyInUse"}
	ErrSystemLimit      error = &sentinel{"io.shmd.SystemLimit"}
	ErrProtocolError    error = &sentinel{"io.shmd.ProtocolError"}
	ErrWrongNamespace   error = &sentinel{nameWrongNamespace}
	ErrInvalidParameter error = &sentinel{"org.varlink.service.InvalidParameter"}
	ErrMethodNotFound   error = &sentinel{"org.varlink.service.MethodNotFound"}
)
