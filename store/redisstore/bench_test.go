package redisstore_test

import (
	"testing"

	"huimin/store/redisstore"
	"huimin/store/storetest"
)

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) storetest.Store {
		rdb := newClient(b)
		s := redisstore.New(rdb, redisstore.Options{Prefix: newPrefix(b, rdb)})
		b.Cleanup(func() { _ = s.Close() })
		return s
	})
}
