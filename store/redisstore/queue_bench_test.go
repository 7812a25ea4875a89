package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"huimin/store/redisstore"
	"huimin/store/storetest"
)

// BenchmarkQueue measures the due-queue against issue 11's targets (see
// storetest.BenchQueue) on Redis:
//
//	go test -run '^$' -bench Queue -benchtime 3s -count 3 ./store/redisstore/
//
// HUIMIN_BENCH_PENDING=100000 makes a quicker run with a smaller backlog.
// A pending item's bytes are measured two ways: B/item from INFO memory's
// used_memory before and after the preload (the whole server's: other
// clients' keys meanwhile count too), keyB/item from MEMORY USAGE of the
// queue's keys. The keys are UNLINKed at the end.
func BenchmarkQueue(b *testing.B) {
	// A client as the service makes it (cmd/huimin/serve.go): RESP2,
	// whose replies go-redis reads without looking for push
	// notifications, and context deadlines on the connection.
	rdb := goredis.NewClient(&goredis.Options{Addr: redisAddr(), Protocol: 2, ContextTimeoutEnabled: true})
	b.Cleanup(func() { _ = rdb.Close() })
	if err := rdb.Ping(b.Context()).Err(); err != nil {
		b.Fatalf("redis at %s does not answer: %v", redisAddr(), err)
	}
	prefixes := make(map[storetest.Store]string)
	storetest.BenchQueue(b, storetest.QueueBench{
		New: func(b *testing.B) storetest.Store {
			prefix := fmt.Sprintf("huimintest:queue:%016x:", rand.Uint64())
			b.Cleanup(func() {
				if err := unlinkPrefix(context.Background(), rdb, prefix); err != nil {
					b.Errorf("unlink %s*: %v", prefix, err)
				}
			})
			// A backlog UNLINKed just before (an earlier -count run's) is
			// freed in the background: wait for that, or it shrinks the
			// growth of used_memory.
			waitLazyFree(b, rdb)
			s := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
			b.Cleanup(func() { _ = s.Close() })
			prefixes[s] = prefix
			return s
		},
		Footprint: func(b *testing.B, s storetest.Store, queue string) map[string]int64 {
			ctx := context.Background()
			used, err := infoField(ctx, rdb, "memory", "used_memory")
			if err != nil {
				b.Fatalf("INFO memory: %v", err)
			}
			tag := prefixes[s] + "{q:" + queue + "}"
			var keys int64
			for _, k := range []string{tag + ":due", tag + ":items", tag + ":att"} {
				n, err := rdb.MemoryUsage(ctx, k, 0).Result() // SAMPLES 0: every element
				if errors.Is(err, goredis.Nil) {
					continue // no such key
				}
				if err != nil {
					b.Fatalf("MEMORY USAGE %s: %v", k, err)
				}
				keys += n
			}
			return map[string]int64{"B": used, "keyB": keys}
		},
	})
}
