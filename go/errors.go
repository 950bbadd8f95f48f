package shmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
)

// Error is an error the daemon answered: its name (io.shmd.NameExists) and
// parameters (name, limit, max, key, errno, client, daemon, ...). A JSON
// integer among the parameters is an int64, any other number a float64.
type Error struct {
	Name       string
	Parameters map[string]any

	cause error // what ended an OpenWait that ran out of time
}

func (e *Error) Error() string {
	msg := "shmd: " + e.Name
	if len(e.Parameters) > 0 {
		keys := make([]string, 0, len(e.Parameters))
		for k := range e.Parameters {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%v", k, e.Parameters[k]))
		}
		msg += " (" + strings.Join(parts, ", ") + ")"
	}
	if e.Name == nameWrongNamespace {
		msg += ": run this program in shmd's IPC namespace " +
			"(--ipc=host, --ipc=container:shmd, or in shmd's pod)"
	}
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

// Is makes errors.Is(err, ErrNameExists) and the like work.
func (e *Error) Is(target error) bool {
	s, ok := target.(*sentinel)
	return ok && s.name == e.Name
}

// Unwrap is the context's error when an OpenWait's deadline passed.
func (e *Error) Unwrap() error {
	return e.cause
}

type sentinel struct{ name string }

func (s *sentinel) Error() string { return "shmd: " + s.name }

const (
	nameNoSuchSegment  = "io.shmd.NoSuchSegment"
	nameWrongNamespace = "io.shmd.WrongNamespace"
)

// The daemon's errors, for errors.Is.
var (
	ErrNameExists       error = &sentinel{"io.shmd.NameExists"}
	ErrNoSuchSegment    error = &sentinel{nameNoSuchSegment}
	ErrPermissionDenied error = &sentinel{"io.shmd.PermissionDenied"}
	ErrQuotaExceeded    error = &sentinel{"io.shmd.QuotaExceeded"}
	ErrKeyInUse         error = &sentinel{"io.shmd.KeyInUse"}
	ErrSystemLimit      error = &sentinel{"io.shmd.SystemLimit"}
	ErrStateError       error = &sentinel{"io.shmd.StateError"}
	ErrProtocolError    error = &sentinel{"io.shmd.ProtocolError"}
	ErrWrongNamespace   error = &sentinel{nameWrongNamespace}
	ErrInvalidParameter error = &sentinel{"org.varlink.service.InvalidParameter"}
	ErrMethodNotFound   error = &sentinel{"org.varlink.service.MethodNotFound"}
)

// errClientClosed is what calls under way or made after Close return.
var errClientClosed = fmt.Errorf("shmd: the client is closed: %w", net.ErrClosed)

// daemonError is the *Error of an error reply.
func daemonError(name string, raw json.RawMessage) *Error {
	return &Error{Name: name, Parameters: decodeParameters(raw)}
}

// decodeParameters reads an error's parameters keeping integers integers:
// encoding/json alone would make every number a float64.
func decodeParameters(raw json.RawMessage) map[string]any {
	params := map[string]any{}
	if len(raw) == 0 {
		return params
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]any
	if d.Decode(&m) != nil {
		return params
	}
	for k, v := range m {
		params[k] = withIntegers(v)
	}
	return params
}

// withIntegers turns the json.Numbers in v into int64 where they are
// integers, float64 elsewhere.
func withIntegers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = withIntegers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = withIntegers(e)
		}
	}
	return v
}

// contextError is the error of a call ctx ended: it wraps ctx.Err().
func contextError(ctx context.Context) error {
	return fmt.Errorf("shmd: %w", ctx.Err())
}

// waitExpired is OpenWait's answer when ctx's deadline passes first: the
// daemon's NoSuchSegment, wrapping context.DeadlineExceeded.
func waitExpired(ctx context.Context, name string) error {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return contextError(ctx)
	}
	return &Error{Name: nameNoSuchSegment,
		Parameters: map[string]any{"name": name}, cause: ctx.Err()}
}
