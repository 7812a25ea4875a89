package boltstore

import (
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"huimin/store/storetest"
)

// BenchmarkQueue measures the due-queue against issue 11's targets (see
// storetest.BenchQueue) on a fresh bolt file:
//
//	go test -run '^$' -bench Queue -benchtime 3s -count 3 ./store/boltstore/
//
// HUIMIN_BENCH_PENDING=100000 makes a quicker run with a smaller backlog.
// A pending item's bytes are measured two ways: B/item from the file's
// size (bolt grows it ahead of its needs, by up to 16 MiB, and never
// shrinks it), dataB/item from the pages in use up to the file's
// high-water mark (bolt's Tx.Size).
func BenchmarkQueue(b *testing.B) {
	storetest.BenchQueue(b, storetest.QueueBench{
		New: func(b *testing.B) storetest.Store {
			s, err := New(filepath.Join(b.TempDir(), "queue.db"), Options{})
			if err != nil {
				b.Fatalf("New: %v", err)
			}
			b.Cleanup(func() { _ = s.Close() })
			return s
		},
		Footprint: func(b *testing.B, st storetest.Store, _ string) map[string]int64 {
			s := st.(*Store)
			fi, err := os.Stat(s.db.Path())
			if err != nil {
				b.Fatal(err)
			}
			var data int64
			if err := s.db.View(func(tx *bolt.Tx) error {
				data = tx.Size()
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			return map[string]int64{"B": fi.Size(), "dataB": data}
		},
	})
}
