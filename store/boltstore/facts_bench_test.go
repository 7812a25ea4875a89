package boltstore

import (
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"huimin/store/storetest"
)

// BenchmarkTicketFacts fills a store with 100,000 tickets over twelve
// months and times TicketFacts over one month and over the twelve; Size
// reports the bytes of the facts bucket's pages in use per ticket, and
// those of the whole file (tickets, indexes and facts). Run it with
//
//	go test -run '^$' -bench TicketFacts -benchtime 10x ./store/boltstore/
//
// The fill skips fsync (bolt's NoSync), which changes how long it takes
// and nothing of what is stored.
func BenchmarkTicketFacts(b *testing.B) {
	const tickets = 100_000
	path := filepath.Join(b.TempDir(), "bench.db")
	s, err := New(path, Options{})
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	b.Cleanup(func() { _ = s.Close() })
	s.db.NoSync = true
	perMonth := storetest.FillFacts(b, s, tickets, 8)
	s.db.NoSync = false
	b.Run("Size", func(b *testing.B) {
		var facts, file int64
		for b.Loop() {
			err := s.db.View(func(tx *bolt.Tx) error {
				st := bucket(tx, bucketTicketFacts).Stats()
				facts = int64(st.BranchInuse + st.LeafInuse)
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			file = fi.Size()
		}
		b.ReportMetric(float64(facts)/tickets, "facts-B/ticket")
		b.ReportMetric(float64(file)/tickets, "file-B/ticket")
	})
	storetest.BenchTicketFacts(b, s, perMonth)
}
