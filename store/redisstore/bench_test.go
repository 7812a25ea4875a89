package redisstore_test

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"huimin/store"
	"huimin/store/redisstore"
)

// benchStore returns a store under a fresh prefix on the test Redis.
func benchStore(b *testing.B) *redisstore.Store {
	b.Helper()
	rdb := newClient(b)
	return redisstore.New(rdb, redisstore.Options{Prefix: newPrefix(b, rdb)})
}

func BenchmarkSchedule(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	due := time.Now()
	payload := []byte(`{"ticket_id":"T-000001","kind":"return_visit"}`)
	b.ResetTimer()
	for i := range b.N {
		it := store.DueItem{ID: strconv.Itoa(i), Due: due.Add(time.Duration(i%1000) * time.Second), Payload: payload}
		if _, err := s.Schedule(ctx, "bench", it); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClaim claims one item per operation from a queue of b.N due items.
func BenchmarkClaim(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	now := time.Now()
	for i := range b.N {
		it := store.DueItem{ID: strconv.Itoa(i), Due: now.Add(-time.Duration(i%1000) * time.Second), Payload: []byte("p")}
		if _, err := s.Schedule(ctx, "bench", it); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		got, err := s.Claim(ctx, "bench", now, 1, time.Minute)
		if err != nil || len(got) != 1 {
			b.Fatalf("Claim = %d items, %v; want 1 item", len(got), err)
		}
	}
}

func BenchmarkBeginDelivery(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := s.BeginDelivery(ctx, strconv.Itoa(i), time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBeginDeliveryParallel mirrors the bolt benchmark of the same
// name, for comparison under concurrent callers.
func BenchmarkBeginDeliveryParallel(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	b.SetParallelism(16)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := s.BeginDelivery(ctx, strconv.FormatInt(n.Add(1), 10), time.Hour); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkSessionGetPut reads then writes a session, as one inbound
// message does.
func BenchmarkSessionGetPut(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	sess := store.Session{OpenID: "o1", Flow: "intake", Step: "details", Data: map[string]string{"category": "低保", "phone": "13800000000"}, LastInbound: time.Now()}
	if err := s.PutSession(ctx, sess, time.Hour); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		got, err := s.GetSession(ctx, "o1")
		if err != nil {
			b.Fatal(err)
		}
		got.UpdatedAt = time.Now()
		if err := s.PutSession(ctx, got, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
