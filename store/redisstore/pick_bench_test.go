package redisstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"huimin/store/redisstore"
	"huimin/store/storetest"
)

// BenchmarkPick gives an officer 10,000 closed tickets and 5 open ones and
// times what routing asks of the store per candidate (storetest.BenchPick).
// Run it with
//
//	go test -run '^$' -bench Pick ./store/redisstore/
//
// The keys live under a prefix of the benchmark's own and are UNLINKed
// at the end.
func BenchmarkPick(b *testing.B) {
	const closed, open = 10_000, 5
	rdb := newClient(b)
	ctx := context.Background()
	prefix := fmt.Sprintf("huimintest:pick:%016x:", rand.Uint64())
	b.Cleanup(func() {
		if err := unlinkPrefix(context.Background(), rdb, prefix); err != nil {
			b.Errorf("unlink %s*: %v", prefix, err)
		}
	})
	if err := markIndexesBuilt(ctx, rdb, prefix); err != nil {
		b.Fatal(err)
	}
	s := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
	b.Cleanup(func() { _ = s.Close() })
	storetest.FillPick(b, s, closed, open, 32)
	storetest.BenchPick(b, s, open)
}
