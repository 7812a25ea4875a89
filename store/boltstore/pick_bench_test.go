package boltstore

import (
	"path/filepath"
	"testing"

	"huimin/store/storetest"
)

// BenchmarkPick gives an officer 10,000 closed tickets and 5 open ones and
// times what routing asks of the store per candidate (storetest.BenchPick).
// Run it with
//
//	go test -run '^$' -bench Pick ./store/boltstore/
//
// The fill skips fsync (bolt's NoSync), which changes how long it takes
// and nothing of what is stored.
func BenchmarkPick(b *testing.B) {
	const closed, open = 10_000, 5
	s, err := New(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	b.Cleanup(func() { _ = s.Close() })
	s.db.NoSync = true
	storetest.FillPick(b, s, closed, open, 8)
	s.db.NoSync = false
	storetest.BenchPick(b, s, open)
}
