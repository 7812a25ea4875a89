package boltstore_test

import (
	"path/filepath"
	"testing"

	"huimin/store/boltstore"
	"huimin/store/storetest"
)

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) storetest.Store {
		s, err := boltstore.New(filepath.Join(b.TempDir(), "bench.db"), boltstore.Options{})
		if err != nil {
			b.Fatalf("New: %v", err)
		}
		b.Cleanup(func() { _ = s.Close() })
		return s
	})
}
