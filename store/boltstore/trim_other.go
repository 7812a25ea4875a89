//go:build !linux

package boltstore

// dropResident does nothing where the store does not trim its map.
func dropResident(addr uintptr, size int64) {}
