package storetest

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"huimin/store"
)

// Bench runs the store's benchmarks: the operations on every message's
// path and the due-queue's. Each backend calls it with a fresh store.
func Bench(b *testing.B, newStore func(b *testing.B) Store) {
	for _, bm := range []struct {
		name string
		f    func(b *testing.B, s Store)
	}{
		{"Schedule", benchSchedule},
		{"ScheduleParallel", benchScheduleParallel},
		{"Claim", benchClaim},
		{"AckParallel", benchAckParallel},
		{"BeginDelivery", benchBeginDelivery},
		{"BeginDeliveryParallel", benchBeginDeliveryParallel},
		{"SessionGetPut", benchSessionGetPut},
		{"SessionLockSaveParallel", benchSessionLockSaveParallel},
	} {
		b.Run(bm.name, func(b *testing.B) { bm.f(b, newStore(b)) })
	}
}

func benchSchedule(b *testing.B, s Store) {
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

// benchScheduleParallel enqueues from 64 concurrent callers, as a sweep
// scheduling return visits or the outbox under load does, with 200-byte
// payloads.
func benchScheduleParallel(b *testing.B, s Store) {
	ctx := b.Context()
	due := time.Now()
	payload := make([]byte, 200)
	var n atomic.Int64
	b.SetParallelism(32) // 64 goroutines on two CPUs
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			it := store.DueItem{ID: strconv.FormatInt(i, 10), Due: due.Add(time.Duration(i%1000) * time.Second), Payload: payload}
			if _, err := s.Schedule(ctx, "bench", it); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchAckParallel acknowledges claimed items from 64 concurrent callers.
func benchAckParallel(b *testing.B, s Store) {
	ctx := b.Context()
	now := time.Now()
	for i := range b.N {
		if _, err := s.Schedule(ctx, "bench", store.DueItem{ID: strconv.Itoa(i), Due: now, Payload: []byte("p")}); err != nil {
			b.Fatal(err)
		}
	}
	var claimed []store.DueItem
	for len(claimed) < b.N {
		got, err := s.Claim(ctx, "bench", now, 1000, time.Hour)
		if err != nil || len(got) == 0 {
			b.Fatalf("Claim = %d items, %v", len(got), err)
		}
		claimed = append(claimed, got...)
	}
	var n atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			it := claimed[n.Add(1)-1]
			if err := s.Ack(ctx, "bench", it.ID, it.Attempt); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkClaim claims one item per operation from a queue of b.N due items.
func benchClaim(b *testing.B, s Store) {
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

func benchBeginDelivery(b *testing.B, s Store) {
	ctx := b.Context()
	b.ResetTimer()
	for i := range b.N {
		k := strconv.Itoa(i)
		if _, _, err := s.BeginDelivery(ctx, k, "1700000000:"+k, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// benchBeginDeliveryParallel shows what batching buys under a burst of
// concurrent webhook requests (bolt: one commit and fsync for many
// callers; Redis: one pipeline).
func benchBeginDeliveryParallel(b *testing.B, s Store) {
	ctx := b.Context()
	b.SetParallelism(16)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := strconv.FormatInt(n.Add(1), 10)
			if _, _, err := s.BeginDelivery(ctx, k, "1700000000:"+k, time.Hour); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchSessionGetPut reads then writes a session.
func benchSessionGetPut(b *testing.B, s Store) {
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

// benchSessionLockSaveParallel takes and saves sessions of many people at
// once, as the engine does for every message.
func benchSessionLockSaveParallel(b *testing.B, s Store) {
	ctx := b.Context()
	b.SetParallelism(16)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			openID, owner := "o"+strconv.FormatInt(i%1000, 10), strconv.FormatInt(i, 10)
			sess, _, locked, err := s.LockSession(ctx, openID, owner, time.Minute)
			if err != nil {
				b.Error(err)
				return
			}
			if !locked {
				continue
			}
			sess.OpenID, sess.UpdatedAt = openID, time.Now()
			if err := s.SaveSessionUnlock(ctx, sess, time.Hour, owner); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
