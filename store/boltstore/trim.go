package boltstore

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// bolt reads the file through a shared, read-only memory map, and every
// page a transaction reads stays mapped, and counted in the process's
// resident set, until bolt maps the file anew to grow it. A page read once
// (a session nobody has touched for an hour, a delivery record past its
// retries) stays resident however cold it is, so the resident set followed
// the file's growth: 90 MiB of the 210 MiB peak under the load generator,
// and the whole file after a restart that rebuilt the freelist. Those pages
// are the kernel's page cache: clean, never written through the map, and
// the kernel can take them back, but only after unmapping them.
//
// Every trimEvery the store unmaps them (madvise MADV_DONTNEED): they stay
// in the page cache, and the next read of one maps it back with a minor
// fault, no disk read. What stays resident is what was read in the last
// second: a few MiB under full load, against 60–90 MiB before.
const trimEvery = time.Second

// trimmer drops the map's pages from the resident set every trimEvery
// until stop is closed.
func (s *Store) trimmer(stop <-chan struct{}) {
	t := time.NewTicker(trimEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.trim()
		}
	}
}

// trim drops the pages of the file's map from the resident set. It runs in
// a read transaction, which holds bolt's map in place (bolt remaps only
// once every reader has left), so the address range is the map's for the
// whole call.
func (s *Store) trim() {
	_ = s.db.View(func(tx *bolt.Tx) error {
		dropResident(s.db.Info().Data, tx.Size())
		return nil
	})
}
