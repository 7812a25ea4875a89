package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"huimin/store"
)

func testConcurrency(t *testing.T, h Harness) {
	t0 := refTime()
	t.Run("ClaimEachItemOnce", func(t *testing.T) {
		const (
			n       = 2000
			workers = 8
			batch   = 16
			q       = "bulk"
		)
		s := h.New(t)
		ctx := t.Context()
		for i := range n {
			// Spread due times so ordering matters, all due by now.
			it := store.DueItem{ID: fmt.Sprintf("item-%04d", i), Due: t0.Add(time.Duration(i%97) * time.Second), Payload: []byte{byte(i), byte(i >> 8)}}
			if _, err := s.Schedule(ctx, q, it); err != nil {
				t.Fatalf("Schedule(%s): %v", it.ID, err)
			}
		}
		now := t0.Add(time.Hour)
		var (
			mu     sync.Mutex
			claims = make(map[string]int, n)
			wg     sync.WaitGroup
			start  = make(chan struct{})
		)
		for range workers {
			wg.Go(func() {
				<-start
				for {
					got, err := s.Claim(ctx, q, now, batch, time.Hour)
					if err != nil {
						t.Errorf("Claim: %v", err)
						return
					}
					if len(got) == 0 {
						return
					}
					if len(got) > batch {
						t.Errorf("Claim returned %d items, want at most %d", len(got), batch)
					}
					mu.Lock()
					for _, it := range got {
						claims[it.ID]++
						if it.Attempt != 1 {
							t.Errorf("item %s Attempt = %d, want 1", it.ID, it.Attempt)
						}
					}
					mu.Unlock()
					for _, it := range got {
						if err := s.Ack(ctx, q, it.ID, it.Attempt); err != nil {
							t.Errorf("Ack(%s, %d): %v", it.ID, it.Attempt, err)
						}
					}
				}
			})
		}
		close(start)
		wg.Wait()
		if len(claims) != n {
			t.Errorf("claimed %d distinct items, want %d", len(claims), n)
		}
		for id, c := range claims {
			if c != 1 {
				t.Errorf("item %s claimed %d times, want 1", id, c)
			}
		}
		st, err := s.QueueStats(ctx, q, now)
		check(t, "QueueStats", err)
		if st != (store.QueueStats{}) {
			t.Errorf("QueueStats after acking everything = %+v, want {0 0}", st)
		}
	})

	t.Run("BeginDeliveryOneFirst", func(t *testing.T) {
		const callers = 32
		s := h.New(t)
		firsts := race(t, callers, func(ctx context.Context, i int) (bool, error) {
			_, first, err := s.BeginDelivery(ctx, "dup-msg", "", time.Hour)
			return first, err
		})
		if firsts != 1 {
			t.Errorf("%d concurrent BeginDelivery calls got first=true %d times, want 1", callers, firsts)
		}
	})

	t.Run("NextSeqEachValueOnce", func(t *testing.T) { testNextSeqEachValueOnce(t, h) })
	t.Run("UpdateTicketRetryOnConflict", func(t *testing.T) { testUpdateTicketRetry(t, h) })
	t.Run("TakeBindCodeOneWinner", func(t *testing.T) { testTakeBindCodeOneWinner(t, h) })

	t.Run("AcquireLockOneWinner", func(t *testing.T) {
		const callers = 32
		s := h.New(t)
		winners := race(t, callers, func(ctx context.Context, i int) (bool, error) {
			return s.AcquireLock(ctx, "cron", fmt.Sprintf("replica-%d", i), time.Minute)
		})
		if winners != 1 {
			t.Errorf("%d concurrent AcquireLock calls by different owners won %d times, want 1", callers, winners)
		}
	})
}

// race starts n goroutines together on fn and counts the true results.
func race(t *testing.T, n int, fn func(ctx context.Context, i int) (bool, error)) int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		mu    sync.Mutex
		count int
	)
	for i := range n {
		wg.Go(func() {
			<-start
			ok, err := fn(t.Context(), i)
			if err != nil {
				t.Errorf("call %d: %v", i, err)
				return
			}
			if ok {
				mu.Lock()
				count++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	return count
}
