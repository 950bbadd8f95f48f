//go:build linux && (amd64 || arm || arm64 || loong64 || mips64 || mips64le || riscv64)

package shmd

import (
	"syscall"
	"unsafe"
)

// These architectures have shmat(2) and shmdt(2) as syscalls of their own
// (arm's ipc(2) is the old ABI's only).

// shmat attaches shmid at an address the kernel picks.
func shmat(shmid int, flags uintptr) (unsafe.Pointer, error) {
	addr, _, errno := syscall.Syscall(syscall.SYS_SHMAT, uintptr(shmid),
		0, flags)
	if errno != 0 {
		return nil, errno
	}
	return addrPointer(addr), nil
}

// shmdt detaches what shmat attached at p.
func shmdt(p unsafe.Pointer) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_SHMDT, uintptr(p), 0, 0); errno != 0 {
		return errno
	}
	return nil
}
