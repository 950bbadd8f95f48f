//go:build linux && (386 || mips || mipsle || ppc64 || ppc64le || s390x)

package shmd

import (
	"syscall"
	"unsafe"
)

// These architectures reach shmat(2) and shmdt(2) through ipc(2), the
// multiplexer: their syscalls of their own came only with Linux 5.1, and
// package syscall has no numbers for them. s390x's ipc takes the first
// five arguments alone, which is all these calls use.

// ipc(2)'s calls (<linux/ipc.h>); the version, in the high 16 bits, is 0.
const (
	ipcShmat = 21
	ipcShmdt = 22
)

// shmat attaches shmid at an address the kernel picks: ipc(SHMAT, shmid,
// flags, &addr, shmaddr) stores it in addr.
func shmat(shmid int, flags uintptr) (unsafe.Pointer, error) {
	var addr uintptr
	_, _, errno := syscall.Syscall6(syscall.SYS_IPC, ipcShmat,
		uintptr(shmid), flags, uintptr(unsafe.Pointer(&addr)), 0, 0)
	if errno != 0 {
		return nil, errno
	}
	return addrPointer(addr), nil
}

// shmdt detaches what shmat attached at p: ipc(SHMDT, 0, 0, 0, p).
func shmdt(p unsafe.Pointer) error {
	_, _, errno := syscall.Syscall6(syscall.SYS_IPC, ipcShmdt, 0, 0, 0,
		uintptr(p), 0)
	if errno != 0 {
		return errno
	}
	return nil
}
