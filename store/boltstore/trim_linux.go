package boltstore

import "syscall"

// dropResident unmaps the pages of the size bytes at addr, a shared file
// map, from the resident set; their contents stay in the page cache.
// A failure only leaves them resident.
func dropResident(addr uintptr, size int64) {
	if size > 0 {
		_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, addr, uintptr(size), syscall.MADV_DONTNEED)
	}
}
